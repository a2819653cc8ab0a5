"""Restoring one tar of the archive into a dataset folder, checking every file.

Nothing is written outside the target folder, whatever the tar holds and whatever was
planted in the retrieval folders:

* The target (``<retrieve root>/<job>/<pid>`` or ``<destination>/<pid>``) is opened from its
  trusted root one folder at a time with ``O_NOFOLLOW | O_DIRECTORY`` (see
  :mod:`archiver.storage.folders`): a symlink at any level (``<root>/x`` or
  ``<root>/<job>``) is refused, never followed.
* Member names must be relative without ``..``; only regular files, folders and symlinks are
  restored. Every folder below the target is opened the same way (``openat``-style, from the
  folder above), so no write passes through a symlink, whether the tar or an earlier
  retrieval put it there.
* Files are written under a temporary name (``.archiver-<hash>.part``) and renamed to their
  names only when the whole tar verified: every checksum and size matches its DataBlock
  entry and nothing the DataBlock lists is missing. Otherwise (or on any error) the
  temporary files are removed: a failed tar leaves no unverified file behind.
* Symlinks are created last, and only when their target stays inside the dataset folder by
  name; once all exist, every symlink in the folder is resolved and those that lead outside
  (a chain such as ``s3 -> .`` with ``x -> s1/s2/s3/../../../outside``) are removed. Links
  not created or removed are returned as ``skipped``, to be reported.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import posixpath
import stat
import tarfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from archiver.errors import PermanentStorageError, UnsafeMember
from archiver.storage import work
from archiver.storage.base import RetrievedBlock
from archiver.storage.folders import (
    NEW_FILE,
    Folders,
    Target,
    open_target,
    part_name,
    remove_escaping_links,
    safe_folder,
)
from archiver.storage.paths import link_stays_inside, relative_member, safe_name
from archiver.storage.tarpack import read_tar

#: Most problems named in one error message.
MAX_LISTED = 20


@dataclass
class Restored:
    """What restoring one tar found: failed checks, and symlinks not created."""

    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class _MemberFile(io.FileIO):
    """A restored file being written; on close it gets the member's mode and time."""

    def __init__(self, fd: int, info: tarfile.TarInfo) -> None:
        super().__init__(fd, "wb")
        self.info = info

    def close(self) -> None:
        if not self.closed:
            try:
                os.fchmod(self.fileno(), self.info.mode & 0o777)
                os.utime(self.fileno(), (self.info.mtime, self.info.mtime))
            finally:
                super().close()


def _member(name: str) -> tuple[str, str]:
    clean = relative_member(name)
    if clean is None:
        raise UnsafeMember(f"tar member {name!r} is absolute or climbs out of the folder")
    return posixpath.split(clean)


def restore_tar(tar_path: str, target: Target, block: Mapping[str, Any]) -> Restored:
    """Restore the tar of DataBlock ``block`` into ``target``; return what was found."""
    alg = str(block.get("chkAlg") or "sha256")
    expected = {str(f.get("path")): f for f in block.get("dataFileList") or ()}
    result = Restored()
    links: list[tarfile.TarInfo] = []
    written: list[tuple[str, str, str]] = []  # folder, temporary name, name
    seen: set[str] = set()
    top = open_target(target)
    folders = Folders(top, target.path)

    def sink(info: tarfile.TarInfo) -> BinaryIO:
        folder, name = _member(info.name)
        where = folders.get(folder)
        temp = part_name(name)
        fd = os.open(temp, NEW_FILE, 0o600, dir_fd=where)
        written.append((folder, temp, name))
        return _MemberFile(fd, info)

    try:
        for info, digest in read_tar(tar_path, alg, sink):
            if info.isdir():
                folder, name = _member(info.name)
                folders.get(posixpath.join(folder, name))
                continue
            if info.issym():
                links.append(info)
            elif not info.isreg():
                raise UnsafeMember(f"tar member {info.name!r} has a type this archive never writes")
            name = relative_member(info.name) or info.name
            seen.add(name)
            result.problems.extend(_check(name, info, digest, expected.get(name), alg))
        result.problems.extend(f"{n}: missing from the tar" for n in sorted(set(expected) - seen))
        if result.problems:
            return result
        while written:
            folder, temp, name = written[-1]
            _commit(folders.get(folder), temp, name, f"{target.path}/{folder}")
            written.pop()
        result.skipped = [s for s in (_restore_link(folders, i) for i in links) if s]
        result.skipped += remove_escaping_links(top, target.path)
        return result
    finally:
        for folder, temp, _ in written:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=folders.get(folder))
        folders.close()
        os.close(top)


def _check(
    name: str, info: tarfile.TarInfo, digest: str, entry: Mapping[str, Any] | None, alg: str
) -> list[str]:
    if entry is None:
        return [f"{name}: in the tar but not in the DataBlock"]
    if str(entry.get("chk") or "") != digest:
        return [f"{name}: {alg} checksum differs from the DataBlock"]
    if not info.issym() and int(entry.get("size") or 0) != info.size:
        return [f"{name}: size differs from the DataBlock"]
    return []


def _commit(folder: int, temp: str, name: str, where: str) -> None:
    """Give a verified file its name (replacing a file or symlink of that name)."""
    try:
        os.rename(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except IsADirectoryError:
        raise UnsafeMember(f"{where}/{name}: a folder of that name is in the way") from None


def _restore_link(folders: Folders, info: tarfile.TarInfo) -> str | None:
    """Create one symlink; return why it was not created, if it was not."""
    folder, name = _member(info.name)
    member = posixpath.join(folder, name)
    if not link_stays_inside(member, info.linkname):
        return f"{member} -> {info.linkname}: leads out of the dataset folder; not created"
    where = folders.get(folder)
    try:
        st = os.stat(name, dir_fd=where, follow_symlinks=False)
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise UnsafeMember(f"symlink {member!r} would replace a folder")
    if st is not None:
        os.unlink(name, dir_fd=where)
    os.symlink(info.linkname, name, dir_fd=where)
    return None


def _marker(state: str, archive_id: str) -> str:
    return os.path.join(state, hashlib.sha256(archive_id.encode()).hexdigest()[:24])


def restored_before(state: str, archive_id: str) -> list[str] | None:
    """The skipped links of a tar this job already restored, or ``None`` if it did not."""
    try:
        with open(_marker(state, archive_id), encoding="utf-8") as source:
            lines = source.read().splitlines()
    except FileNotFoundError:
        return None
    return lines[1:]


def mark_restored(state: str, archive_id: str, skipped: Sequence[str]) -> None:
    """Record (atomically) that this job restored the tar ``archive_id``."""
    path = _marker(state, archive_id)
    temp = f"{path}.tmp"
    fd = os.open(temp, NEW_FILE, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("".join(f"{line}\n" for line in (archive_id, *skipped)))
    os.rename(temp, path)


def state_folder(retrieve_root: str, job_id: str, pid: str) -> str:
    """The job's per-dataset state folder (markers, downloads), created safely."""
    job = safe_name(job_id or "no-job")
    return safe_folder(Target(retrieve_root, (".archiver", job, safe_name(pid))))


#: ``restore_one(archive_id, target, block)`` restores one tar; returns the skipped links.
RestoreOne = Callable[[str, Target, Mapping[str, Any]], list[str]]


def restore_blocks(
    pid: str, blocks: Sequence[Mapping[str, Any]], target: Target, state: str, one: RestoreOne
) -> list[RetrievedBlock]:
    """Restore each block not restored yet by this job (markers in ``state``), reporting
    progress; continue later once the step's time is used."""
    total = sum(int(b.get("size") or 0) for b in blocks)
    done = 0
    restored: list[RetrievedBlock] = []
    for index, block in enumerate(blocks):
        archive_id = str(block.get("archiveId"))
        skipped = restored_before(state, archive_id)
        fresh = skipped is None
        if skipped is None:
            skipped = one(archive_id, target, block)
            mark_restored(state, archive_id, skipped)
        size = int(block.get("size") or 0)
        done += size
        work.report("Retrieving", pid, done, total)
        restored.append(RetrievedBlock(archive_id, size, target.path, True, tuple(skipped)))
        if fresh and index + 1 < len(blocks) and work.out_of_time():
            raise work.ContinueLater(f"{pid}: {index + 1} of {len(blocks)} tars restored")
    return restored


def check_restored(archive_id: str, restored: Restored) -> list[str]:
    """The skipped links of a restored tar; :class:`PermanentStorageError` naming the files
    that failed the check, if any did."""
    if restored.problems:
        raise PermanentStorageError(
            f"{archive_id}: {len(restored.problems)} file(s) failed the check (none of this "
            "tar's files was kept): " + "; ".join(restored.problems[:MAX_LISTED])
        )
    return restored.skipped
