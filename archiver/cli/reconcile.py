"""``archiver reconcile``: start or fail the jobs nothing is working on, and say what it did."""

from __future__ import annotations

import click
from kombu.exceptions import OperationalError

from archiver.cli.context import CLIContext
from archiver.errors import SciCatError
from archiver.intake.reconcile import Action

HEADER = ("JOB", "TYPE", "STATUS", "AGE", "ACTION", "REASON")
DRY = {"start": "would start", "resume": "would resume", "fail": "would fail", "skip": "skip"}


def table(actions: list[Action], dry_run: bool) -> str:
    """The actions as an aligned plain-text table (job ids and reasons printed escaped)."""
    rows = [HEADER] + [
        (
            a.job_id.encode("unicode_escape").decode("ascii"),
            a.type,
            a.status,
            f"{a.age:.0f}s",
            DRY[a.action] if dry_run else a.action,
            a.reason,
        )
        for a in actions
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
        for row in rows
    )


@click.command("reconcile")
@click.option("--once", is_flag=True, help="one round, then exit")
@click.option("--dry-run", is_flag=True, help="say what would be done; change nothing")
@click.pass_obj
def reconcile_command(obj: CLIContext, once: bool, dry_run: bool) -> None:
    """Start jobs left jobSubmitted, resume or fail jobs left inProgress without a chain.

    A job counts as stuck when it is jobSubmitted for ARCHIVER_RECONCILE_SUBMITTED_GRACE
    seconds, or inProgress without an update for ARCHIVER_RECONCILE_STALE_AFTER seconds
    while no worker holds a task of it. Reads at most ARCHIVER_RECONCILE_LIMIT jobs of each
    status per round. Without --once: a round every ARCHIVER_RECONCILE_INTERVAL seconds.
    Safe beside the bridges' and pollers' own reconcilers: each job's claim decides.
    """
    from archiver import app, runtime
    from archiver.intake.reconcile import Reconciler
    from archiver.scicat import connect

    settings = obj.settings
    if not once and settings.reconcile_interval <= 0:
        raise click.UsageError("ARCHIVER_RECONCILE_INTERVAL is 0: give --once, or an interval")
    runtime.configure(settings)
    client = connect(settings)
    reconciler = Reconciler(app, settings, lambda: client)
    while True:
        try:
            actions = reconciler.round(dry_run=dry_run)
        except OperationalError as exc:
            line = f"the broker does not answer ({exc}): check ARCHIVER_BROKER_URL"
            if once:
                raise click.ClickException(line) from None
            click.echo(f"round failed, trying again next round: {line}", err=True)
        except SciCatError as exc:
            if once:
                raise
            click.echo(f"round failed, trying again next round: {exc}", err=True)
        else:
            click.echo(table(actions, dry_run) if actions else "no stuck jobs")
        if once or not reconciler.wait():
            return
