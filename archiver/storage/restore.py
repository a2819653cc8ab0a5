"""Restoring one tar of the filesystem storage into a folder, checking every file.

Nothing is written outside ``target``, whatever the tar holds: member names must be
relative without ``..``; only regular files, folders and symlinks are restored; files are
opened with ``O_NOFOLLOW`` in folders whose real path lies inside ``target``; symlinks are
created last, only when their target stays inside ``target`` (by name and by real path).
Every file's checksum and size are compared with its DataBlock entry; differences are
returned (and files the DataBlock lists but the tar lacks), never ignored.
"""

from __future__ import annotations

import contextlib
import os
import tarfile
from collections.abc import Mapping
from typing import Any, BinaryIO

from archiver.errors import PermanentStorageError
from archiver.storage.paths import is_within, link_stays_inside, relative_member
from archiver.storage.tarpack import read_tar

_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class UnsafeMember(PermanentStorageError):
    """A tar member that would be written outside the target folder."""


def _place(target: str, name: str) -> str:
    """The path for member ``name`` under ``target``, its folders created and checked."""
    clean = relative_member(name)
    if clean is None:
        raise UnsafeMember(f"tar member {name!r} is absolute or climbs out of the folder")
    path = os.path.join(target, clean)
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    if not is_within(os.path.realpath(parent), os.path.realpath(target)):
        raise UnsafeMember(f"tar member {name!r} would be written through a symlink")
    return path


def restore_tar(tar_path: str, target: str, block: Mapping[str, Any]) -> list[str]:
    """Restore the tar of DataBlock ``block`` into ``target``; return the problems found."""
    alg = str(block.get("chkAlg") or "sha256")
    expected = {str(f.get("path")): f for f in block.get("dataFileList") or ()}
    links: list[tarfile.TarInfo] = []
    stamps: list[tuple[str, tarfile.TarInfo]] = []
    problems: list[str] = []
    seen: set[str] = set()

    def sink(info: tarfile.TarInfo) -> BinaryIO:
        path = _place(target, info.name)
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            if os.path.islink(path):
                os.unlink(path)
        stamps.append((path, info))
        return os.fdopen(os.open(path, _WRITE_FLAGS, 0o600), "wb", buffering=0)

    os.makedirs(target, exist_ok=True)
    for info, digest in read_tar(tar_path, alg, sink):
        if info.isdir():
            os.makedirs(os.path.join(_place(target, info.name), ""), exist_ok=True)
            continue
        if info.issym():
            links.append(info)
        elif not info.isreg():
            raise UnsafeMember(f"tar member {info.name!r} has a type this archive never writes")
        name = relative_member(info.name) or info.name
        seen.add(name)
        entry = expected.get(name)
        if entry is None:
            problems.append(f"{name}: in the tar but not in the DataBlock")
        elif str(entry.get("chk") or "") != digest:
            problems.append(f"{name}: {alg} checksum differs from the DataBlock")
        elif not info.issym() and int(entry.get("size") or 0) != info.size:
            problems.append(f"{name}: size differs from the DataBlock")
    for info in links:
        _restore_link(target, info)
    for path, info in stamps:
        os.chmod(path, info.mode & 0o7777)
        os.utime(path, (info.mtime, info.mtime))
    problems.extend(f"{name}: missing from the tar" for name in sorted(set(expected) - seen))
    return problems


def _restore_link(target: str, info: tarfile.TarInfo) -> None:
    if not link_stays_inside(relative_member(info.name) or "", info.linkname):
        raise UnsafeMember(f"symlink {info.name!r} -> {info.linkname!r} leaves the folder")
    path = _place(target, info.name)
    with contextlib.suppress(FileNotFoundError):
        if os.path.isdir(path) and not os.path.islink(path):
            raise UnsafeMember(f"symlink {info.name!r} would replace a folder")
        os.unlink(path)
    os.symlink(info.linkname, path)
    resolved = os.path.realpath(path)
    if not is_within(resolved, os.path.realpath(target)):
        os.unlink(path)
        raise UnsafeMember(f"symlink {info.name!r} resolves outside the folder")
