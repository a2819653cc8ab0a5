"""Small dataset operations shared by the archive, retrieve and reset steps.

Removing DataBlocks lives in :mod:`archiver.steps.cleanup` (best effort, reported).
"""

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
