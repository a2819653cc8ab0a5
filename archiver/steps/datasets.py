"""Small dataset operations shared by the archive, retrieve and reset steps."""

from __future__ import annotations

from typing import Any

from archiver.errors import NotFoundError
from archiver.scicat.base import SciCatClient


def find_dataset(client: SciCatClient, pid: str) -> dict[str, Any] | None:
    """The dataset, or ``None`` when SciCat does not know it."""
    try:
        return client.get_dataset(pid)
    except NotFoundError:
        return None


def remove_datablocks(client: SciCatClient, pid: str) -> int:
    """Delete every DataBlock of the dataset; return how many this call deleted.

    A block that vanished meanwhile (a repeated step) counts as gone, not as an error.
    """
    removed = 0
    for block in client.list_datablocks(pid):
        block_id = block.get("_id") or block.get("id")
        if not block_id:
            continue
        try:
            client.delete_datablock(pid, str(block_id))
        except NotFoundError:
            continue
        removed += 1
    return removed
