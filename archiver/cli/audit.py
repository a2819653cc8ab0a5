"""``archiver audit``: re-read archived DataBlocks and compare the catalogue with storage.

Read-only unless ``--record``. Prints a table (``--json``: a JSON document), progress as
plain lines on stderr, and exits 1 when anything was found, 0 when not. What is checked and
how: :mod:`archiver.audit.run`; where ``--record`` writes: :mod:`archiver.audit.report`.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from archiver.audit import report
from archiver.audit.readers import readers_for
from archiver.audit.run import Audit, Selection
from archiver.cli.context import CLIContext
from archiver.scicat import connect
from archiver.storage import get_storage


def _time(value: str | None, option: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date: give e.g. 2026-01-31 or 2026-01-31T12:00:00Z",
            param_hint=option,
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.command("audit")
@click.option("--dataset", "pids", multiple=True, help="audit only this dataset (repeatable)")
@click.option("--since", help="only DataBlocks created at or after this time (ISO 8601)")
@click.option("--until", help="only DataBlocks created before this time (ISO 8601)")
@click.option(
    "--sample",
    type=click.FloatRange(0.0, 1.0),
    default=1.0,
    show_default=True,
    help="fraction of the DataBlocks re-hashed; the others are only checked to exist",
)
@click.option("--seed", default="", help="seed of the sample (the same seed, the same choice)")
@click.option("--max-datasets", type=click.IntRange(1), default=10_000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print a JSON document instead of a table")
@click.option(
    "--record",
    is_flag=True,
    help="write each dataset's result into its lifecycle (archiveReturnMessage.fixity)",
)
@click.pass_obj
def audit_command(
    obj: CLIContext,
    pids: tuple[str, ...],
    since: str | None,
    until: str | None,
    sample: float,
    seed: str,
    max_datasets: int,
    as_json: bool,
    record: bool,
) -> None:
    """Re-hash archived files against their DataBlocks; find missing, damaged and orphaned
    objects. Exits 1 when anything is found."""
    settings = obj.settings
    selection = Selection(
        pids=pids,
        since=_time(since, "--since"),
        until=_time(until, "--until"),
        sample=sample,
        seed=seed,
        max_datasets=max_datasets,
    )
    readers = readers_for(get_storage(settings))

    def progress(line: str) -> None:
        click.echo(line, err=True)

    with connect(settings) as client:
        result = Audit(client, readers, selection, progress).run()
        click.echo(report.as_json(result) if as_json else report.table(result))
        if record:
            count = report.record(client, result)
            click.echo(f"audit: recorded on {count} dataset(s)", err=True)
    sys.exit(1 if result.findings else 0)
