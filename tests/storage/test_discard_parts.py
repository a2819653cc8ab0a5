"""Leftover ``.part`` files of an interrupted restore are removed when a dataset fails for
good: only below its target, following no symlink, reporting what stayed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archiver.settings import Settings
from archiver.storage import get_storage
from archiver.storage.folders import Target, part_name, remove_parts

PID = "PID.TEST/left"
PID_NAME = "PID.TEST%2Fleft"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / part_name("victim")).write_text("not ours\n")
    return folder


def plant(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / part_name(name)
    path.write_text("half a file")
    return path


def test_parts_below_the_target_are_removed_and_everything_else_stays(roots, outside):
    target = roots["retrieve"] / "job-1" / PID_NAME
    top, deep = plant(target, "a.txt"), plant(target / "sub" / "deeper", "b.txt")
    (target / "a.txt").write_text("verified\n")
    (target / ".archiver-not-a-hash.part").write_text("a user's file\n")
    (target / part_name("link")).symlink_to(outside / part_name("victim"))
    (target / "into-outside").symlink_to(outside, target_is_directory=True)
    report = remove_parts(Target(str(roots["retrieve"]), ("job-1", PID_NAME)))
    assert sorted(report.removed) == sorted([str(top), str(deep), str(target / part_name("link"))])
    assert report.left == []
    left = sorted(str(p.relative_to(target)) for p in target.rglob("*"))
    assert left == [".archiver-not-a-hash.part", "a.txt", "into-outside", "sub", "sub/deeper"]
    assert sorted(os.listdir(outside)) == [part_name("victim")]


def test_a_symlink_on_the_way_to_the_target_is_not_followed_and_is_reported(roots, outside):
    (roots["retrieve"] / "job-1").symlink_to(outside, target_is_directory=True)
    plant(outside / PID_NAME, "a.txt")
    report = remove_parts(Target(str(roots["retrieve"]), ("job-1", PID_NAME)))
    assert report.removed == []
    [line] = report.left
    assert f"{PID_NAME} not searched" in line and "job-1 is a symlink" in line
    assert os.listdir(outside / PID_NAME) == [part_name("a.txt")]


def test_an_absent_target_is_not_created(roots):
    report = remove_parts(Target(str(roots["retrieve"]), ("job-1", PID_NAME)))
    assert (report.removed, report.left) == ([], [])
    assert os.listdir(roots["retrieve"]) == []


def test_a_part_that_cannot_be_removed_is_reported(roots):
    target = roots["retrieve"] / "job-1" / PID_NAME
    (target / part_name("a folder")).mkdir(parents=True)
    report = remove_parts(Target(str(roots["retrieve"]), ("job-1", PID_NAME)))
    assert report.removed == []
    [line] = report.left
    assert line.startswith(str(target / part_name("a folder")) + ": ")


def test_the_storage_cleans_the_destination_target_only_under_an_allowed_root(
    roots, fs_settings, tmp_path
):
    allowed = tmp_path / "allowed"
    settings = Settings(**{**fs_settings.__dict__, "retrieve_allowed_roots": (str(allowed),)})
    storage = get_storage(settings)
    kept = plant(roots["elsewhere"] / PID_NAME, "a.txt")
    assert storage.discard_parts(PID, "job-1", str(roots["elsewhere"])).removed == []
    assert kept.exists()
    part = plant(allowed / "x" / PID_NAME, "a.txt")
    assert storage.discard_parts(PID, "job-1", str(allowed / "x")).removed == [str(part)]
    part = plant(roots["retrieve"] / "job-1" / PID_NAME, "a.txt")
    assert storage.discard_parts(PID, "job-1", None).removed == [str(part)]
