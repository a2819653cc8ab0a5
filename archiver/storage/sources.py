"""Which files of a dataset go into which tar: listing, checking and planning.

The dataset's ``sourceFolder`` is mapped (``ARCHIVER_SOURCE_PATH_MAP``), resolved (symlinks
followed) and must then lie under one of the source roots (``ARCHIVER_SOURCE_ROOTS``, by
default the local folders of the map): :func:`source_folder`. Anything else (``/etc``,
``/data/../../etc``, a symlink in a root pointing out of it) is a user error of the dataset
and nothing is read. The files are the ones the dataset's OrigDatablocks list (paths relative to its
``sourceFolder``). Each is ``lstat``-ed before anything is packed, so *every* missing or
unreadable file is reported at once. The symlink rule: a listed symlink is stored as a
symlink (never followed) when its target, read as a relative path from the link's folder,
stays inside the dataset folder; an absolute target or one that climbs out is refused, as
is any path whose folders lead out of the dataset folder through a symlink.

:func:`plan_blocks` cuts the ordered files into tars of at most ``max_bytes`` bytes on disk
(headers included) and ``max_files`` files; a file too large for one tar gets its own.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from archiver.ids import escape
from archiver.settings import Settings
from archiver.storage.paths import is_within, link_stays_inside, local_source, relative_member
from archiver.storage.tarpack import END_RESERVE, Member, member_from_stat
from archiver.storage.work import UserStorageError

#: Most problems named in one error message (the rest are counted).
MAX_LISTED = 20


def source_roots(settings: Settings) -> tuple[str, ...]:
    """The folders datasets may be archived from: ``ARCHIVER_SOURCE_ROOTS``, or else the
    local folders of ``ARCHIVER_SOURCE_PATH_MAP``."""
    return settings.source_roots or tuple(local for _, local in settings.source_path_map)


def source_folder(
    scicat_folder: str, path_map: Sequence[tuple[str, str]], roots: Sequence[str]
) -> str:
    """The resolved local folder of a dataset's ``sourceFolder``; :class:`UserStorageError`
    unless it lies under one of ``roots`` (checked after mapping, with symlinks resolved)."""
    shown = escape(scicat_folder)
    if not scicat_folder.startswith("/") or "\x00" in scicat_folder:
        raise UserStorageError(f"sourceFolder '{shown}' is not an absolute path: nothing archived")
    if not roots:
        raise UserStorageError(
            f"sourceFolder '{shown}' cannot be archived: no source roots are configured "
            "(ARCHIVER_SOURCE_ROOTS or ARCHIVER_SOURCE_PATH_MAP); nothing archived"
        )
    local = local_source(scicat_folder, path_map)
    resolved = os.path.realpath(local)
    for root in roots:
        if is_within(resolved, os.path.realpath(root)):
            return resolved
    where = "" if posixpath.normpath(scicat_folder) == resolved else f" (locally {resolved})"
    raise UserStorageError(
        f"sourceFolder '{shown}'{escape(where)} is not under a source root "
        f"({'; '.join(roots)}, ARCHIVER_SOURCE_ROOTS): nothing archived"
    )


def dataset_members(
    dataset: Mapping[str, Any],
    origdatablocks: Iterable[Mapping[str, Any]],
    path_map: Sequence[tuple[str, str]],
    roots: Sequence[str],
) -> list[Member]:
    """The checked files of a dataset, or :class:`UserStorageError` naming every problem."""
    scicat_folder = str(dataset.get("sourceFolder") or "")
    folder = source_folder(scicat_folder, path_map, roots)
    paths, problems = listed_paths(origdatablocks, scicat_folder)
    members, missing = scan(folder, paths)
    problems += missing
    if problems:
        raise UserStorageError(describe_problems(problems))
    return members


def listed_paths(
    origdatablocks: Iterable[Mapping[str, Any]], source_folder: str
) -> tuple[list[str], list[str]]:
    """The sorted, de-duplicated relative paths of the OrigDatablocks, and the refused ones."""
    paths: set[str] = set()
    refused: list[str] = []
    for block in origdatablocks:
        for entry in block.get("dataFileList") or ():
            raw = str(entry.get("path", ""))
            clean = relative_member(raw, source_folder)
            if clean is None:
                refused.append(f"{raw!r}: not a path inside the dataset folder")
            else:
                paths.add(clean)
    return sorted(paths), refused


def scan(folder: str, paths: list[str]) -> tuple[list[Member], list[str]]:
    """``lstat`` every listed file under ``folder``; return members and problems."""
    members: list[Member] = []
    problems: list[str] = []
    try:
        real_root = os.path.realpath(folder, strict=True)
    except OSError as exc:
        # One problem for the whole dataset: every listed file is missing with its folder.
        return [], [
            f"the source folder {folder} is not there ({exc.strerror or exc}): none of the "
            f"{len(paths)} listed file(s) can be archived"
        ]
    for path in paths:
        local = os.path.join(real_root, path)
        parent = os.path.realpath(os.path.dirname(local))
        if not is_within(parent, real_root):
            problems.append(f"{path}: its folder leads out of the dataset folder (symlink)")
            continue
        try:
            st = os.lstat(local)
        except FileNotFoundError:
            problems.append(f"{path}: missing")
            continue
        except OSError as exc:
            problems.append(f"{path}: {exc.strerror or exc}")
            continue
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(local)
            if not link_stays_inside(path, target):
                problems.append(f"{path}: symlink to {target!r} leaves the dataset folder")
                continue
            members.append(member_from_stat(path, local, st, target))
        elif stat.S_ISREG(st.st_mode):
            if not os.access(local, os.R_OK):
                problems.append(f"{path}: not readable")
                continue
            members.append(member_from_stat(path, local, st, None))
        else:
            problems.append(f"{path}: not a regular file or symlink")
    return members, problems


def describe_problems(problems: list[str]) -> str:
    """One message listing the problems (the first :data:`MAX_LISTED`, then a count); a
    missing source folder is said as such, not counted as one file."""
    if len(problems) == 1 and problems[0].startswith("the source folder "):
        return problems[0]
    shown = "; ".join(problems[:MAX_LISTED])
    more = len(problems) - MAX_LISTED
    suffix = f"; and {more} more" if more > 0 else ""
    return f"{len(problems)} file(s) cannot be archived: {shown}{suffix}"


def plan_blocks(members: list[Member], max_bytes: int, max_files: int) -> list[list[Member]]:
    """Cut ``members`` (in order) into tars of at most ``max_bytes`` and ``max_files``."""
    blocks: list[list[Member]] = []
    current: list[Member] = []
    used = END_RESERVE
    for member in members:
        cost = member.packed_size()
        if current and (len(current) >= max_files or used + cost > max_bytes):
            blocks.append(current)
            current, used = [], END_RESERVE
        current.append(member)
        used += cost
    if current:
        blocks.append(current)
    return blocks
