"""What the two tar backends (``filesystem`` and ``s3``) share around their tars.

Both pack a dataset into tars planned by :mod:`archiver.storage.sources`, register one
DataBlock per tar, and restore tars with :mod:`archiver.storage.restore`; only where the
bytes live differs. Here: the DataBlock of a written tar (:func:`datablock`), whether a
stored one still matches the plan (:func:`matches_plan`), the loop over a dataset's tars
with progress and the step's time budget (:func:`archive_blocks`) and the removal of a
job's retrieval markers (:func:`forget_retrievals`).
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from archiver.storage import work
from archiver.storage.base import ArchivedBlock
from archiver.storage.paths import safe_name
from archiver.storage.tarpack import Member


def iso_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def perm(member: Member) -> str:
    """``ls -l`` style permissions, e.g. ``-rw-r--r--`` or ``lrwxrwxrwx``."""
    kind = stat.S_IFLNK if member.link is not None else stat.S_IFREG
    return stat.filemode(kind | (0o777 if member.link is not None else member.mode))


def datablock(
    archive_id: str, block: list[Member], sums: Sequence[str], packed: int, alg: str, version: str
) -> dict[str, Any]:
    """The DataBlock body of a tar holding ``block`` whose members hash to ``sums``."""
    files = [
        {
            "path": m.path,
            "size": m.size,
            "time": iso_time(m.mtime),
            "chk": digest,
            "uid": str(m.uid),
            "gid": str(m.gid),
            "perm": perm(m),
        }
        for m, digest in zip(block, sums, strict=True)
    ]
    return {
        "archiveId": archive_id,
        "size": sum(m.size for m in block),
        "packedSize": packed,
        "chkAlg": alg,
        "version": version,
        "dataFileList": files,
    }


def matches_plan(body: Any, block: list[Member], alg: str) -> bool:
    """Does a stored DataBlock list exactly the planned files, hashed with ``alg``?"""
    if not isinstance(body, dict):
        return False
    listed = [(f.get("path"), f.get("size")) for f in body.get("dataFileList") or ()]
    return listed == [(m.path, m.size) for m in block] and body.get("chkAlg") == alg


def archive_blocks(
    pid: str,
    blocks: list[list[Member]],
    existing: Callable[[int, list[Member]], dict[str, Any] | None],
    write: Callable[[int, list[Member], int, int], dict[str, Any]],
    verb: str,
) -> Iterator[ArchivedBlock]:
    """Each tar's DataBlock: ``existing(index, block)`` when it is in place, else
    ``write(index, block, done, total)``; goes on in a new run after a written tar once
    the step's time is used (``verb``: "written", "uploaded")."""
    total = sum(m.size for block in blocks for m in block)
    done = 0
    for index, block in enumerate(blocks):
        body = existing(index, block)
        written_now = body is None
        if body is None:
            body = write(index, block, done, total)
        done += int(body["size"])
        work.report("Archiving", pid, done, total)
        yield ArchivedBlock(index, body)
        if written_now and index + 1 < len(blocks) and work.out_of_time():
            raise work.ContinueLater(f"{pid}: {index + 1} of {len(blocks)} tars {verb}")


def packing_progress(pid: str, done: int, total: int) -> Callable[[int], None]:
    """A callback for bytes packed into the current tar, reporting the dataset's progress."""
    sofar = [done]

    def packed(size: int) -> None:
        sofar[0] += size
        work.report("Archiving", pid, sofar[0], total)

    return packed


def forget_retrievals(retrieve_root: str, job_id: str) -> None:
    """Remove the job's retrieval markers (and temporary downloads) under the root."""
    shutil.rmtree(os.path.join(retrieve_root, ".archiver", safe_name(job_id)), True)
