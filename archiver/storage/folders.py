"""Folders of a retrieval, opened and walked without following a symlink.

A retrieval target (``<retrieve root>/<job>/<pid>`` or ``<destination>/<pid>``) is reached
from its trusted, resolved root one folder at a time with ``O_NOFOLLOW | O_DIRECTORY``
(:func:`open_target`); every folder below it is opened the same way from the folder above
(:class:`Folders`). A symlink at any level is refused, never followed, whether the tar, an
earlier retrieval or someone else put it there. The walks (:func:`remove_escaping_links`,
:func:`remove_parts`) use ``os.fwalk`` without following links, from such a descriptor.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import posixpath
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass

from archiver.errors import UnsafeMember
from archiver.storage.base import Discarded
from archiver.storage.paths import allowed_destination, is_within, safe_name
from archiver.storage.work import UserStorageError

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
#: Flags of a file written by the retrieval: never through a symlink at its name.
NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | _CLOEXEC
#: Folder descriptors kept open at once while restoring one tar.
MAX_OPEN_FOLDERS = 64
#: Name of a file being restored and not verified yet (see :func:`part_name`).
PART_PATTERN = re.compile(r"\.archiver-[0-9a-f]{20}\.part")


@dataclass(frozen=True)
class Target:
    """A folder below a trusted, resolved ``root``: ``root/part/part...``."""

    root: str
    parts: tuple[str, ...]

    @property
    def path(self) -> str:
        return os.path.join(self.root, *self.parts)


def retrieval_target(
    pid: str, job_id: str, destination: str | None, retrieve_root: str, allowed: Sequence[str]
) -> Target:
    """Where a dataset is restored: ``<retrieve root>/<job>/<pid>``, or ``<destination>/<pid>``
    when the destination (resolved) lies under an allowed root; else a user error."""
    if not destination:
        return Target(retrieve_root, (safe_name(job_id or "no-job"), safe_name(pid)))
    base = allowed_destination(destination, allowed)
    if base is None:
        raise UserStorageError(
            f"destination {destination!r} is not under an allowed retrieval root"
        )
    real_roots = [os.path.realpath(r) for r in allowed if r]
    root = next(r for r in real_roots if is_within(base, r))
    rest = os.path.relpath(base, root)
    parts = () if rest == "." else tuple(rest.split("/"))
    return Target(root, (*parts, safe_name(pid)))


def open_folder(parent: int, name: str, where: str, create: bool = True) -> int:
    """Open (creating it unless ``create`` is false) folder ``name`` in ``parent``, refusing
    a symlink or a file."""
    if create:
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o755, dir_fd=parent)
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafeMember(
                f"{where} is a symlink or not a folder: nothing is written through it"
            ) from None
        raise


def open_target(target: Target, create: bool = True) -> int:
    """A descriptor of ``target``, its folders created (unless ``create`` is false) from the
    root without following any symlink."""
    fd = os.open(target.root, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
    try:
        for depth, part in enumerate(target.parts, 1):
            where = os.path.join(target.root, *target.parts[:depth])
            child = open_folder(fd, part, where, create)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def safe_folder(target: Target) -> str:
    """Create ``target`` like :func:`open_target` and return its path."""
    os.close(open_target(target))
    return target.path


class Folders:
    """Descriptors of folders below the target, opened one level at a time."""

    def __init__(self, top: int, where: str) -> None:
        self.top, self.where, self.fds = top, where, dict[str, int]()

    def get(self, folder: str) -> int:
        if not folder:
            return self.top
        fd = self.fds.get(folder)
        if fd is None:
            if len(self.fds) >= MAX_OPEN_FOLDERS:
                self.close()
            parent, name = posixpath.split(folder)
            fd = open_folder(self.get(parent), name, f"{self.where}/{folder}")
            self.fds[folder] = fd
        return fd

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()


def part_name(name: str) -> str:
    """The temporary name a restored file has until its tar verified."""
    return f".archiver-{hashlib.sha256(os.fsencode(name)).hexdigest()[:20]}.part"


def remove_escaping_links(top: int, path: str) -> list[str]:
    """Remove every symlink under the folder ``top`` (at ``path``) that resolves outside it,
    until none is left (removing one can only shorten what the others resolve through)."""
    real = os.path.realpath(path)
    removed: list[str] = []
    found = True
    while found:
        found = False
        for folder, dirs, files, fd in os.fwalk(".", dir_fd=top, follow_symlinks=False):
            for name in (*dirs, *files):
                if not stat.S_ISLNK(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
                    continue
                member = posixpath.normpath(posixpath.join(folder, name))
                if is_within(os.path.realpath(os.path.join(real, member)), real):
                    continue
                target = os.readlink(name, dir_fd=fd)
                os.unlink(name, dir_fd=fd)
                removed.append(f"{member} -> {target}: resolves outside the dataset; removed")
                found = True
    return removed


def discard_parts(
    pid: str, job_id: str, destination: str | None, retrieve_root: str, allowed: Sequence[str]
) -> Discarded:
    """:func:`remove_parts` of the dataset's retrieval target (none for a destination that
    is not allowed: nothing was written there)."""
    try:
        target = retrieval_target(pid, job_id, destination, retrieve_root, allowed)
    except UserStorageError:
        return Discarded()
    return remove_parts(target)


def remove_parts(target: Target) -> Discarded:
    """Remove every ``.archiver-<hash>.part`` name below ``target`` (an interrupted restore's
    unverified files), following no symlink: a symlink of that name is removed itself, a
    symlinked folder is not entered. Nothing is created; an absent target has nothing.
    What could not be removed is listed in :attr:`Discarded.left`, never raised."""
    report = Discarded()
    try:
        top = open_target(target, create=False)
    except FileNotFoundError:
        return report
    except (UnsafeMember, OSError) as exc:
        report.left.append(f"{target.path} not searched: {_reason(exc)}")
        return report

    def unread(exc: OSError) -> None:
        report.left.append(f"{exc.filename or target.path} not searched: {_reason(exc)}")

    try:
        walk = os.fwalk(".", dir_fd=top, follow_symlinks=False, onerror=unread)
        for folder, dirs, files, fd in walk:
            for name in (*dirs, *files):
                if PART_PATTERN.fullmatch(name):
                    where = posixpath.normpath(posixpath.join(target.path, folder, name))
                    _unlink(fd, name, where, report)
    finally:
        os.close(top)
    return report


def _unlink(folder: int, name: str, where: str, report: Discarded) -> None:
    try:
        os.unlink(name, dir_fd=folder)
    except FileNotFoundError:
        return
    except OSError as exc:
        report.left.append(f"{where}: {_reason(exc)}")
        return
    report.removed.append(where)


def _reason(exc: BaseException) -> str:
    return exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc)
