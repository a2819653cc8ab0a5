"""Writing and reading the filesystem storage's tar files, with a checksum per file.

Tars are plain POSIX pax archives (``tar --format=pax``), readable by GNU tar, bsdtar and
Python's :mod:`tarfile`. They are written by this module directly (headers from
:meth:`tarfile.TarInfo.tobuf`, data streamed in large chunks), so every file is read once:
the same chunk goes to the checksum and to the tar. Hashing runs in a helper thread
(``hashlib`` releases the GIL), overlapping with the reads and writes.

A tar is written under a temporary name (``.<name>.<random>.part``, locked with ``flock``
while being written), flushed with ``fsync``, renamed to its final name and the folder is
fsynced. Any error removes the temporary file; a writer killed outright leaves an unlocked
``.part`` that :func:`remove_stale_parts` deletes before the next attempt.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import stat
import tarfile
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

#: Bytes read or written per call; large chunks keep the per-call overhead negligible.
CHUNK = 4 * 1024 * 1024
#: Bytes after which written data is handed to the disk while packing goes on.
WRITEBACK = 64 * 1024 * 1024
#: Bytes a tar ends with at most: two zero blocks and padding to the record size.
END_RESERVE = 2 * tarfile.BLOCKSIZE + tarfile.RECORDSIZE
_ZEROS = bytes(tarfile.RECORDSIZE)


@dataclass(frozen=True)
class Member:
    """One dataset file as it goes into a tar: ``path`` is relative to the dataset folder."""

    path: str
    local: str
    size: int
    mtime: int
    mode: int
    uid: int
    gid: int
    link: str | None = None

    def tarinfo(self) -> tarfile.TarInfo:
        info = tarfile.TarInfo(self.path)
        info.mtime, info.uid, info.gid = self.mtime, self.uid, self.gid
        if self.link is not None:
            info.type, info.linkname, info.mode, info.size = tarfile.SYMTYPE, self.link, 0o777, 0
        else:
            info.type, info.mode, info.size = tarfile.REGTYPE, self.mode & 0o7777, self.size
        return info

    def header(self) -> bytes:
        return self.tarinfo().tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")

    def packed_size(self) -> int:
        """Bytes this member takes in a tar: headers and data padded to 512-byte blocks."""
        return len(self.header()) + _padded(self.size if self.link is None else 0)


def member_from_stat(path: str, local: str, st: os.stat_result, link: str | None) -> Member:
    size = 0 if link is not None else st.st_size
    mode = stat.S_IMODE(st.st_mode)
    return Member(path, local, size, int(st.st_mtime), mode, st.st_uid, st.st_gid, link)


def open_source(path: str) -> BinaryIO:
    """A dataset file opened for reading, never through a symlink: a file replaced by a
    link after it was checked fails with ``ELOOP`` instead of packing the link's target."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    return os.fdopen(fd, "rb", buffering=0)


def _padded(size: int) -> int:
    return -(-size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE


def link_digest(alg: str, target: str) -> str:
    """The checksum recorded for a symlink: of its target text."""
    return hashlib.new(alg, os.fsencode(target)).hexdigest()


class _Hasher:
    """Feeds chunks to a hash in a helper thread, one chunk ahead of the caller."""

    def __init__(self, pool: ThreadPoolExecutor, alg: str) -> None:
        self.pool, self.hash = pool, hashlib.new(alg)
        self.pending: Future[None] | None = None

    def update(self, chunk: bytes) -> None:
        if self.pending is not None:
            self.pending.result()
        self.pending = self.pool.submit(self.hash.update, chunk)

    def hexdigest(self) -> str:
        if self.pending is not None:
            self.pending.result()
            self.pending = None
        return self.hash.hexdigest()


def _copy(src: BinaryIO, out: BinaryIO | None, size: int, hasher: _Hasher) -> int:
    """Copy exactly ``size`` bytes (fewer when ``src`` ends early); return bytes copied."""
    left = size
    while left > 0:
        chunk = src.read(min(CHUNK, left))
        if not chunk:
            break
        hasher.update(chunk)
        if out is not None:
            out.write(chunk)
            if isinstance(out, _Writeback):
                out.advance(len(chunk))
        left -= len(chunk)
    return size - left


class _Writeback:
    """Mixin state for the tar being written: start the disk write of every finished
    :data:`WRITEBACK` bytes at once (``POSIX_FADV_DONTNEED`` on dirty pages starts their
    writeback), so the final ``fsync`` has little left and packing overlaps the disk."""

    pending = 0
    flushed = 0

    def advance(self, count: int) -> None:
        self.pending += count
        if self.pending >= WRITEBACK:
            out: io.BufferedWriter = self  # type: ignore[assignment]
            out.flush()
            end = out.tell()
            os.posix_fadvise(out.fileno(), self.flushed, end - self.flushed, os.POSIX_FADV_DONTNEED)
            self.flushed, self.pending = end, 0


class _TarOut(_Writeback, io.BufferedWriter):
    """The buffered file a tar is written to."""


class SourceChanged(OSError):
    """A source file got shorter while it was being packed."""


def write_tar(
    members: list[Member], final: str, alg: str, progress: Callable[[int], None]
) -> list[str]:
    """Write ``members`` to the tar ``final`` atomically; return one checksum per member.

    ``progress(n)`` is called with the bytes of each file once it is packed.
    """
    folder, name = os.path.split(final)
    temp = os.path.join(folder, f".{name}.{uuid.uuid4().hex[:12]}.part")
    sums: list[str] = []
    try:
        raw = io.FileIO(temp, "xb")
        with _TarOut(raw, CHUNK) as out, ThreadPoolExecutor(1) as pool:
            fcntl.flock(out.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            written = 0
            for member in members:
                header = member.header()
                out.write(header)
                if member.link is not None:
                    sums.append(link_digest(alg, member.link))
                    written += len(header)
                    continue
                hasher = _Hasher(pool, alg)
                with open_source(member.local) as src:
                    if _copy(src, out, member.size, hasher) != member.size:
                        raise SourceChanged(f"{member.path} got shorter while being archived")
                sums.append(hasher.hexdigest())
                out.write(_ZEROS[: _padded(member.size) - member.size])
                written += len(header) + _padded(member.size)
                progress(member.size)
            end = 2 * tarfile.BLOCKSIZE
            end += -(written + end) % tarfile.RECORDSIZE
            out.write(_ZEROS[:end])
            out.flush()
            os.fsync(out.fileno())
        os.rename(temp, final)
        fsync_folder(folder)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    return sums


def fsync_folder(folder: str) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_parts(folder: str) -> list[str]:
    """Delete ``.part`` files in ``folder`` whose writer is gone (no lock held on them)."""
    removed = []
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(folder):
            if not (entry.name.startswith(".") and entry.name.endswith(".part")):
                continue
            try:
                fd = os.open(entry.path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live writer
            finally:
                os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
            removed.append(entry.name)
    return removed


def drop_cache(path: str) -> None:
    """Ask the kernel to forget the cached pages of ``path``, so a read-back reads the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def read_tar(
    path: str, alg: str, sink: Callable[[tarfile.TarInfo], BinaryIO | None] | None = None
) -> Iterator[tuple[tarfile.TarInfo, str]]:
    """Yield each member of the tar with its checksum (of a symlink: of its target).

    ``sink(info)`` may return a binary file the member's data is copied to while hashing.
    Raises :class:`tarfile.TarError` or :class:`OSError` on a damaged tar.

    Headers are parsed by :mod:`tarfile`; member data is read by this module from a second,
    unbuffered handle at the offset the header gives, in :data:`CHUNK` reads (tarfile's own
    stream reader copies every byte several times and halves the read-back rate).
    """
    with (
        open(path, "rb") as headers,
        open(path, "rb", buffering=0) as data,
        tarfile.open(fileobj=headers, mode="r:") as tar,
        ThreadPoolExecutor(1) as pool,
    ):
        os.posix_fadvise(data.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        for info in tar:
            if info.issym():
                yield info, link_digest(alg, info.linkname)
                continue
            hasher = _Hasher(pool, alg)
            if info.isreg():
                out = sink(info) if sink else None
                try:
                    data.seek(info.offset_data)
                    if _copy(data, out, info.size, hasher) != info.size:
                        raise tarfile.ReadError(f"{info.name}: unexpected end of data")
                finally:
                    if out is not None:
                        out.close()
            yield info, hasher.hexdigest()
