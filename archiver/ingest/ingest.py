"""Ingest one dataset folder: dataset, OrigDatablock(s), attachments; all or nothing.

Order of work: check ``transfer.yaml`` and count the files (no SciCat call yet), optionally
look the folder up by ``sourceFolder``, create the dataset, then one OrigDatablock per block
of files (checksums computed block by block) and the attachments. If any call after the
dataset's creation fails, the dataset is deleted again and :class:`IngestError` says what
failed and whether the clean-up worked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.errors import AuthError, IngestError, NotFoundError, SciCatError
from archiver.ingest import build, scan
from archiver.ingest.transfer import TransferSpec, load_transfer
from archiver.scicat.base import SciCatClient

log = logging.getLogger("archiver.ingest")

INGESTED, SKIPPED, DRY_RUN = "ingested", "skipped", "dry-run"


@dataclass(frozen=True)
class IngestOptions:
    """How to ingest: checksum algorithm, OrigDatablock limits, behaviour switches."""

    checksum: str = "sha256"
    max_files: int = 10_000
    max_bytes: int = 50 * 1024**3
    skip_existing: bool = False
    dry_run: bool = False
    attachments: bool = True
    #: Called after each file was read: ``(bytes done, files done, totals of the folder)``.
    progress: Callable[[int, int, scan.FolderTotals], None] | None = None


@dataclass
class IngestResult:
    """What happened to one folder."""

    folder: Path
    status: str
    pid: str | None = None
    files: int = 0
    size: int = 0
    blocks: int = 0
    reason: str = ""
    skipped_entries: list[str] = field(default_factory=list)


#: Receives each request a dry run would send: ``(method, what, body)``.
Emit = Callable[[str, str, Mapping[str, Any]], None]


def json_emitter(write: Callable[[str], None]) -> Emit:
    """An :data:`Emit` writing one JSON object per request (one line each)."""

    def emit(method: str, what: str, body: Mapping[str, Any]) -> None:
        write(json.dumps({"method": method, "request": what, "body": body}))

    return emit


def ingest_folder(
    client: SciCatClient | None,
    folder: str | Path,
    options: IngestOptions,
    emit: Emit | None = None,
    generation: str | None = None,
    blind_groups: set[str] | None = None,
) -> IngestResult:
    """Ingest ``folder``. ``client`` may be ``None`` only for a dry run (no look-up then).

    ``blind_groups`` (shared by the folders of one batch) collects the owner groups whose
    datasets the account turned out unable to read back; with ``skip_existing`` later
    folders of those groups are refused before anything is created.
    """
    spec = load_transfer(folder)
    found = scan.totals(spec.folder)
    result = IngestResult(spec.folder, INGESTED, files=found.files, size=found.size)
    result.skipped_entries = found.skipped
    if found.files == 0:
        raise IngestError(f"{spec.folder}: no files to ingest besides transfer.yaml")
    if options.skip_existing and client is not None:
        _check_visible(blind_groups, spec, client)
        existing = client.find_datasets({"sourceFolder": str(spec.folder)}, limit=1)
        if existing:
            result.status, result.pid = SKIPPED, str(existing[0].get("pid"))
            result.reason = f"already in SciCat as {result.pid}"
            return result
    gen = generation or (client.generation if client is not None else "next")
    body = build.dataset_body(spec, found, gen)
    if options.dry_run:
        _dry_run(spec, body, options, gen, emit or json_emitter(print), result)
        return result
    if client is None:
        raise IngestError("a SciCat client is needed unless --dry-run is given")
    created = client.create_dataset(body)
    result.pid = str(created["pid"])
    log.info("dataset %s created for %s", result.pid, spec.folder)
    try:
        _fill(client, spec, created, options, gen, result, found)
    except BaseException as exc:  # also Ctrl-C: never leave a half-made dataset
        error = _rolled_back(client, result.pid, exc)
        if not isinstance(exc, Exception):
            raise
        raise error from exc
    if options.skip_existing:
        _read_back(client, spec, result.pid, blind_groups)
    return result


def _blind_reason(spec: TransferSpec) -> str:
    group = spec.values["ownerGroup"]
    return (
        f"--skip-existing cannot see earlier copies: the account may create datasets of group "
        f"{group!r} (CREATE_DATASET_PRIVILEGED_GROUPS) but not read them; use an account in "
        f"{group!r} or in ADMIN_GROUPS"
    )


def _check_visible(blind: set[str] | None, spec: TransferSpec, client: SciCatClient) -> None:
    """Refuse before creating anything for a group this run already found unreadable."""
    if blind is not None and spec.values["ownerGroup"] in blind:
        raise IngestError(f"not ingested: {_blind_reason(spec)}")


def _read_back(client: SciCatClient, spec: TransferSpec, pid: str, blind: set[str] | None) -> None:
    """With --skip-existing, the account must be able to read what it creates; otherwise
    the look-up by ``sourceFolder`` found nothing only because it sees nothing."""
    try:
        client.get_dataset(pid)
    except (AuthError, NotFoundError):
        if blind is not None:
            blind.add(spec.values["ownerGroup"])
        raise IngestError(
            f"dataset {pid} created, but it may duplicate an earlier ingest: {_blind_reason(spec)}",
            pid,
        ) from None


def _fill(
    client: SciCatClient,
    spec: TransferSpec,
    dataset: Mapping[str, Any],
    options: IngestOptions,
    gen: str,
    result: IngestResult,
    found: scan.FolderTotals,
) -> None:
    pid = str(dataset["pid"])
    files = size = 0
    on_file = _progress(options, found)
    for block in scan.blocks(
        spec.folder, options.checksum, options.max_files, options.max_bytes, on_file
    ):
        client.create_origdatablock(
            pid, build.origdatablock_body(block, options.checksum, dataset, gen)
        )
        result.blocks += 1
        files, size = files + len(block.files), size + block.size
    result.files, result.size = files, size
    if options.attachments:
        for attachment in spec.attachments:
            client.create_attachment(pid, build.attachment_body(attachment, dataset))


def _progress(options: IngestOptions, found: scan.FolderTotals) -> Callable[[int], None] | None:
    report = options.progress
    if report is None:
        return None
    done = {"bytes": 0, "files": 0}

    def on_file(size: int) -> None:
        done["bytes"] += size
        done["files"] += 1
        report(done["bytes"], done["files"], found)

    return on_file


def _dry_run(
    spec: TransferSpec,
    body: Mapping[str, Any],
    options: IngestOptions,
    gen: str,
    emit: Emit,
    result: IngestResult,
) -> None:
    emit("POST", "dataset", body)
    for block in scan.blocks(spec.folder, options.checksum, options.max_files, options.max_bytes):
        emit("POST", "origdatablock", build.origdatablock_body(block, options.checksum, body, gen))
        result.blocks += 1
    if options.attachments:
        for attachment in spec.attachments:
            emit("POST", "attachment", build.attachment_body(attachment, body))
    result.status = DRY_RUN


def _why_not_deleted(exc: BaseException) -> str:
    """Why the roll-back DELETE failed; a refusal names the SciCat setting that allows it."""
    if isinstance(exc, SciCatError) and exc.status in (401, 403):
        return (
            f"SciCat refused the DELETE ({exc.status}); the ingesting account needs to be "
            "in DELETE_GROUPS, or a SciCat admin must remove it"
        )
    return str(exc) or type(exc).__name__


def _rolled_back(client: SciCatClient, pid: str, exc: BaseException) -> IngestError:
    reason = str(exc) or type(exc).__name__
    try:
        client.delete_dataset(pid)
    except Exception as cleanup:  # noqa: BLE001 - reported, the original error wins
        log.error("could not delete dataset %s after a failed ingest: %s", pid, cleanup)
        return IngestError(
            f"ingest failed ({reason}) and the dataset {pid} could NOT be deleted "
            f"({_why_not_deleted(cleanup)}); delete it by hand",
            pid,
        )
    log.warning("ingest failed, dataset %s deleted again: %s", pid, reason)
    return IngestError(f"ingest failed, dataset {pid} deleted again: {reason}")
