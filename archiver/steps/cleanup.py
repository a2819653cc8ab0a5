"""Best-effort clean-up on the failure paths: remove DataBlocks, say why one stayed.

A failure path (a dataset that failed, a chain that failed for good, a reset) must always
reach its final words: the job's final status and each dataset's lifecycle. Removing
DataBlocks is part of the clean-up, not of those words: SciCat may refuse it (with
scicatlive's ``DELETE_GROUPS=archivemanager`` even ``admin`` gets 403 on the DELETE). Such a
refusal is recorded as a :class:`Leftover` that names the block and the setting that would
allow it, and the failure path goes on. Transient errors still propagate (the task retries).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from archiver.errors import NotFoundError, PermanentSciCatError, SciCatError
from archiver.scicat.base import SciCatClient

#: What SciCat's group settings must grant for each clean-up action (backend.md section 10).
GRANTS = {
    "delete": "the archiver's account needs to be in DELETE_GROUPS",
    "read blocks": (
        "the archiver's account needs to be in ADMIN_GROUPS (or in the dataset's "
        "ownerGroup/accessGroups) to read its DataBlocks"
    ),
    "read dataset": (
        "the archiver's account needs to be in ADMIN_GROUPS (or in the dataset's "
        "ownerGroup/accessGroups) to read it"
    ),
    "lifecycle": (
        "the archiver's account needs to be in ADMIN_GROUPS (or in the dataset's "
        "ownerGroup) to update its lifecycle"
    ),
}


def refusal(action: str, exc: SciCatError) -> str:
    """Why SciCat refused ``action`` and what would allow it, in one readable clause."""
    status = f"HTTP {exc.status}" if exc.status is not None else "no answer"
    if exc.status in (401, 403):
        return f"SciCat refused the {_VERB.get(action, action)} ({exc.status}); {GRANTS[action]}"
    return f"SciCat refused the {_VERB.get(action, action)} ({status}: {exc.message})"


_VERB = {
    "delete": "DELETE",
    "read blocks": "read of its DataBlocks",
    "read dataset": "read of the dataset",
    "lifecycle": "lifecycle update",
}


@dataclass
class Cleanup:
    """What a clean-up of one dataset did and what it had to leave behind."""

    pid: str
    removed: int = 0
    left: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.left

    def note(self) -> str:
        """``""`` when complete, else one line naming every leftover and why."""
        return "; ".join(self.left)


def block_id(block: Mapping[str, Any]) -> str:
    return str(block.get("_id") or block.get("id") or "")


def remove_datablocks(
    client: SciCatClient, pid: str, blocks: Iterable[Mapping[str, Any]] | None = None
) -> Cleanup:
    """Delete the dataset's DataBlocks (``blocks`` when the caller already read them).

    A block that vanished meanwhile (a repeated step) counts as gone. A refused read or
    DELETE is recorded in the returned :class:`Cleanup`, never raised; transient errors are.
    """
    report = Cleanup(pid)
    if blocks is None:
        try:
            blocks = client.list_datablocks(pid)
        except NotFoundError:
            return report
        except PermanentSciCatError as exc:
            report.left.append(f"DataBlocks of {pid} not removed: {refusal('read blocks', exc)}")
            return report
    for block in blocks:
        ident = block_id(block)
        if not ident:
            continue
        try:
            client.delete_datablock(pid, ident)
        except NotFoundError:
            continue
        except PermanentSciCatError as exc:
            report.left.append(f"DataBlock {ident} not removed: {refusal('delete', exc)}")
            continue
        report.removed += 1
    return report


def with_note(message: str, cleanup: Cleanup) -> str:
    """``message`` followed by what the clean-up left behind (if anything)."""
    return f"{message}; {cleanup.note()}" if cleanup.left else message
