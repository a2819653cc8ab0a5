"""Fixtures of the storage tests: a dataset folder with every awkward kind of file, roots.

The full-pipeline fixture ``pipeline_factory`` is the one of :mod:`support.pipeline`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archiver.settings import Settings
from storage.s3_server import moto_server, s3_env, s3_settings  # noqa: F401 - S3 fixtures

#: Tar size limit of the tests: ``big.bin`` is larger and gets a tar of its own.
TAR_LIMIT = 200_000


def make_dataset(folder: Path) -> list[str]:
    """Create the test dataset under ``folder``; return the relative paths to archive."""
    (folder / "sub" / "deep").mkdir(parents=True)
    (folder / "with space").mkdir()
    (folder / "big.bin").write_bytes(os.urandom(3 * TAR_LIMIT))
    (folder / "sub" / "a.txt").write_text("alpha\n")
    (folder / "sub" / "empty").write_bytes(b"")
    (folder / "sub" / "deep" / "data.dat").write_bytes(os.urandom(70_000))
    (folder / "sub" / "deep" / "more.dat").write_bytes(os.urandom(150_000))
    (folder / "with space" / "ünïcödé ñame.txt").write_text("unicode\n")
    (folder / "sub" / "link-to-a").symlink_to("a.txt")
    os.chmod(folder / "sub" / "a.txt", 0o640)
    return sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() or p.is_symlink()
    )


@pytest.fixture
def roots(tmp_path: Path) -> dict[str, Path]:
    paths = {name: tmp_path / name for name in ("data", "archive", "retrieve", "elsewhere")}
    for path in paths.values():
        path.mkdir()
    return paths


@pytest.fixture
def fs_settings(roots: dict[str, Path]) -> Settings:
    return Settings(
        storage="filesystem",
        archive_root=str(roots["archive"]),
        retrieve_root=str(roots["retrieve"]),
        source_path_map=(("/scicat/data", str(roots["data"])),),
        tar_max_bytes=TAR_LIMIT,
    )


def origdatablocks(paths: list[str]) -> list[dict]:
    """OrigDatablocks listing ``paths`` (sizes deliberately not trusted by the backend)."""
    return [{"_id": "o1", "dataFileList": [{"path": p, "size": 1} for p in paths]}]


def tree(folder: Path) -> dict[str, tuple[str, bytes]]:
    """Every file and link under ``folder``: kind and content (link: its target)."""
    found = {}
    for path in folder.rglob("*"):
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            found[rel] = ("link", os.readlink(path).encode())
        elif path.is_file():
            found[rel] = (oct(path.stat().st_mode & 0o777), path.read_bytes())
    return found
