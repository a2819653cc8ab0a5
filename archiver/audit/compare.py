"""Comparing what a tar holds with what its DataBlock says it holds.

The same rules as a retrieval's check: every member must be listed with the same checksum
(of a symlink: of its target text) and size, and every listed file must be in the tar.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from archiver.storage.paths import relative_member

#: Most file problems named for one DataBlock (the rest are counted).
MAX_NAMED = 10


@dataclass(frozen=True)
class Member:
    """One member as read back: its name, size, checksum and whether it is a symlink."""

    name: str
    size: int
    digest: str
    link: bool = False


def problems(block: Mapping[str, Any], members: Iterable[Member]) -> tuple[list[str], int]:
    """The differences between ``members`` and the DataBlock, and how many members were read."""
    alg = str(block.get("chkAlg") or "sha256")
    expected = {str(f.get("path")): f for f in block.get("dataFileList") or ()}
    found: list[str] = []
    seen: set[str] = set()
    count = 0
    for member in members:
        count += 1
        name = relative_member(member.name) or member.name
        seen.add(name)
        entry = expected.get(name)
        if entry is None:
            found.append(f"{name}: in the tar but not in the DataBlock")
        elif str(entry.get("chk") or "") != member.digest:
            found.append(f"{name}: {alg} checksum differs from the DataBlock")
        elif not member.link and int(entry.get("size") or 0) != member.size:
            found.append(f"{name}: size differs from the DataBlock")
    found.extend(f"{name}: missing from the tar" for name in sorted(set(expected) - seen))
    return found, count


def summarise(found: list[str]) -> str:
    """One line naming the first :data:`MAX_NAMED` problems and counting the rest."""
    shown = "; ".join(found[:MAX_NAMED])
    more = len(found) - MAX_NAMED
    return f"{len(found)} file(s) differ: {shown}" + (f"; and {more} more" if more > 0 else "")
