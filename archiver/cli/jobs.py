"""``archiver job create`` and ``archiver job watch``: drive SciCat jobs by hand."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import click

from archiver.cli.context import CLIContext
from archiver.scicat import FINISHED_OK, DatasetRef, SciCatClient, connect

#: Exit code of ``job watch`` when the job did not finish in time (like timeout(1)).
EXIT_TIMEOUT = 124


def scicat_client(obj: CLIContext, login: bool = True) -> SciCatClient:
    """The SciCat client of the global options; logs in at once so bad credentials fail
    here with one clear line."""
    client = connect(obj.settings)
    if login:
        client.login()
    return client


def parse_params(items: tuple[str, ...]) -> dict[str, Any]:
    """``key=value`` pairs as a dict; a value that is valid JSON is decoded (``true``, ``3``,
    ``{"a":1}``), anything else stays a string."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not key=value", param_hint="--param")
        try:
            params[key.strip()] = json.loads(value)
        except ValueError:
            params[key.strip()] = value
    return params


def parse_files(items: tuple[str, ...], pids: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """``PID=path1,path2`` items as pid -> files (the pid must be one of the job's)."""
    files: dict[str, tuple[str, ...]] = {}
    for item in items:
        pid, sep, paths = item.partition("=")
        if not sep or pid not in pids:
            raise click.BadParameter(
                f"{item!r} must be PID=path[,path...] for one of the given PIDs",
                param_hint="--files",
            )
        files[pid] = files.get(pid, ()) + tuple(p for p in paths.split(",") if p)
    return files


@click.group("job")
def job_group() -> None:
    """Create SciCat jobs and follow them."""


@job_group.command("create")
@click.option(
    "--type",
    "job_type",
    type=click.Choice(["archive", "retrieve", "reset"]),
    required=True,
    help="job type (reset: SciCat v4 job types only)",
)
@click.argument("pids", nargs=-1, required=True)
@click.option(
    "--files",
    "files",
    multiple=True,
    metavar="PID=PATH[,PATH...]",
    help="only these files of a dataset (repeatable; default: all files)",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="a jobParams entry, e.g. destinationPath=/data/back (JSON values are decoded)",
)
@click.option("--contact-email", help="contact e-mail of the job (v3: emailJobInitiator)")
@click.pass_obj
def create_command(
    obj: CLIContext,
    job_type: str,
    pids: tuple[str, ...],
    files: tuple[str, ...],
    params: tuple[str, ...],
    contact_email: str | None,
) -> None:
    """Create one job for one or more datasets and print its id.

    \b
    archiver job create --type archive PID1 PID2
    archiver job create --type retrieve PID --param destinationPath=/data/back
    """
    chosen = parse_files(files, pids)
    refs = [DatasetRef(pid, chosen.get(pid, ())) for pid in dict.fromkeys(pids)]
    with scicat_client(obj) as client:
        job = client.create_job(job_type, refs, parse_params(params), contact_email)
    click.echo(job.id)


@job_group.command("watch")
@click.argument("job_id")
@click.option(
    "--interval", type=click.FloatRange(min=0.05), default=2.0, show_default=True,
    help="seconds between polls",
)  # fmt: skip
@click.option("--timeout", type=click.FloatRange(min=0), help="give up after this many seconds")
@click.option(
    "--quiet-after", type=click.FloatRange(min=1), default=60.0, show_default=True,
    help="print the status and the time since the last change after this many quiet seconds",
)  # fmt: skip
@click.option(
    "--retries/--no-retries", default=True, show_default=True,
    help="show retries of the job's steps (Celery task events on the broker)",
)  # fmt: skip
@click.pass_context
def watch_command(
    ctx: click.Context,
    job_id: str,
    interval: float,
    timeout: float | None,
    quiet_after: float,
    retries: bool,
) -> None:
    """Follow a job until it finishes, printing each change of its status and of its
    datasets' lifecycles, every retry of one of its steps (SciCat never hears of those:
    they come from the workers' task events on the broker) and, when nothing changed for
    --quiet-after seconds, the status and how long it has stood. Exit code 0 only for
    finishedSuccessful (124: timeout)."""
    from archiver.errors import WatchTimeout
    from archiver.watch import watch_job

    status = None
    with scicat_client(ctx.obj) as client, step_retries(ctx.obj, job_id, retries) as seen:
        try:
            events = watch_job(
                client, job_id, interval, timeout, retries=seen, quiet_after=quiet_after
            )
            for event in events:
                click.echo(str(event))
                if event.kind == "job" and event.field == "status":
                    status = str(event.new)
        except WatchTimeout as exc:
            click.echo(f"archiver: {exc}", err=True)
            ctx.exit(EXIT_TIMEOUT)
    click.echo(f"job {job_id} finished: {status}", err=True)
    ctx.exit(0 if status == FINISHED_OK else 1)


@contextlib.contextmanager
def step_retries(
    obj: CLIContext, job_id: str, wanted: bool
) -> Iterator[Callable[[], list[str]] | None]:
    """The retries of the job's steps as the broker's task events show them; ``None``
    (with one warning line) when not wanted or the broker does not answer."""
    if not wanted:
        yield None
        return
    from archiver.watch_events import StepRetries

    listener = StepRetries(obj.settings.broker, job_id)
    try:
        listener.start()
    except Exception as exc:  # noqa: BLE001 - the watch goes on without retries
        click.echo(
            f"archiver: retries not shown: no task events from the broker at "
            f"{obj.settings.broker_display} ({exc})",
            err=True,
        )
        listener.close()
        yield None
        return
    try:
        yield listener.take
    finally:
        listener.close()
