"""``archiver selftest``: archive, retrieve and reset one scratch dataset end to end.

For operators commissioning a site. It writes to SciCat, so it runs only when asked: it
checks the account's rights (as ``archiver health`` does), ingests a tiny scratch dataset
(two files in a fresh folder), submits an archive job, a retrieve job and a reset, waits for
each to finish (through the deployed bridge/poller and workers, or with ``--in-process`` in
this process), checks the dataset's lifecycle after each, and removes the dataset again.
Every stage prints one line (``ok`` or ``FAIL``, what was seen, how long it took); clean-up
runs whatever happened before and names what it could not remove (``WARN``: an account
outside ``DELETE_GROUPS`` may not delete). Exit code 0 only when every stage up to the reset
passed.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import yaml

from archiver.cli.context import CLIContext
from archiver.errors import ArchiverError, NotFoundError, StageFailed
from archiver.scicat.base import FINISHED_OK, DatasetRef, SciCatClient
from archiver.scicat.rights import FAIL, check_rights, identity
from archiver.steps.marks import ON_ARCHIVE_DISK, RETRIEVED

#: Seconds a job may take by default before the stage fails.
DEFAULT_TIMEOUT = 300.0


@dataclass
class Stage:
    """One printed line: the stage, whether it passed, what it saw, how long it took."""

    name: str
    ok: bool
    detail: str
    seconds: float
    #: A failure that does not fail the run (printed WARN): leftovers of the clean-up.
    warn_only: bool = False

    def line(self) -> str:
        word = "ok" if self.ok else "WARN" if self.warn_only else "FAIL"
        return f"{self.name:<9} {word:<5} {self.detail} ({self.seconds:.1f} s)"


def scratch_folder(parent: Path, group: str, email: str) -> Path:
    """A dataset folder with two small files and its transfer.yaml."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    folder = parent / f"archiver-selftest-{stamp}"
    (folder / "raw").mkdir(parents=True)
    (folder / "raw" / "frame-1.dat").write_bytes(b"scicat-archiver selftest\n" * 64)
    (folder / "notes.txt").write_text("scratch dataset of archiver selftest\n", encoding="utf-8")
    spec = {
        "datasetName": f"archiver selftest {stamp}",
        "description": "scratch dataset written and removed again by archiver selftest",
        "contactEmail": email,
        "creationLocation": "archiver selftest",
        "ownerGroup": group,
        "owners": [{"name": "archiver selftest", "email": email}],
        "principalInvestigators": ["archiver selftest"],
        "keywords": ["archiver-selftest"],
    }
    (folder / "transfer.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    return folder


class SelfTest:
    """The stages, sharing one client, the scratch dataset's pid and a way to run jobs."""

    def __init__(
        self,
        client: SciCatClient,
        run_job: Callable[[str], str],
        echo: Callable[[str], None],
    ) -> None:
        self.client = client
        self.run_job = run_job
        self.echo = echo
        self.pid: str | None = None
        self.stages: list[Stage] = []

    def stage(self, name: str, body: Callable[[], str], warn_only: bool = False) -> bool:
        started = time.monotonic()
        try:
            detail, ok = body(), True
        except (ArchiverError, OSError) as exc:
            detail, ok = " ".join(str(exc).split())[:400], False
        self.stages.append(Stage(name, ok, detail, time.monotonic() - started, warn_only))
        self.echo(self.stages[-1].line())
        return ok

    # -- stages --------------------------------------------------------------------------
    def rights(self, username: str) -> str:
        failed = [r for r in check_rights(self.client, username) if r.level == FAIL]
        if failed:
            raise StageFailed("; ".join(f"{r.name}: {r.detail}" for r in failed))
        return f"the account {username} may do what the pipeline needs"

    def ingest(self, parent: Path, group: str, email: str) -> str:
        from archiver.ingest.ingest import IngestOptions, ingest_folder

        folder = scratch_folder(parent, group, email)
        result = ingest_folder(self.client, folder, IngestOptions(attachments=False))
        self.pid = result.pid
        return f"dataset {self.pid} ({result.files} files, group {group}) in {folder}"

    def job(self, job_type: str, check: Callable[[dict[str, Any]], str | None]) -> str:
        assert self.pid is not None
        job = self.client.create_job(job_type, [DatasetRef(self.pid)])
        status = self.run_job(job.id)
        if status != FINISHED_OK:
            message = self.client.get_job(job.id).message
            raise StageFailed(f"{job_type} job {job.id} ended {status}: {message}")
        problem = check(self.client.get_dataset(self.pid))
        if problem:
            raise StageFailed(f"{job_type} job {job.id} finished, but {problem}")
        return f"{job_type} job {job.id} {status}"

    def cleanup(self) -> str:
        if self.pid is None:
            return "nothing to remove"
        left: list[str] = []
        for block in self.client.list_datablocks(self.pid):
            block_id = str(block.get("_id") or block.get("id"))
            try:
                self.client.delete_datablock(self.pid, block_id)
            except NotFoundError:
                continue
            except ArchiverError as exc:
                left.append(f"DataBlock {block_id} ({exc})")
        try:
            self.client.delete_dataset(self.pid)
        except ArchiverError as exc:
            left.append(f"dataset {self.pid} ({exc})")
        if left:
            raise StageFailed("could not remove, delete by hand: " + "; ".join(left))
        return f"dataset {self.pid} and its blocks removed"


def _archived(dataset: dict[str, Any]) -> str | None:
    life = dataset.get("datasetlifecycle") or {}
    if life.get("archiveStatusMessage") != ON_ARCHIVE_DISK or life.get("retrievable") is not True:
        return f"its lifecycle is {life.get('archiveStatusMessage')!r}, not {ON_ARCHIVE_DISK!r}"
    return None


def _retrieved(dataset: dict[str, Any]) -> str | None:
    life = dataset.get("datasetlifecycle") or {}
    if life.get("retrieveStatusMessage") != RETRIEVED:
        return f"retrieveStatusMessage is {life.get('retrieveStatusMessage')!r}, not {RETRIEVED!r}"
    return None


def _reset(dataset: dict[str, Any]) -> str | None:
    life = dataset.get("datasetlifecycle") or {}
    if life.get("archivable") is not True:
        return f"the dataset is not archivable again ({life.get('archiveStatusMessage')!r})"
    return None


def _job_runner(obj: CLIContext, client: SciCatClient, in_process: bool, timeout: float) -> Any:
    if in_process:
        from archiver.ingest.inprocess import run_job
        from archiver.storage import get_storage

        storage = get_storage(obj.settings)
        return lambda job_id: run_job(client, storage, job_id)

    from archiver.errors import WatchTimeout
    from archiver.watch import final_status, watch_job

    def wait(job_id: str) -> str:
        try:
            events = list(watch_job(client, job_id, interval=1.0, timeout=timeout))
        except WatchTimeout as exc:
            raise StageFailed(
                f"{exc}: is a bridge (or poller) and a worker running for this SciCat?"
            ) from None
        return final_status(events) or "unknown"

    return wait


@click.command("selftest")
@click.option("--group", help="ownerGroup of the scratch dataset (default: the account's first)")
@click.option(
    "--folder",
    type=click.Path(file_okay=False),
    help="where to write the scratch files; the workers must read it (default: a temp folder)",
)
@click.option("--in-process", is_flag=True, help="run the jobs here, not on the deployed workers")
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="seconds each job may take",
)
@click.pass_context
def selftest_command(
    ctx: click.Context, group: str | None, folder: str | None, in_process: bool, timeout: float
) -> None:
    """Archive, retrieve and reset one scratch dataset end to end, then remove it.

    Writes to SciCat (a dataset, three jobs): meant for commissioning a site, not for
    health checks. Without --in-process the deployed bridge (or poller) and workers must be
    running and read the scratch folder (give --folder on a shared path).

    \b
    archiver selftest --folder /data/archiver-selftest
    archiver selftest --in-process
    """
    from archiver.cli.jobs import scicat_client
    from archiver.steps.reset import reset_dataset

    obj: CLIContext = ctx.obj
    with scicat_client(obj) as client:
        username = obj.settings.scicat_user or "the token's account"
        who = identity(client, username)
        owner_group = group or (who.groups[0] if who.groups else None)
        if owner_group is None:
            raise click.UsageError("the account's groups are unknown here: give --group")
        http = getattr(client, "http", None)  # adapters have it; other clients may not
        email = http and http.account_email
        test = SelfTest(client, _job_runner(obj, client, in_process, timeout), click.echo)
        with tempfile.TemporaryDirectory(prefix="archiver-selftest-") as temp:
            parent = Path(folder) if folder else Path(temp)
            parent.mkdir(parents=True, exist_ok=True)
            passed = (
                test.stage("rights", lambda: test.rights(who.username))
                and test.stage(
                    "ingest",
                    lambda: test.ingest(parent, owner_group, email or "selftest@example.org"),
                )
                and test.stage("archive", lambda: test.job("archive", _archived))
                and test.stage("retrieve", lambda: test.job("retrieve", _retrieved))
                and test.stage("reset", lambda: _reset_stage(test, client, reset_dataset))
            )
            # Leftovers are reported; they do not mean the pipeline failed (under scicatlive's
            # settings only DELETE_GROUPS may delete datasets and DataBlocks).
            test.stage("cleanup", test.cleanup, warn_only=True)
    ctx.exit(0 if passed else 1)


def _reset_stage(test: SelfTest, client: SciCatClient, reset_dataset: Any) -> str:
    """A SciCat ``reset`` job where the backend has configurable jobs, else ``archiver
    reset``'s own function."""
    if client.generation == "next":
        return test.job("reset", _reset)
    assert test.pid is not None
    reset_dataset(client, test.pid)
    problem = _reset(client.get_dataset(test.pid))
    if problem:
        raise StageFailed(problem)
    return f"dataset {test.pid} reset (archiver reset; no reset jobs on this backend)"
