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
from archiver.steps.claim import check
from archiver.steps.cleanup import refusal, remove_datablocks, with_note
from archiver.steps.facts import Facts, make, outcomes_of, work_and_docs, work_of
from archiver.steps.marks import (
    ARCHIVE_FAILED,
    BUSY,
    MISSING_FILES,
    ON_ARCHIVE_DISK,
    STARTED,
    JobLog,
    archive_state,
    busy_message,
    busy_with,
    lifecycle,
    mark,
    may_archive,
)
from archiver.steps.outcome import DatasetOutcome
from archiver.storage import work as work_module
from archiver.storage.base import Storage

#: Code written for a dataset that failed for a system reason.
SYSTEM_FAILURE = ARCHIVE_FAILED
#: ``outcome`` of a dataset that needs no storage (settled before anything is archived).
NO_STORAGE: Any = None


def datasets_started(
    client: SciCatClient, ctx: JobContext, log: JobLog, facts: Facts | None = None
) -> Facts:
    """Verify the claim, read the job's datasets (one batched query per page, with their
    OrigDatablocks and DataBlocks) and mark the good ones ``started`` (not archivable, not
    retrievable). No OrigDatablocks is a user error (``missingFilesError``); a dataset that
    does not exist, is not archivable, or is being archived by another job (``datasetBusy``)
    is left untouched and reported at the end. Returns the facts for ``add_datablocks``."""
    job, docs = client.job_with_datasets(ctx.job_id, ctx.pids, ("origdatablocks", "datablocks"))
    check(job, ctx)
    work: list[str] = []
    settled: dict[str, DatasetOutcome] = {}
    for pid in dict.fromkeys(ctx.pids):
        dlog = log.for_dataset(pid)
        dataset = docs.get(pid)
        if dataset is None:
            dlog.warning("dataset does not exist; reported as a user error")
            settled[pid] = DatasetOutcome(pid, "user", "datasetNotFound", "no such dataset")
            continue
        state = archive_state(dataset, ctx.job_id)
        if state == STARTED:
            work.append(pid)  # marked by an earlier attempt of this job
            continue
        if state is not None or not may_archive(dataset):
            busy = busy_with(dataset, ctx.job_id)
            if busy:
                dlog.warning("dataset is being archived by job %s; reported as a user error", busy)
                settled[pid] = DatasetOutcome(pid, "user", BUSY, busy_message("archived", busy))
                continue
            settled[pid] = outcome(client, NO_STORAGE, dataset, ctx, dlog)
            if state is None:
                dlog.warning("dataset is not archivable; reported as a user error")
            continue
        if not dataset.get("origdatablocks"):
            message = "the dataset has no OrigDatablocks (no files)"
            _set(client, pid, ctx, MISSING_FILES, message, error="user")
            dlog.warning("no OrigDatablocks: %s", MISSING_FILES)
            settled[pid] = DatasetOutcome(pid, "user", MISSING_FILES, message)
            continue
        written = _set(client, pid, ctx, STARTED, "archiving", current=dataset)
        dataset["datasetlifecycle"] = {**lifecycle(dataset), **written}  # as SciCat has it now
        work.append(pid)
        dlog.info("archive started")
    return make(work, settled, docs)


def add_datablocks(
    client: SciCatClient,
    storage: Storage,
    ctx: JobContext,
    log: JobLog,
    pause: float = 0.0,
    facts: Facts | None = None,
) -> Facts:
    """Register each started dataset's DataBlocks, creating only those not there yet.

    Works from the facts of ``datasets_started`` (no read) when they carry the documents;
    a repeated run (retry, redelivery, continuation) reads the started datasets again, so it
    sees the DataBlocks an earlier run created. Returns the facts for ``datasets_archived``.
    """
    relations = ("origdatablocks", "datablocks")
    work, docs = work_and_docs(client, ctx, facts, relations, archive_state)
    settled = outcomes_of(facts)
    done: list[str] = []
    for pid in work:
        dlog = log.for_dataset(pid)
        dataset = docs.get(pid)
        if dataset is None or archive_state(dataset, ctx.job_id) != STARTED:
            continue
        if pause:
            time.sleep(pause)
        try:
            with work_module.step_run(job_id=ctx.job_id, storage_location=ctx.storage_location):
                created, total, summary = _register_blocks(client, storage, dataset)
        except (PermanentStorageError, PermanentSciCatError) as exc:
            # user: the dataset's files are missing or unreadable; system: anything else
            kind = exc.kind
            word = MISSING_FILES if kind == "user" else ARCHIVE_FAILED
            message = with_note(str(exc), remove_datablocks(client, pid))
            _set(client, pid, ctx, word, message, error=kind)
            dlog.error("dataset not archived (%s): %s", word, message)
            settled[pid] = DatasetOutcome(pid, kind, word, message)
            continue
        settled[pid] = DatasetOutcome(pid, summary=summary)  # final once marked archived
        done.append(pid)
        dlog.info("%d DataBlock(s) in place (%d new)", total, created)
    return make(done, settled)


def _register_blocks(
    client: SciCatClient, storage: Storage, dataset: Mapping[str, Any]
) -> tuple[int, int, dict[str, Any]]:
    """Create the missing DataBlocks; return (created, total, the dataset's job summary)."""
    pid = str(dataset["pid"])
    listed = dataset.get("datablocks")
    blocks = listed if isinstance(listed, list) else client.list_datablocks(pid)
    existing = {str(b.get("archiveId")) for b in blocks}
    origs = dataset.get("origdatablocks")
    if not isinstance(origs, list):
        origs = client.list_origdatablocks(pid)
    created = total = 0
    packed, files = _number(dataset, "packedSize"), _number(dataset, "numberOfFilesArchived")
    for block in storage.archive(dataset, origs):
        total += 1
        if block.archive_id in existing:
            continue
        try:
            client.create_datablock(pid, block.body, dataset)
        except PermanentSciCatError:
            # a duplicate run of this step (redelivery racing a continuation) may have
            # registered it a moment ago: that is success, anything else is not
            if block.archive_id not in {
                str(b.get("archiveId")) for b in client.list_datablocks(pid)
            }:
                raise
            continue
        created += 1
        # SciCat adds each new block's packed size and file count to the dataset's counters
        packed += _number(block.body, "packedSize")
        listed_files = block.body.get("dataFileList")
        files += len(listed_files) if isinstance(listed_files, list) else 0
    summary = {
        "pid": pid,
        "size": dataset.get("size"),
        "packedSize": packed,
        "numberOfFilesArchived": files,
    }
    return created, total, {k: v for k, v in summary.items() if v is not None}


def _number(doc: Mapping[str, Any], key: str) -> int:
    value = doc.get(key)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def datasets_archived(
    client: SciCatClient, ctx: JobContext, log: JobLog, facts: Facts | None = None
) -> Facts:
    """Mark each dataset whose DataBlocks are in place archived: retrievable, not
    archivable, on archive disk. From the facts of ``add_datablocks`` this only writes
    (a repeat writes the same values again); without facts it reads the datasets first.
    Returns the facts for ``finish``."""
    work = work_of(facts)
    settled = outcomes_of(facts)
    if work is None:
        docs = client.datasets(ctx.pids)
        work = [p for p, d in docs.items() if archive_state(d, ctx.job_id) == STARTED]
    for pid in work:
        client.update_lifecycle(
            pid,
            {
                "archivable": False,
                "retrievable": True,
                "archiveStatusMessage": ON_ARCHIVE_DISK,
                "archiveReturnMessage": mark(ctx.job_id, "archived", run=ctx.run),
            },
        )
        log.for_dataset(pid).info("dataset archived: %s", ON_ARCHIVE_DISK)
    return make((), settled)


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
    client: SciCatClient,
    pid: str,
    ctx: JobContext,
    word: str,
    message: str,
    error: str = "",
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the lifecycle ``word`` with this job's mark; return the changes written."""
    changes: dict[str, Any] = {
        "archivable": False,
        "retrievable": False,
        "archiveStatusMessage": word,
        "archiveReturnMessage": mark(
            ctx.job_id, message, run=ctx.run, **({"error": error} if error else {})
        ),
    }
    client.update_lifecycle(pid, changes, current)
    return changes
