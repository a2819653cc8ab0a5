"""Walking a dataset folder: file entries with real sizes, mtimes and checksums, in blocks.

Memory stays flat whatever the folder size: directories are walked iteratively with
``os.scandir`` (a stack of directory paths, never a list of all files), checksums are computed
by streaming each file in chunks, and files are handed out one OrigDatablock at a time.
Listed are regular files below the folder, except the top-level ``transfer.yaml``, and
symbolic links whose target stays inside the folder (listed as links, never followed: size 0,
``perm`` ``lrwxrwxrwx``, the checksum of the target text, as filesystem storage archives
them). Links that lead out of the folder and special files are counted as skipped.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archiver.ingest.transfer import TRANSFER_FILE
from archiver.storage.paths import link_stays_inside
from archiver.storage.tarpack import link_digest

#: Checksum algorithms offered (``none``: no ``chk`` per file).
CHECKSUMS = ("sha256", "md5", "blake2b", "sha1", "none")
#: Bytes read at a time while computing a checksum.
CHUNK = 1024 * 1024


@dataclass
class FolderTotals:
    """What one stat-only pass over a folder found."""

    files: int = 0
    size: int = 0
    newest_mtime: float | None = None
    skipped: list[str] = field(default_factory=list)

    @property
    def creation_time(self) -> str:
        """The newest modification time, ISO 8601 with time zone."""
        return iso_time(self.newest_mtime if self.newest_mtime is not None else 0.0)


@dataclass(frozen=True)
class FileBlock:
    """The files of one OrigDatablock: DataFile dicts and their total size."""

    index: int
    files: list[dict[str, Any]]
    size: int


def iso_time(timestamp: float) -> str:
    """A POSIX timestamp as ISO 8601 in UTC with an explicit offset."""
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat()


def checksum(path: str | Path, algorithm: str) -> str | None:
    """Hex digest of the file, read in chunks; ``None`` for algorithm ``none``."""
    if algorithm == "none":
        return None
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def walk(root: Path) -> Iterator[tuple[os.DirEntry[str] | None, str, str]]:
    """Yield ``(entry, relative path, kind)`` for everything below ``root``.

    ``kind`` is ``"file"``, ``"link"`` (a symlink staying inside ``root``) or ``"skipped"``
    (a symlink leading out, a special file). Directories are walked depth first, their names
    sorted; files come in the order the file system gives them (no per-directory list).
    """
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        subdirs: list[str] = []
        with os.scandir(os.path.join(root, rel_dir) if rel_dir else root) as entries:
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append(rel)
                elif entry.is_file(follow_symlinks=False):
                    if rel != TRANSFER_FILE:
                        yield entry, rel, "file"
                elif entry.is_symlink() and link_stays_inside(rel, os.readlink(entry.path)):
                    yield entry, rel, "link"
                else:
                    yield entry, rel, "skipped"
        stack.extend(sorted(subdirs, reverse=True))


def totals(root: Path) -> FolderTotals:
    """Count files and bytes and find the newest mtime (stat only, no reading)."""
    found = FolderTotals()
    for entry, rel, kind in walk(root):
        if kind == "skipped" or entry is None:
            found.skipped.append(rel)
            continue
        info = entry.stat(follow_symlinks=False)
        found.files += 1
        found.size += info.st_size if kind == "file" else 0
        if found.newest_mtime is None or info.st_mtime > found.newest_mtime:
            found.newest_mtime = info.st_mtime
    return found


def datafile(entry: os.DirEntry[str], rel: str, algorithm: str) -> dict[str, Any]:
    """The SciCat DataFile of one file or symlink (a link: size 0, checksum of its target)."""
    info = entry.stat(follow_symlinks=False)
    link = stat.S_ISLNK(info.st_mode)
    record: dict[str, Any] = {
        "path": rel,
        "size": 0 if link else info.st_size,
        "time": iso_time(info.st_mtime),
        "uid": str(info.st_uid),
        "gid": str(info.st_gid),
        "perm": stat.filemode(info.st_mode),
    }
    if link:
        digest = None if algorithm == "none" else link_digest(algorithm, os.readlink(entry.path))
    else:
        digest = checksum(entry.path, algorithm)  # a str: pathlib would intern every name
    if digest is not None:
        record["chk"] = digest
    return record


def blocks(
    root: Path,
    algorithm: str,
    max_files: int,
    max_bytes: int,
    on_file: Callable[[int], None] | None = None,
) -> Iterator[FileBlock]:
    """The folder's files as OrigDatablocks of at most ``max_files`` files and ``max_bytes``
    bytes (a single larger file gets a block of its own). One block is held at a time.
    ``on_file(size)`` is called after each file was read and checksummed."""
    if max_files < 1 or max_bytes < 1:
        raise ValueError("max_files and max_bytes must be at least 1")
    current: list[dict[str, Any]] = []
    size = index = 0
    for entry, rel, kind in walk(root):
        if kind == "skipped" or entry is None:
            continue
        record = datafile(entry, rel, algorithm)
        if on_file is not None:
            on_file(record["size"])
        if current and (len(current) >= max_files or size + record["size"] > max_bytes):
            yield FileBlock(index, current, size)
            current, size, index = [], 0, index + 1
        current.append(record)
        size += record["size"]
    if current:
        yield FileBlock(index, current, size)
