"""Retrieval from the filesystem storage: checked, confined to allowed roots, resumable."""

from __future__ import annotations

import io
import os
import tarfile

import pytest

from archiver.errors import PermanentStorageError
from archiver.storage import get_storage, work

from .conftest import make_dataset, origdatablocks, tree

PID = "PID.TEST/r1"


@pytest.fixture
def archived(fs_settings, roots):
    paths = make_dataset(roots["data"] / "ds")
    storage = get_storage(fs_settings)
    dataset = {"pid": PID, "sourceFolder": "/scicat/data/ds"}
    blocks = [b.body for b in storage.archive(dataset, origdatablocks(paths))]
    return storage, dataset, blocks


def flip_byte_in(tar_path: str, member: str) -> None:
    with tarfile.open(tar_path) as archive_file:
        offset = archive_file.getmember(member).offset_data
    with open(tar_path, "r+b") as raw:
        raw.seek(offset)
        byte = raw.read(1)
        raw.seek(offset)
        raw.write(bytes([byte[0] ^ 0xFF]))


def test_a_corrupted_tar_is_reported_with_the_file_names(archived):
    storage, dataset, blocks = archived
    block = next(b for b in blocks if any(f["path"] == "sub/a.txt" for f in b["dataFileList"]))
    flip_byte_in(block["archiveId"], "sub/a.txt")
    with work.step_run(job_id="job-c"), pytest.raises(PermanentStorageError) as caught:
        storage.retrieve(dataset, blocks, None)
    assert "sub/a.txt: sha256 checksum differs" in str(caught.value)
    assert getattr(caught.value, "kind", "system") == "system"


def test_a_tar_damaged_in_its_headers_is_reported(archived):
    storage, dataset, blocks = archived
    with open(blocks[-1]["archiveId"], "r+b") as raw:
        raw.write(b"\xff" * 600)
    with work.step_run(job_id="job-h"), pytest.raises(PermanentStorageError, match="damaged"):
        storage.retrieve(dataset, blocks, None)


def test_a_destination_outside_the_allowed_roots_is_refused(archived, roots):
    storage, dataset, blocks = archived
    for destination in (str(roots["elsewhere"]), str(roots["retrieve"]) + "/../elsewhere", "rel"):
        with pytest.raises(PermanentStorageError, match="not under an allowed") as caught:
            storage.retrieve(dataset, blocks, destination)
        assert caught.value.kind == "user"
    (roots["retrieve"] / "sneaky").symlink_to(roots["elsewhere"])
    with pytest.raises(PermanentStorageError, match="not under an allowed"):
        storage.retrieve(dataset, blocks, str(roots["retrieve"] / "sneaky"))
    assert list(roots["elsewhere"].iterdir()) == []


def test_a_destination_under_an_allowed_root_is_used(fs_settings, archived, roots):
    _, dataset, blocks = archived
    storage = get_storage(fs_settings.replace(retrieve_allowed_roots=(str(roots["elsewhere"]),)))
    restored = storage.retrieve(dataset, blocks, str(roots["elsewhere"] / "mine"))
    target = roots["elsewhere"] / "mine" / "PID.TEST%2Fr1"
    assert {r.location for r in restored} == {str(target)}
    assert tree(target) == tree(roots["data"] / "ds")


def hostile_tar(path, member: tarfile.TarInfo, data: bytes = b"") -> dict:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as out:
        member.size = len(data) if member.isreg() else 0
        out.addfile(member, io.BytesIO(data) if member.isreg() else None)
    return {"archiveId": str(path), "size": 1, "chkAlg": "sha256", "dataFileList": []}


@pytest.mark.parametrize(
    ("name", "link"),
    [("/etc/evil", None), ("../evil", None), ("a/../../evil", None)],
)
def test_members_that_would_escape_the_target_are_refused(archived, roots, name, link):
    storage, dataset, _ = archived
    member = tarfile.TarInfo(name)
    if link:
        member.type, member.linkname = tarfile.SYMTYPE, link
    folder = roots["archive"] / "hostile"
    folder.mkdir()
    block = hostile_tar(folder / "block-00000.tar", member, b"owned")
    refused = "absolute or climbs out"  # links that leave: tests/storage/test_restore_safety.py
    with work.step_run(job_id="job-x"), pytest.raises(PermanentStorageError, match=refused):
        storage.retrieve(dataset, [block], None)
    assert not (roots["retrieve"].parent / "evil").exists()
    assert not any(p.is_symlink() for p in roots["retrieve"].rglob("*"))


def test_a_datablock_outside_the_archive_root_is_not_opened(archived, roots):
    storage, dataset, blocks = archived
    foreign = dict(blocks[0], archiveId=str(roots["elsewhere"] / "x.tar"))
    with work.step_run(job_id="job-f"), pytest.raises(PermanentStorageError, match="is not in"):
        storage.retrieve(dataset, [foreign], None)


def test_a_step_out_of_time_continues_and_skips_what_it_restored(archived, roots):
    storage, dataset, blocks = archived
    runs = 0
    while True:
        runs += 1
        try:
            with work.step_run(job_id="job-r"), work.budget(0):
                restored = storage.retrieve(dataset, blocks, None)
            break
        except work.ContinueLater:
            assert runs <= len(blocks)
    assert runs == len(blocks) and len(restored) == len(blocks)
    assert tree(roots["retrieve"] / "job-r" / "PID.TEST%2Fr1") == tree(roots["data"] / "ds")


def test_archiving_out_of_time_packs_one_tar_per_run_and_finishes(fs_settings, roots):
    paths = make_dataset(roots["data"] / "ds")
    storage = get_storage(fs_settings)
    dataset = {"pid": PID, "sourceFolder": "/scicat/data/ds"}
    runs, registered, reports = 0, {}, []

    def reporter(verb, pid, done, total):
        reports.append((done, total))

    while True:
        runs += 1
        try:
            with work.step_run(reporter=reporter), work.budget(0):
                for block in storage.archive(dataset, origdatablocks(paths)):
                    registered.setdefault(block.archive_id, block.body)
            break
        except work.ContinueLater:
            assert runs < 10
    assert runs == len(registered) >= 3
    assert reports[-1][0] == reports[-1][1] == sum(b["size"] for b in registered.values())
    assert all(os.path.exists(a) for a in registered)


def test_forgetting_a_job_removes_its_markers_and_keeps_the_restored_data(archived, roots):
    storage, dataset, blocks = archived
    with work.step_run(job_id="job-f"):
        storage.retrieve(dataset, blocks, None)
    markers = roots["retrieve"] / ".archiver" / "job-f"
    assert markers.is_dir()
    storage.forget_job("job-f")
    storage.forget_job("job-f")  # twice is fine (a repeated finish or fail task)
    assert not markers.exists()
    assert tree(roots["retrieve"] / "job-f" / "PID.TEST%2Fr1") == tree(roots["data"] / "ds")
