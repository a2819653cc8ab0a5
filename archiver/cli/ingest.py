"""``archiver ingest PATH``: one dataset folder into SciCat (dataset + OrigDatablocks)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import click

from archiver.cli.context import CLIContext
from archiver.ingest.ingest import DRY_RUN, SKIPPED, IngestOptions, ingest_folder, json_emitter
from archiver.ingest.scan import CHECKSUMS, FolderTotals
from archiver.ingest.transfer import load_transfer
from archiver.scicat import SciCatClient

DEFAULT_MAX_FILES = 10_000
DEFAULT_MAX_BYTES = 50 * 1024**3


def ingest_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options ``ingest`` and ``batch`` share."""
    options = [
        click.option(
            "--checksum", type=click.Choice(CHECKSUMS), default="sha256", show_default=True,
            help="per-file checksum algorithm (none: no checksums)",
        ),
        click.option(
            "--max-files", type=click.IntRange(min=1), default=DEFAULT_MAX_FILES,
            show_default=True, help="most files in one OrigDatablock",
        ),
        click.option(
            "--max-bytes", type=click.IntRange(min=1), default=DEFAULT_MAX_BYTES,
            show_default=True, help="largest total size of one OrigDatablock, in bytes",
        ),
        click.option(
            "--skip-existing", is_flag=True,
            help="skip a folder already in SciCat (same sourceFolder)",
        ),
        click.option(
            "--no-attachments", "no_attachments", is_flag=True,
            help="do not send the attachments listed in transfer.yaml",
        ),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def options_from(flags: dict[str, Any], dry_run: bool = False) -> IngestOptions:
    return IngestOptions(
        checksum=flags["checksum"],
        max_files=flags["max_files"],
        max_bytes=flags["max_bytes"],
        skip_existing=flags["skip_existing"],
        dry_run=dry_run,
        attachments=not flags["no_attachments"],
    )


def _dry_run_client(obj: CLIContext, skip_existing: bool) -> tuple[SciCatClient | None, str]:
    """A dry run writes nothing. It asks SciCat only for what it must: with
    ``--skip-existing`` and a configured SciCat it logs in to look folders up; otherwise the
    bodies are built for ``--scicat-api`` (``auto``: backend-next), with no request at all."""
    from archiver.cli.jobs import scicat_client

    settings = obj.settings
    configured = settings.scicat_url and (settings.scicat_token or settings.scicat_password)
    if skip_existing and configured:
        client = scicat_client(obj)
        return client, client.generation
    api = settings.scicat_api
    return None, "next" if api == "auto" else api


def progress_printer(label: str, every: float = 1.0) -> Callable[[int, int, FolderTotals], None]:
    """Plain progress lines on stderr (also when redirected), at most one per ``every`` s
    and one when the folder is done."""
    last = [time.monotonic()]

    def report(done: int, files: int, found: FolderTotals) -> None:
        now = time.monotonic()
        if files < found.files and now - last[0] < every:
            return
        last[0] = now
        share = 100 * done / found.size if found.size else 100.0
        click.echo(
            f"{label}: read {_size(done)} of {_size(found.size)} ({share:.0f} %), "
            f"{files} of {found.files} files",
            err=True,
        )

    return report


def _size(count: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"


@click.command("ingest")
@click.argument("path", type=click.Path(exists=True, file_okay=False))
@ingest_options
@click.option("--dry-run", is_flag=True, help="print the requests as JSON lines; send nothing")
@click.pass_obj
def ingest_command(obj: CLIContext, /, path: str, dry_run: bool, **flags: Any) -> None:
    """Create a raw dataset and its OrigDatablock(s) from PATH/transfer.yaml.

    transfer.yaml is checked first (every problem listed with its line). Files get their
    real size, modification time and a checksum; large folders are split over several
    OrigDatablocks. If anything fails after the dataset was created, it is deleted again.
    Prints the new dataset's pid.

    \b
    archiver --scicat-user ingestor --scicat-password-file pw ingest /data/run42
    """
    from archiver.cli.jobs import scicat_client

    options = options_from(flags, dry_run)
    load_transfer(path)  # every problem of transfer.yaml is reported before SciCat is asked
    if dry_run:
        client, generation = _dry_run_client(obj, options.skip_existing)
    else:
        options = dataclasses.replace(options, progress=progress_printer("ingest"))
        client = scicat_client(obj)
        generation = client.generation
    try:
        result = ingest_folder(client, path, options, json_emitter(click.echo), generation)
    finally:
        if client is not None:
            client.close()
    if result.skipped_entries:
        shown = ", ".join(result.skipped_entries[:5])
        more = len(result.skipped_entries) - 5
        click.echo(
            f"not listed ({len(result.skipped_entries)}: special files or symlinks leading out "
            f"of the folder): {shown}{f' and {more} more' if more > 0 else ''}",
            err=True,
        )
    if result.status == SKIPPED:
        click.echo(f"skipped {result.folder}: {result.reason}", err=True)
        click.echo(result.pid)
        return
    what = "would send" if result.status == DRY_RUN else f"dataset {result.pid}:"
    click.echo(
        f"{what} {result.files} files, {result.size} bytes in {result.blocks} OrigDatablock(s)",
        err=True,
    )
    if result.status != DRY_RUN:
        click.echo(result.pid)
