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
from archiver.steps.datasets import remove_datablocks
from archiver.steps.marks import DATASET_CREATED, JobLog, lifecycle
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


def reset_dataset(client: SciCatClient, pid: str) -> int:
    """Delete the dataset's DataBlocks and reset its lifecycle; return how many blocks went.

    Raises :class:`~archiver.errors.NotFoundError` when the dataset does not exist.
    """
    removed = remove_datablocks(client, pid)
    if not is_reset(client.get_dataset(pid)):
        client.update_lifecycle(pid, RESET_LIFECYCLE)
    return removed


def datasets_reset(client: SciCatClient, ctx: JobContext, log: JobLog) -> None:
    """Reset every dataset of the job; missing datasets are reported at the end."""
    for pid in ctx.pids:
        dlog = log.for_dataset(pid)
        try:
            removed = reset_dataset(client, pid)
        except NotFoundError:
            dlog.warning("dataset does not exist; reported as a user error")
            continue
        dlog.info("dataset reset (%d DataBlock(s) removed)", removed)


def outcome(
    client: SciCatClient,
    storage: Storage,
    dataset: Mapping[str, Any],
    ctx: JobContext,
    log: JobLog,
) -> DatasetOutcome:
    """A dataset is done when its lifecycle is reset and it has no DataBlocks left."""
    pid = str(dataset["pid"])
    left = len(client.list_datablocks(pid))
    if is_reset(dataset) and left == 0:
        return DatasetOutcome(pid, summary={"pid": pid, "archivable": True})
    life = lifecycle(dataset)
    return DatasetOutcome(
        pid,
        "system",
        SYSTEM_FAILURE,
        f"not reset: {left} DataBlock(s) left, archivable={life.get('archivable')}, "
        f"archiveStatusMessage={life.get('archiveStatusMessage')!r}",
    )


def abandon(
    client: SciCatClient, dataset: Mapping[str, Any], ctx: JobContext, reason: str, log: JobLog
) -> bool:
    """A failed reset leaves nothing to undo (every step of it is a goal state)."""
    return False
