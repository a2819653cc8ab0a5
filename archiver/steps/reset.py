"""Reset steps: put datasets back to archivable (``archiver reset`` and the ``reset`` job).

Resetting removes the dataset's DataBlocks (SciCat lowers ``packedSize`` and
``numberOfFilesArchived`` with each deletion) and writes the lifecycle values a freshly
ingested dataset has. It is idempotent: resetting a reset dataset changes nothing, and a
repeated step after a retry or redelivery does no harm. OrigDatablocks are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archiver.errors import NotFoundError
from archiver.plan import JobContext
from archiver.scicat.base import SciCatClient
from archiver.steps.cleanup import Cleanup, remove_datablocks
from archiver.steps.marks import DATASET_CREATED, JOB_KEY, JobLog, lifecycle
from archiver.steps.outcome import DatasetOutcome
from archiver.storage.base import Storage

#: Code written for a dataset that could not be reset.
SYSTEM_FAILURE = "resetFailed"

#: The lifecycle of a dataset that may be archived again (backend.md section 3.1, reset row).
RESET_LIFECYCLE: dict[str, Any] = {
    "archivable": True,
    "retrievable": False,
    "publishable": False,
    "archiveStatusMessage": DATASET_CREATED,
    "retrieveStatusMessage": "",
    "retrieveIntegrityCheck": False,
    "archiveReturnMessage": {},
    "retrieveReturnMessage": {},
}


def is_reset(dataset: Mapping[str, Any]) -> bool:
    """True when the dataset's lifecycle has every reset value."""
    life = lifecycle(dataset)
    return all(life.get(key) == value for key, value in RESET_LIFECYCLE.items())


def reset_dataset(client: SciCatClient, pid: str, job_id: str | None = None) -> Cleanup:
    """Delete the dataset's DataBlocks (best effort) and reset its lifecycle.

    The lifecycle is reset even when SciCat refuses to delete a DataBlock; the leftovers and
    why are then written into ``archiveReturnMessage.message`` (with ``job_id`` when a job
    does the reset) and returned in the :class:`Cleanup`. Raises
    :class:`~archiver.errors.NotFoundError` when the dataset does not exist.
    """
    cleanup = remove_datablocks(client, pid)
    wanted = dict(RESET_LIFECYCLE)
    if cleanup.left:
        note = {"message": f"reset; {cleanup.note()}"[:1000], "error": "system"}
        wanted["archiveReturnMessage"] = {**({JOB_KEY: job_id} if job_id else {}), **note}
    life = lifecycle(client.get_dataset(pid))
    if any(life.get(key) != value for key, value in wanted.items()):
        client.update_lifecycle(pid, wanted)
    return cleanup


def datasets_reset(client: SciCatClient, ctx: JobContext, log: JobLog) -> None:
    """Reset every dataset of the job; missing datasets are reported at the end."""
    for pid in ctx.pids:
        dlog = log.for_dataset(pid)
        try:
            cleanup = reset_dataset(client, pid, ctx.job_id)
        except NotFoundError:
            dlog.warning("dataset does not exist; reported as a user error")
            continue
        if cleanup.left:
            dlog.error("lifecycle reset, but: %s", cleanup.note())
        else:
            dlog.info("dataset reset (%d DataBlock(s) removed)", cleanup.removed)


def outcome(
    client: SciCatClient,
    storage: Storage,
    dataset: Mapping[str, Any],
    ctx: JobContext,
    log: JobLog,
) -> DatasetOutcome:
    """A dataset is done when its lifecycle is reset and it has no DataBlocks left."""
    pid = str(dataset["pid"])
    life = lifecycle(dataset)
    note = life.get("archiveReturnMessage") or {}
    if is_reset(dataset):
        return DatasetOutcome(pid, summary={"pid": pid, "archivable": True})
    if _reset_but_for_note(life) and note.get(JOB_KEY) == ctx.job_id:
        return DatasetOutcome(
            pid, "system", SYSTEM_FAILURE, f"lifecycle reset, {note.get('message', '')}"
        )
    return DatasetOutcome(
        pid,
        "system",
        SYSTEM_FAILURE,
        f"not reset: archivable={life.get('archivable')}, "
        f"archiveStatusMessage={life.get('archiveStatusMessage')!r}",
    )


def _reset_but_for_note(life: Mapping[str, Any]) -> bool:
    return all(
        life.get(key) == value
        for key, value in RESET_LIFECYCLE.items()
        if key != "archiveReturnMessage"
    )


def abandon(
    client: SciCatClient,
    dataset: Mapping[str, Any],
    ctx: JobContext,
    reason: str,
    log: JobLog,
    storage: Storage | None = None,
) -> str | None:
    """A failed reset leaves nothing to undo (every step of it is a goal state), in SciCat or
    in ``storage``."""
    return None
