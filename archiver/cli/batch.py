"""``archiver batch PARENT``: ingest every dataset folder under PARENT and archive each."""

from __future__ import annotations

import sys
from typing import Any

import click

from archiver.cli.context import CLIContext
from archiver.cli.ingest import ingest_options, options_from


def progress_line(number: int, total: int, row: Any) -> str:
    """``[2/3] b-broken: failed (keywords must be a list)`` for a finished folder."""
    detail = row.reason or " ".join(x for x in (row.pid, row.job_id and f"job {row.job_id}") if x)
    return f"[{number}/{total}] {row.folder}: {row.status}" + (f" ({detail})" if detail else "")


@click.command("batch")
@click.argument("parent", type=click.Path(exists=True, file_okay=False))
@ingest_options
@click.option(
    "--in-process",
    is_flag=True,
    help="run each archive chain here, without RabbitMQ (API checks, demos)",
)
@click.option("--contact-email", help="contact e-mail of the archive jobs")
@click.pass_context
def batch_command(
    ctx: click.Context, /, parent: str, in_process: bool, contact_email: str | None, **flags: Any
) -> None:
    """Ingest each subfolder of PARENT that has a transfer.yaml and create an archive job
    for it in SciCat (the running pipeline then archives it).

    One failing folder never stops the batch. A table of ingested, skipped and failed
    folders (with reasons) ends the run; the exit code is 1 if any folder failed. Progress
    goes to stderr: a bar on a terminal, otherwise one line per finished folder.

    \b
    archiver batch --skip-existing /data/incoming
    archiver batch --in-process examples/datasets
    """
    from archiver.cli.jobs import scicat_client
    from archiver.ingest.batch import BatchReport, dataset_folders, run_batch
    from archiver.storage import get_storage

    obj: CLIContext = ctx.obj
    folders = dataset_folders(parent)
    if not folders:
        click.echo(f"archiver: no subfolder of {parent} has a transfer.yaml", err=True)
        ctx.exit(1)
    storage = get_storage(obj.settings) if in_process else None
    report = BatchReport()
    with scicat_client(obj) as client:
        rows = run_batch(client, folders, options_from(flags), storage, contact_email)
        if sys.stderr.isatty():
            with click.progressbar(length=len(folders), label="datasets", file=sys.stderr) as bar:
                for row in rows:
                    report.rows.append(row)
                    bar.update(1)
        else:  # a log file or a pipe: one plain line per folder, as it finishes
            click.echo(f"datasets: {len(folders)} folder(s) under {parent}", err=True)
            for number, row in enumerate(rows, 1):
                report.rows.append(row)
                click.echo(progress_line(number, len(folders), row), err=True)
    click.echo(report.table())
    ctx.exit(1 if report.failed else 0)
