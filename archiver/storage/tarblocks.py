"""What the two tar backends (``filesystem`` and ``s3``) share around their tars.

Both pack a dataset into tars planned by :mod:`archiver.storage.sources`, register one
DataBlock per tar, and restore tars into the same folders with the same checks; only where
the bytes live differs. Here: the plan of a dataset's tars (:func:`plan`), the DataBlock of
a written tar (:func:`datablock`), whether a stored one still matches the plan
(:func:`matches_plan`), the loop over a dataset's tars with progress and the step's time
budget (:func:`archive_blocks`), the retrieval folders (:func:`retrieval_folders`) and the
restore loop with its per-job markers (:func:`restore_blocks`, :func:`forget_retrievals`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from archiver.errors import PermanentStorageError
from archiver.storage import sources, work
from archiver.storage.base import ArchivedBlock, RetrievedBlock
from archiver.storage.paths import allowed_destination, local_source, safe_name
from archiver.storage.tarpack import Member

#: ``restore(archive_id, target, datablock, state_folder)``: one tar into ``target``.
Restorer = Callable[[str, str, Mapping[str, Any], str], None]


def iso_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def perm(member: Member) -> str:
    """``ls -l`` style permissions, e.g. ``-rw-r--r--`` or ``lrwxrwxrwx``."""
    kind = stat.S_IFLNK if member.link is not None else stat.S_IFREG
    return stat.filemode(kind | (0o777 if member.link is not None else member.mode))


def plan(
    dataset: Mapping[str, Any],
    origdatablocks: Iterable[Mapping[str, Any]],
    path_map: tuple[tuple[str, str], ...],
    max_bytes: int,
    max_files: int,
) -> list[list[Member]]:
    """The dataset's files, found on local disk, split into tars; every file that is not
    there or not readable is a user error of the dataset, listed."""
    scicat_folder = str(dataset.get("sourceFolder") or "")
    paths, problems = sources.listed_paths(origdatablocks, scicat_folder)
    members, missing = sources.scan(local_source(scicat_folder, path_map), paths)
    problems += missing
    if problems:
        raise work.UserStorageError(sources.describe_problems(problems))
    return sources.plan_blocks(members, max_bytes, max_files)


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


def retrieval_folders(
    pid: str, destination: str | None, allowed_roots: Sequence[str], retrieve_root: str
) -> tuple[str, str]:
    """``(target, state)``: where the dataset is restored (``<destination>/<pid>`` under an
    allowed root, else ``<retrieve root>/<job>/<pid>``) and the folder of its markers."""
    job = safe_name(work.current().job_id or "no-job")
    if destination:
        base = allowed_destination(destination, allowed_roots)
        if base is None:
            raise work.UserStorageError(
                f"destination {destination!r} is not under an allowed retrieval root"
            )
        target = os.path.join(base, safe_name(pid))
    else:
        target = os.path.join(retrieve_root, job, safe_name(pid))
    return target, os.path.join(retrieve_root, ".archiver", job, safe_name(pid))


def restore_blocks(
    dataset: Mapping[str, Any],
    datablocks: Iterable[Mapping[str, Any]],
    destination: str | None,
    roots: tuple[Sequence[str], str],
    restore: Restorer,
    before: Callable[[str, list[Mapping[str, Any]]], None] | None = None,
) -> list[RetrievedBlock]:
    """Restore every DataBlock of ``dataset`` not restored yet by this job (a marker per
    tar in the state folder), in ``archiveId`` order, to the folder :func:`retrieval_folders`
    picks with ``roots`` (allowed roots, retrieve root); ``before(pid, todo)`` first sees
    those still to do. Goes on in a new run after a restored tar once the time is used."""
    pid = str(dataset["pid"])
    target, state = retrieval_folders(pid, destination, roots[0], roots[1])
    blocks = sorted(datablocks, key=lambda b: str(b.get("archiveId")))

    def marker(block: Mapping[str, Any]) -> str:
        digest = hashlib.sha256(str(block.get("archiveId")).encode()).hexdigest()[:24]
        return os.path.join(state, digest)

    if before is not None:
        before(pid, [b for b in blocks if not os.path.exists(marker(b))])
    total = sum(int(b.get("size") or 0) for b in blocks)
    done = 0
    restored: list[RetrievedBlock] = []
    for index, block in enumerate(blocks):
        archive_id = str(block.get("archiveId"))
        fresh = not os.path.exists(marker(block))
        if fresh:
            os.makedirs(state, exist_ok=True)
            restore(archive_id, target, block, state)
            _write_marker(marker(block), archive_id)
        done += int(block.get("size") or 0)
        work.report("Retrieving", pid, done, total)
        restored.append(RetrievedBlock(archive_id, int(block.get("size") or 0), target, True))
        if fresh and index + 1 < len(blocks) and work.out_of_time():
            raise work.ContinueLater(f"{pid}: {index + 1} of {len(blocks)} tars restored")
    return restored


def forget_retrievals(retrieve_root: str, job_id: str) -> None:
    """Remove the job's retrieval markers (and temporary downloads) under the root."""
    shutil.rmtree(os.path.join(retrieve_root, ".archiver", safe_name(job_id)), True)


def check_restored(archive_id: str, problems: list[str]) -> None:
    """A permanent error listing the files of a restored tar that failed the check."""
    if problems:
        raise PermanentStorageError(
            f"{archive_id}: {len(problems)} file(s) failed the check: "
            + "; ".join(problems[: sources.MAX_LISTED])
        )


def _write_marker(path: str, archive_id: str) -> None:
    temp = f"{path}.tmp"
    with open(temp, "w", encoding="utf-8") as out:
        out.write(archive_id + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.rename(temp, path)
