"""Path rules of the filesystem storage: SciCat → local paths, safe names, allowed roots.

Everything that decides *where* a byte is read from or written to lives here, so the rules
can be read (and tested) in one place:

* :func:`local_source` maps a dataset's ``sourceFolder`` through ``ARCHIVER_SOURCE_PATH_MAP``
  (longest matching prefix, on a path-component boundary).
* :func:`safe_name` turns a pid or job id into one folder name (injective, no ``/``).
* :func:`relative_member` accepts a DataFile path or tar member name only if it is
  relative and stays inside its folder (no ``..``, no absolute path, no empty part).
* :func:`allowed_destination` resolves a job's destination and refuses it unless it lies
  under one of the allowed roots.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import urllib.parse
from collections.abc import Iterable, Sequence

#: Longest folder name produced by :func:`safe_name` before it falls back to a hash.
MAX_NAME = 180


def local_source(source_folder: str, path_map: Sequence[tuple[str, str]]) -> str:
    """The local folder of a SciCat ``sourceFolder`` (longest prefix of the map wins)."""
    folder = posixpath.normpath(source_folder) if source_folder else ""
    best: tuple[str, str] | None = None
    for scicat, local in path_map:
        if folder == scicat or folder.startswith(scicat.rstrip("/") + "/"):
            if best is None or len(scicat) > len(best[0]):
                best = (scicat, local)
    if best is None:
        return folder
    rest = folder[len(best[0]) :].lstrip("/")
    return posixpath.join(best[1], rest) if rest else best[1]


def safe_name(text: str) -> str:
    """One folder name for a pid or job id: percent-encoded, never ``.``/``..``, bounded."""
    name = urllib.parse.quote(text, safe="-_.~")
    if name in ("", ".", ".."):
        name = name.replace(".", "%2E") or "%00"
    if len(name) > MAX_NAME:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        name = f"{name[: MAX_NAME - 17]}~{digest}"
    return name


def relative_member(path: str, folder: str = "") -> str | None:
    """``path`` as a clean relative path inside its folder, or ``None`` if it escapes.

    An absolute ``path`` under ``folder`` is made relative to it; any other absolute path,
    a ``..`` part or an empty result is refused.
    """
    if folder and path.startswith(folder.rstrip("/") + "/"):
        path = path[len(folder.rstrip("/")) + 1 :]
    if not path or path.startswith("/") or "\x00" in path:
        return None
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def link_stays_inside(member: str, target: str) -> bool:
    """``True`` when symlink ``member`` pointing to ``target`` resolves inside its folder
    (judged on the names only: relative target, no climb above the folder)."""
    if not target or target.startswith("/"):
        return False
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(member), target))
    return not (joined == ".." or joined.startswith("../"))


def is_within(path: str, root: str) -> bool:
    """``True`` when ``path`` equals ``root`` or lies under it (both already resolved)."""
    root = root.rstrip("/") or "/"
    return path == root or path.startswith(root if root == "/" else root + "/")


def allowed_destination(destination: str, roots: Iterable[str]) -> str | None:
    """The resolved ``destination`` if it lies under one of ``roots``, else ``None``.

    Symlinks are resolved on both sides, so a link inside an allowed root that points
    elsewhere does not open a way out.
    """
    if not destination or not destination.startswith("/") or "\x00" in destination:
        return None
    resolved = os.path.realpath(destination)
    for root in roots:
        if root and is_within(resolved, os.path.realpath(root)):
            return resolved
    return None
