"""``archiver reset PID...``: put datasets back to archivable after a failed archive."""

from __future__ import annotations

import click

from archiver.cli.context import CLIContext
from archiver.errors import NotFoundError, SciCatError


@click.command("reset")
@click.argument("pids", nargs=-1, required=True)
@click.pass_context
def reset_command(ctx: click.Context, pids: tuple[str, ...]) -> None:
    """Remove the datasets' DataBlocks and reset their lifecycle (archivable, not
    retrievable, archiveStatusMessage datasetCreated, return messages empty).

    OrigDatablocks are kept. Safe to repeat. The account needs the rights to delete
    DataBlocks and update lifecycles (admin, or archivemanager where configured). When
    SciCat refuses to delete a DataBlock, the lifecycle is reset all the same and the
    leftover blocks are named (with the setting that would allow it).
    Exit code 1 if any dataset could not be reset completely.

    \b
    archiver reset PID.SAMPLE.PREFIX/1234 PID.SAMPLE.PREFIX/5678
    """
    from archiver.cli.jobs import scicat_client
    from archiver.steps.reset import reset_dataset

    obj: CLIContext = ctx.obj
    failed = 0
    with scicat_client(obj) as client:
        for pid in dict.fromkeys(pids):
            try:
                cleanup = reset_dataset(client, pid)
            except NotFoundError:
                click.echo(f"{pid}: no such dataset", err=True)
                failed += 1
                continue
            except SciCatError as exc:
                click.echo(f"{pid}: not reset: {exc}", err=True)
                failed += 1
                continue
            if cleanup.left:
                click.echo(f"{pid}: lifecycle reset, but {cleanup.note()}", err=True)
                failed += 1
                continue
            click.echo(f"{pid}: reset ({cleanup.removed} DataBlock(s) removed)")
    ctx.exit(1 if failed else 0)
