"""Issue #16, case 10 (retrieve side): restores never write outside their roots.

Symlinks planted at the restore target, symlink chains inside a dataset, links in a tar that
lead out, and a checksum failure that must leave no unverified file behind.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest

from archiver.errors import PermanentStorageError
from archiver.storage import get_storage, work
from archiver.storage.folders import Target
from archiver.storage.restore import restore_tar

from .conftest import origdatablocks, tree
from .test_filesystem_retrieve import flip_byte_in

PID = "PID.TEST/safe"
PID_NAME = "PID.TEST%2Fsafe"
CHAIN = {"s1": ".", "s2": ".", "s3": ".", "x": "s1/s2/s3/../../../outside"}


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def archived(fs_settings, roots):
    src = roots["data"] / "ds"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha\n")
    (src / "sub" / "b.txt").write_text("beta\n")
    (src / "sub" / "c.txt").write_text("gamma\n")
    storage = get_storage(fs_settings)
    dataset = {"pid": PID, "sourceFolder": "/scicat/data/ds"}
    paths = ["a.txt", "sub/b.txt", "sub/c.txt"]
    blocks = [b.body for b in storage.archive(dataset, origdatablocks(paths))]
    return storage, dataset, blocks


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder


def test_a_symlink_planted_at_the_job_folder_does_not_redirect_the_restore(
    archived, roots, outside
):
    storage, dataset, blocks = archived
    (roots["retrieve"] / "job-p").symlink_to(outside)
    with work.step_run(job_id="job-p"), pytest.raises(PermanentStorageError, match="symlink"):
        storage.retrieve(dataset, blocks, None)
    assert files_under(outside) == []


def test_a_symlink_planted_at_the_pid_folder_of_a_destination_is_refused(
    fs_settings, archived, roots, outside
):
    _, dataset, blocks = archived
    storage = get_storage(fs_settings.replace(retrieve_allowed_roots=(str(roots["elsewhere"]),)))
    (roots["elsewhere"] / "x").mkdir()
    (roots["elsewhere"] / "x" / PID_NAME).symlink_to(outside)
    with work.step_run(job_id="job-d"), pytest.raises(PermanentStorageError, match="symlink"):
        storage.retrieve(dataset, blocks, str(roots["elsewhere"] / "x"))
    assert files_under(outside) == []


def test_a_symlink_chain_of_the_dataset_is_not_left_leading_outside(fs_settings, roots, outside):
    src = roots["data"] / "chain"
    src.mkdir()
    (src / "f.txt").write_text("data\n")
    for name, target in CHAIN.items():
        (src / name).symlink_to(target)
    storage = get_storage(fs_settings)
    dataset = {"pid": PID, "sourceFolder": "/scicat/data/chain"}
    blocks = [b.body for b in storage.archive(dataset, origdatablocks(["f.txt", *CHAIN]))]
    with work.step_run(job_id="job-1"):
        [restored] = storage.retrieve(dataset, blocks, None)
    target = roots["retrieve"] / "job-1" / PID_NAME
    assert target.parent.parent.parent / "outside" == outside  # x would resolve to it
    assert not (target / "x").is_symlink(), "x resolves outside once s1..s3 exist"
    assert [os.readlink(target / n) for n in ("s1", "s2", "s3")] == [".", ".", "."]
    assert restored.skipped == ("x -> s1/s2/s3/../../../outside: resolves outside the dataset; "
                                "removed",)  # fmt: skip
    assert (target / "f.txt").read_text() == "data\n"


def test_a_planted_chain_cannot_make_a_later_retrieve_write_outside(tmp_path, outside):
    target = tmp_path / "retrieve" / "job" / "pid"
    target.mkdir(parents=True)
    for name, link in CHAIN.items():
        (target / name).symlink_to(link)
    for member in ("x/owned", "s3/owned", "s1/s2/s3/owned"):
        tar = tmp_path / "evil.tar"
        with tarfile.open(tar, "w", format=tarfile.PAX_FORMAT) as out:
            info = tarfile.TarInfo(member)
            info.size = 5
            out.addfile(info, io.BytesIO(b"owned"))
        block = {"chkAlg": "sha256", "dataFileList": [{"path": member, "size": 5}]}
        with pytest.raises(PermanentStorageError, match="is a symlink or not a folder"):
            restore_tar(str(tar), Target(str(tmp_path / "retrieve"), ("job", "pid")), block)
    assert files_under(outside) == []
    assert not list(tmp_path.rglob("owned"))


def test_a_link_in_the_tar_that_leads_out_is_not_created_and_is_reported(tmp_path, outside):
    tar = tmp_path / "t.tar"
    with tarfile.open(tar, "w", format=tarfile.PAX_FORMAT) as out:
        for name, link in (("up", "../../outside"), ("abs", "/etc"), ("ok", "f")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, link
            out.addfile(info)
    files = [
        {"path": n, "size": 0, "chk": hashlib.sha256(t.encode()).hexdigest()}
        for n, t in (("up", "../../outside"), ("abs", "/etc"), ("ok", "f"))
    ]
    (tmp_path / "r").mkdir()
    result = restore_tar(str(tar), Target(str(tmp_path / "r"), ("pid",)), {"dataFileList": files})
    assert result.problems == []
    assert result.skipped == [
        "up -> ../../outside: leads out of the dataset folder; not created",
        "abs -> /etc: leads out of the dataset folder; not created",
    ]
    assert sorted(os.listdir(tmp_path / "r" / "pid")) == ["ok"]


def test_after_a_checksum_failure_no_file_of_that_tar_is_left(archived, roots):
    storage, dataset, blocks = archived
    [block] = blocks
    flip_byte_in(block["archiveId"], "sub/b.txt")
    with work.step_run(job_id="job-c"), pytest.raises(PermanentStorageError) as caught:
        storage.retrieve(dataset, blocks, None)
    assert "sub/b.txt: sha256 checksum differs" in str(caught.value)
    assert "none of this tar's files was kept" in str(caught.value)
    target = roots["retrieve"] / "job-c" / PID_NAME
    assert [p for p in target.rglob("*") if not p.is_dir()] == [], "unverified files left"


def test_a_restore_replaces_an_old_file_or_link_at_a_name_without_following_it(
    archived, roots, outside
):
    storage, dataset, blocks = archived
    target = roots["retrieve"] / "job-o" / PID_NAME
    (target / "sub").mkdir(parents=True)
    (target / "a.txt").symlink_to(outside / "victim")
    (target / "sub" / "b.txt").write_text("stale")
    with work.step_run(job_id="job-o"):
        storage.retrieve(dataset, blocks, None)
    assert tree(target) == tree(roots["data"] / "ds")
    assert files_under(outside) == []
