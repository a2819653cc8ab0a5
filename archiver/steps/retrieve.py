"""Retrieve steps: datasets started → retrieve (through the storage backend).

Like the archive steps, each step only touches datasets this job marked, so repeats are
harmless. The job's result lists one entry per DataBlock with where its data lands, and
the symlinks of the dataset that were not restored because they lead out of it
(``skippedLinks``, also in ``retrieveReturnMessage``). A dataset that fails for good has the
unverified ``.part`` files of an interrupted restore removed from its target
(``removedParts`` in ``retrieveReturnMessage``; what could not be removed is in the message).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from archiver.errors import PermanentSciCatError, PermanentStorageError
from archiver.plan import JobContext
from archiver.scicat.base import SciCatClient
from archiver.steps.archive import NO_STORAGE
from archiver.steps.claim import check
from archiver.steps.cleanup import refusal
from archiver.steps.facts import Facts, make, outcomes_of, work_and_docs
from archiver.steps.marks import (
    BUSY,
    RETRIEVE_FAILED,
    RETRIEVED,
    STARTED,
    JobLog,
    busy_message,
    busy_with,
    lifecycle,
    mark,
    may_retrieve,
    retrieve_state,
)
from archiver.steps.outcome import DatasetOutcome
from archiver.storage import work as work_module
from archiver.storage.base import Storage

#: Code written for a dataset that failed for a system reason.
SYSTEM_FAILURE = RETRIEVE_FAILED
#: Key of the symlinks not restored, in ``retrieveReturnMessage`` and the job's result.
SKIPPED_KEY = "skippedLinks"
#: Key of the unverified temporary files removed from a failed dataset's target.
PARTS_KEY = "removedParts"
#: Most skipped symlinks (or removed temporary files) recorded.
MAX_SKIPPED = 20


def datasets_started(
    client: SciCatClient, ctx: JobContext, log: JobLog, facts: Facts | None = None
) -> Facts:
    """Verify the claim, read the job's datasets (batched, with their DataBlocks) and mark
    each retrievable one ``started``; the others (absent, not retrievable, being retrieved
    by another job: ``datasetBusy``) are reported at the end. Returns the facts for
    ``retrieve``."""
    job, docs = client.job_with_datasets(ctx.job_id, ctx.pids, ("datablocks",))
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
        state = retrieve_state(dataset, ctx.job_id)
        if state == STARTED:
            work.append(pid)
            continue
        busy = busy_with(dataset, ctx.job_id, "retrieve") if state is None else None
        if busy:
            dlog.warning("dataset is being retrieved by job %s; reported as a user error", busy)
            settled[pid] = DatasetOutcome(pid, "user", BUSY, busy_message("retrieved", busy))
            continue
        if state is not None or not may_retrieve(dataset):
            if state is None:
                dlog.warning("dataset is not retrievable; reported as a user error")
            settled[pid] = outcome(client, NO_STORAGE, dataset, ctx, dlog)
            continue
        changes = {
            "retrieveStatusMessage": STARTED,
            "retrieveReturnMessage": mark(ctx.job_id, "retrieving", run=ctx.run),
        }
        client.update_lifecycle(pid, changes, dataset)
        dataset["datasetlifecycle"] = {**lifecycle(dataset), **changes}  # as SciCat has it now
        work.append(pid)
        dlog.info("retrieve started")
    return make(work, settled, docs)


def retrieve(
    client: SciCatClient,
    storage: Storage,
    ctx: JobContext,
    log: JobLog,
    pause: float = 0.0,
    facts: Facts | None = None,
) -> Facts:
    """Bring back each started dataset and record where it landed; returns the facts for
    ``finish`` (one result entry per DataBlock)."""
    work, docs = work_and_docs(client, ctx, facts, ("datablocks",), retrieve_state)
    settled = outcomes_of(facts)
    for pid in work:
        dlog = log.for_dataset(pid)
        dataset = docs.get(pid)
        if dataset is None or retrieve_state(dataset, ctx.job_id) != STARTED:
            continue
        if pause:
            time.sleep(pause)
        listed = dataset.get("datablocks")
        blocks = listed if isinstance(listed, list) else client.list_datablocks(pid)
        if not blocks:
            message = "the dataset has no DataBlocks to retrieve from"
            _fail(client, pid, ctx, message, "user")
            dlog.warning("no DataBlocks: %s", RETRIEVE_FAILED)
            settled[pid] = DatasetOutcome(pid, "user", RETRIEVE_FAILED, message)
            continue
        try:
            with work_module.step_run(job_id=ctx.job_id):
                restored = storage.retrieve(dataset, blocks, ctx.destination)
        except (PermanentStorageError, PermanentSciCatError) as exc:
            kind = exc.kind
            note, parts = discard_parts(storage, ctx, pid, dlog)
            _fail(client, pid, ctx, f"{exc}{note}", kind, **parts)
            dlog.error("retrieval failed: %s", exc)
            settled[pid] = DatasetOutcome(pid, kind, RETRIEVE_FAILED, f"{exc}{note}")
            continue
        verified = bool(restored) and all(r.verified for r in restored)
        location = restored[0].location if restored else ""
        skipped = [line for r in restored for line in r.skipped]
        details: dict[str, Any] = {"location": location}
        message = "retrieved"
        if skipped:
            message += f"; {len(skipped)} symlink(s) leading out of the dataset not created"
            details[SKIPPED_KEY] = skipped[:MAX_SKIPPED]
            dlog.warning("%s: %s", message, "; ".join(skipped[:MAX_SKIPPED]))
        changes: dict[str, Any] = {
            "retrieveStatusMessage": RETRIEVED,
            "retrieveReturnMessage": mark(ctx.job_id, message, run=ctx.run, **details),
        }
        if verified:
            changes["retrieveIntegrityCheck"] = True
        client.update_lifecycle(pid, changes, dataset)  # lifecycle as this job left it
        settled[pid] = DatasetOutcome(
            pid, summary={"blocks": _entries(pid, blocks, location, details.get(SKIPPED_KEY))}
        )
        dlog.info("retrieved %d DataBlock(s) to %s", len(restored), location)
    return make((), settled)


def _entries(
    pid: str, blocks: list[dict[str, Any]], location: str, skipped: Any
) -> list[dict[str, Any]]:
    """The job result's entries of one retrieved dataset: one per DataBlock, with the
    symlinks that were not created, if any."""
    extra = {SKIPPED_KEY: skipped} if skipped else {}
    return [
        {"datasetId": pid, "archiveId": b.get("archiveId"), "size": b.get("size"),
         "location": location, **extra}
        for b in blocks
    ]  # fmt: skip


def outcome(
    client: SciCatClient,
    storage: Storage,
    dataset: Mapping[str, Any],
    ctx: JobContext,
    log: JobLog,
) -> DatasetOutcome:
    """Classify one dataset at the end of the job; list its DataBlocks when retrieved."""
    pid = str(dataset["pid"])
    state = retrieve_state(dataset, ctx.job_id)
    life = lifecycle(dataset)
    returned = life.get("retrieveReturnMessage") or {}
    if state == RETRIEVED:
        location = str(returned.get("location", ""))
        listed = dataset.get("datablocks")
        blocks = listed if isinstance(listed, list) else client.list_datablocks(pid)
        return DatasetOutcome(
            pid, summary={"blocks": _entries(pid, blocks, location, returned.get(SKIPPED_KEY))}
        )
    if state == RETRIEVE_FAILED:
        kind = "user" if returned.get("error") == "user" else "system"
        return DatasetOutcome(pid, kind, RETRIEVE_FAILED, str(returned.get("message", "")))
    if state is not None:
        reason = f"left in {state!r} by an interrupted step"
        written = abandon(client, dataset, ctx, reason, log, storage)
        return DatasetOutcome(pid, "system", RETRIEVE_FAILED, written or reason)
    return DatasetOutcome(
        pid, "user", "notRetrievable", f"not retrievable (retrievable={life.get('retrievable')})"
    )


def abandon(
    client: SciCatClient,
    dataset: Mapping[str, Any],
    ctx: JobContext,
    reason: str,
    log: JobLog,
    storage: Storage | None = None,
) -> str | None:
    """If this job left the dataset ``started``, remove the unverified files of its target
    (with ``storage``) and mark the retrieval failed; return the message written (naming what
    was not removed, or why it could not be written), else None."""
    if retrieve_state(dataset, ctx.job_id) != STARTED:
        return None
    pid = str(dataset["pid"])
    note, details = discard_parts(storage, ctx, pid, log) if storage else ("", {})
    message = reason + note
    try:
        _fail(client, pid, ctx, message, "system", **details)
    except PermanentSciCatError as exc:
        message += f"; dataset {pid} left {STARTED!r}: {refusal('lifecycle', exc)}"
    log.error("retrieval failed: %s", message)
    return message


def discard_parts(
    storage: Storage, ctx: JobContext, pid: str, log: JobLog
) -> tuple[str, dict[str, Any]]:
    """Remove the unverified files an interrupted restore left in the failed dataset's target;
    return a clause for its message naming what could not be removed (``""`` if nothing) and
    the return-message details listing what was removed. Both are logged."""
    report = storage.discard_parts(pid, ctx.job_id, ctx.destination)
    details: dict[str, Any] = {}
    note = ""
    if report.removed:
        details[PARTS_KEY] = report.removed[:MAX_SKIPPED]
        log.warning(
            "removed %d unverified temporary file(s) of an interrupted restore: %s",
            len(report.removed),
            "; ".join(report.removed[:MAX_SKIPPED]),
        )
    if report.left:
        note = "; unverified temporary file(s) not removed: " + "; ".join(report.left[:MAX_SKIPPED])
        log.error("%s", note.removeprefix("; "))
    return note, details


def _fail(
    client: SciCatClient, pid: str, ctx: JobContext, message: str, error: str, **details: Any
) -> None:
    client.update_lifecycle(
        pid,
        {
            "retrieveStatusMessage": RETRIEVE_FAILED,
            "retrieveReturnMessage": mark(ctx.job_id, message, error=error, run=ctx.run, **details),
        },
    )
