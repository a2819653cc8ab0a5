"""Archive steps: datasets started → add DataBlocks → datasets archived.

Each step walks the job's datasets and works only on those this job marked (see
:mod:`archiver.steps.marks`), so repeating a step after a retry or a redelivery does no harm.
A dataset-level permanent error marks that dataset failed and the step goes on with the
others; transient errors propagate so the task retries.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from archiver.errors import PermanentSciCatError, PermanentStorageError
from archiver.plan import JobContext
from archiver.scicat.base import SciCatClient
from archiver.steps.cleanup import refusal, remove_datablocks, with_note
from archiver.steps.datasets import find_dataset
from archiver.steps.marks import (
    ARCHIVE_FAILED,
    MISSING_FILES,
    ON_ARCHIVE_DISK,
    STARTED,
    JobLog,
    archive_state,
    lifecycle,
    mark,
    may_archive,
)
from archiver.steps.outcome import DatasetOutcome
from archiver.storage import work
from archiver.storage.base import Storage

#: Code written for a dataset that failed for a system reason.
SYSTEM_FAILURE = ARCHIVE_FAILED


def datasets_started(client: SciCatClient, ctx: JobContext, log: JobLog) -> None:
    """Validate each dataset and mark the good ones ``started`` (not archivable, not
    retrievable). No OrigDatablocks is a user error (``missingFilesError``); a dataset that
    does not exist or is not archivable is left untouched and reported at the end."""
    for pid in ctx.pids:
        dlog = log.for_dataset(pid)
        dataset = find_dataset(client, pid)
        if dataset is None:
            dlog.warning("dataset does not exist; reported as a user error")
            continue
        if archive_state(dataset, ctx.job_id) is not None:
            continue  # marked by an earlier attempt of this job
        if not may_archive(dataset):
            dlog.warning("dataset is not archivable; reported as a user error")
            continue
        if not client.list_origdatablocks(pid):
            _set(
                client,
                pid,
                ctx,
                MISSING_FILES,
                "the dataset has no OrigDatablocks (no files)",
                error="user",
            )
            dlog.warning("no OrigDatablocks: %s", MISSING_FILES)
            continue
        _set(client, pid, ctx, STARTED, "archiving")
        dlog.info("archive started")


def add_datablocks(
    client: SciCatClient, storage: Storage, ctx: JobContext, log: JobLog, pause: float = 0.0
) -> None:
    """Register each started dataset's DataBlocks, creating only those not there yet."""
    for pid in ctx.pids:
        dlog = log.for_dataset(pid)
        dataset = find_dataset(client, pid)
        if dataset is None or archive_state(dataset, ctx.job_id) != STARTED:
            continue
        if pause:
            time.sleep(pause)
        try:
            with work.step_run(job_id=ctx.job_id):
                created, total = _register_blocks(client, storage, dataset)
        except (PermanentStorageError, PermanentSciCatError) as exc:
            # user: the dataset's files are missing or unreadable; system: anything else
            kind = getattr(exc, "kind", "system")
            word = MISSING_FILES if kind == "user" else ARCHIVE_FAILED
            message = with_note(str(exc), remove_datablocks(client, pid))
            _set(client, pid, ctx, word, message, error=kind)
            dlog.error("dataset not archived (%s): %s", word, message)
            continue
        dlog.info("%d DataBlock(s) in place (%d new)", total, created)


def _register_blocks(
    client: SciCatClient, storage: Storage, dataset: Mapping[str, Any]
) -> tuple[int, int]:
    pid = str(dataset["pid"])
    existing = {str(b.get("archiveId")) for b in client.list_datablocks(pid)}
    created = total = 0
    for block in storage.archive(dataset, client.list_origdatablocks(pid)):
        total += 1
        if block.archive_id in existing:
            continue
        try:
            client.create_datablock(pid, block.body)
        except PermanentSciCatError:
            # a duplicate run of this step (redelivery racing a continuation) may have
            # registered it a moment ago: that is success, anything else is not
            if block.archive_id not in {
                str(b.get("archiveId")) for b in client.list_datablocks(pid)
            }:
                raise
            continue
        created += 1
    return created, total


def datasets_archived(client: SciCatClient, ctx: JobContext, log: JobLog) -> None:
    """Mark each started dataset archived: retrievable, not archivable, on archive disk."""
    for pid in ctx.pids:
        dataset = find_dataset(client, pid)
        if dataset is None or archive_state(dataset, ctx.job_id) != STARTED:
            continue
        client.update_lifecycle(
            pid,
            {
                "archivable": False,
                "retrievable": True,
                "archiveStatusMessage": ON_ARCHIVE_DISK,
                "archiveReturnMessage": mark(ctx.job_id, "archived"),
            },
        )
        log.for_dataset(pid).info("dataset archived: %s", ON_ARCHIVE_DISK)


def outcome(
    client: SciCatClient,
    storage: Storage,
    dataset: Mapping[str, Any],
    ctx: JobContext,
    log: JobLog,
) -> DatasetOutcome:
    """Classify one dataset at the end of the job; a dataset still ``started`` is failed."""
    pid = str(dataset["pid"])
    state = archive_state(dataset, ctx.job_id)
    life = lifecycle(dataset)
    message = str((life.get("archiveReturnMessage") or {}).get("message", ""))
    if state == ON_ARCHIVE_DISK:
        summary = {
            "pid": pid,
            "size": dataset.get("size"),
            "packedSize": dataset.get("packedSize"),
            "numberOfFilesArchived": dataset.get("numberOfFilesArchived"),
        }
        return DatasetOutcome(pid, summary={k: v for k, v in summary.items() if v is not None})
    if state == MISSING_FILES:
        return DatasetOutcome(pid, "user", MISSING_FILES, message)
    if state == ARCHIVE_FAILED:
        return DatasetOutcome(pid, "system", ARCHIVE_FAILED, message)
    if state is not None:
        reason = f"left in {state!r} by an interrupted step"
        written = abandon(client, dataset, ctx, reason, log)
        return DatasetOutcome(pid, "system", ARCHIVE_FAILED, written or reason)
    return DatasetOutcome(
        pid,
        "user",
        "notArchivable",
        f"not archivable (archivable={life.get('archivable')}, "
        f"archiveStatusMessage={life.get('archiveStatusMessage')!r})"
        + (
            f"; after fixing the cause, `archiver reset {pid}` makes it archivable again"
            if life.get("archiveStatusMessage") in (MISSING_FILES, ARCHIVE_FAILED)
            else ""
        ),
    )


def abandon(
    client: SciCatClient,
    dataset: Mapping[str, Any],
    ctx: JobContext,
    reason: str,
    log: JobLog,
    storage: Storage | None = None,
) -> str | None:
    """If this job left the dataset ``started``, remove its DataBlocks (best effort) and mark
    it failed; return the message written (naming what could not be cleaned up), else None.

    A refused lifecycle update is not raised either: the returned message says so, and the
    job's final status names it. ``storage`` is not needed: nothing to remove was written.
    """
    if archive_state(dataset, ctx.job_id) != STARTED:
        return None
    pid = str(dataset["pid"])
    message = with_note(reason, remove_datablocks(client, pid))
    try:
        _set(client, pid, ctx, ARCHIVE_FAILED, message, error="system")
    except PermanentSciCatError as exc:
        message += f"; dataset {pid} left {STARTED!r}: {refusal('lifecycle', exc)}"
    log.error("archive failed: %s", message)
    return message


def _set(
    client: SciCatClient, pid: str, ctx: JobContext, word: str, message: str, error: str = ""
) -> None:
    changes: dict[str, Any] = {
        "archivable": False,
        "retrievable": False,
        "archiveStatusMessage": word,
        "archiveReturnMessage": mark(ctx.job_id, message, **({"error": error} if error else {})),
    }
    client.update_lifecycle(pid, changes)
