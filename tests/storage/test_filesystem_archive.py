"""The filesystem storage archives real folders into verified tars and restores them."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from archiver.errors import PermanentStorageError, TransientStorageError
from archiver.storage import get_storage, tarpack, work
from archiver.storage.filesystem import VERSION, FilesystemStorage

from .conftest import TAR_LIMIT, make_dataset, origdatablocks, tree

PID = "PID.TEST/ds 1"


def archive(settings, roots, paths=None, folder="ds"):
    src = roots["data"] / folder
    if paths is None:
        paths = make_dataset(src)
    dataset = {"pid": PID, "sourceFolder": f"/scicat/data/{folder}"}
    storage = get_storage(settings)
    return storage, dataset, [b.body for b in storage.archive(dataset, origdatablocks(paths))]


def test_a_folder_is_archived_and_restored_byte_for_byte(fs_settings, roots):
    storage, dataset, blocks = archive(fs_settings, roots)
    with work.step_run(job_id="job-1"):
        restored = storage.retrieve(dataset, blocks, None)
    target = roots["retrieve"] / "job-1" / "PID.TEST%2Fds%201"
    assert tree(target) == tree(roots["data"] / "ds")
    assert {r.location for r in restored} == {str(target)}
    assert all(r.verified for r in restored)


def test_datablocks_describe_the_real_tars(fs_settings, roots):
    _, _, blocks = archive(fs_settings, roots)
    for body in blocks:
        tar = Path(body["archiveId"])
        assert tar.parent.parent == roots["archive"]
        assert body["packedSize"] == tar.stat().st_size <= TAR_LIMIT or body["size"] > TAR_LIMIT
        assert body["chkAlg"] == "sha256" and body["version"] == VERSION
        assert body["size"] == sum(f["size"] for f in body["dataFileList"])
        with tarfile.open(tar) as archive_file:
            names = archive_file.getnames()
        assert names == [f["path"] for f in body["dataFileList"]]
    files = {f["path"]: f for b in blocks for f in b["dataFileList"]}
    alpha = files["sub/a.txt"]
    assert alpha["chk"] == hashlib.sha256(b"alpha\n").hexdigest()
    assert alpha["perm"] == "-rw-r-----" and alpha["size"] == 6
    assert alpha["uid"] == str(os.getuid()) and alpha["time"].endswith("Z")
    assert files["sub/link-to-a"]["perm"].startswith("l")
    assert set(alpha) == {"path", "size", "time", "chk", "uid", "gid", "perm"}


def test_a_file_larger_than_the_tar_limit_gets_a_tar_of_its_own(fs_settings, roots):
    _, _, blocks = archive(fs_settings, roots)
    big = [b for b in blocks if any(f["path"] == "big.bin" for f in b["dataFileList"])]
    assert len(big) == 1 and len(big[0]["dataFileList"]) == 1
    assert len(blocks) >= 3  # the rest does not fit one tar of TAR_LIMIT either


def test_a_repeated_run_keeps_the_verified_tars_and_yields_the_same_blocks(fs_settings, roots):
    storage, dataset, blocks = archive(fs_settings, roots)
    stamps = {b["archiveId"]: os.stat(b["archiveId"]).st_mtime_ns for b in blocks}
    again = [b.body for b in storage.archive(dataset, origdatablocks(make_paths(roots)))]
    assert again == blocks
    assert stamps == {b["archiveId"]: os.stat(b["archiveId"]).st_mtime_ns for b in blocks}


def make_paths(roots):
    return sorted(
        str(p.relative_to(roots["data"] / "ds"))
        for p in (roots["data"] / "ds").rglob("*")
        if p.is_file() or p.is_symlink()
    )


def test_a_tar_without_its_manifest_or_truncated_is_written_again(fs_settings, roots):
    storage, dataset, blocks = archive(fs_settings, roots)
    first, second = blocks[0]["archiveId"], blocks[1]["archiveId"]
    os.unlink(first + ".json")
    with open(second, "r+b") as damaged:
        damaged.truncate(1024)
    again = [b.body for b in storage.archive(dataset, origdatablocks(make_paths(roots)))]
    assert [b["dataFileList"] for b in again] == [b["dataFileList"] for b in blocks]
    assert os.path.exists(first + ".json")
    assert os.path.getsize(second) == blocks[1]["packedSize"]


def test_missing_and_unreadable_files_are_a_user_error_listing_every_file(fs_settings, roots):
    paths = make_dataset(roots["data"] / "ds")
    (roots["data"] / "ds" / "sub" / "a.txt").unlink()
    paths += ["not/there.dat", "../escape.txt"]
    storage = get_storage(fs_settings)
    dataset = {"pid": PID, "sourceFolder": "/scicat/data/ds"}
    with pytest.raises(PermanentStorageError) as caught:
        list(storage.archive(dataset, origdatablocks(paths)))
    message = str(caught.value)
    assert getattr(caught.value, "kind", "") == "user"
    for name in ("sub/a.txt: missing", "not/there.dat: missing", "'../escape.txt'"):
        assert name in message
    assert not list(roots["archive"].rglob("*.tar"))


@pytest.mark.parametrize("target", ["/etc/passwd", "../../outside", "../.."])
def test_a_symlink_leaving_the_dataset_folder_is_refused_and_never_followed(
    fs_settings, roots, target
):
    folder = roots["data"] / "ds"
    folder.mkdir()
    (folder / "ok.txt").write_text("x")
    (folder / "escape").symlink_to(target)
    storage = get_storage(fs_settings)
    dataset = {"pid": PID, "sourceFolder": "/scicat/data/ds"}
    with pytest.raises(PermanentStorageError, match="escape: symlink to .* leaves"):
        list(storage.archive(dataset, origdatablocks(["ok.txt", "escape"])))


def test_a_folder_reached_through_a_symlink_out_of_the_dataset_is_refused(fs_settings, roots):
    folder = roots["data"] / "ds"
    folder.mkdir()
    (roots["elsewhere"] / "secret.txt").write_text("no")
    (folder / "door").symlink_to(roots["elsewhere"])
    storage = get_storage(fs_settings)
    dataset = {"pid": PID, "sourceFolder": "/scicat/data/ds"}
    with pytest.raises(PermanentStorageError, match="door/secret.txt: its folder leads out"):
        list(storage.archive(dataset, origdatablocks(["door/secret.txt"])))


def test_an_error_in_the_middle_of_a_tar_leaves_no_partial_tar(fs_settings, roots, monkeypatch):
    paths = make_dataset(roots["data"] / "ds")
    real_copy = tarpack._copy
    calls = []

    def failing_copy(src, out, size, hasher):
        calls.append(size)
        if len(calls) == 3:
            out.write(b"half a file")
            raise OSError(28, "No space left on device")
        return real_copy(src, out, size, hasher)

    monkeypatch.setattr(tarpack, "_copy", failing_copy)
    storage = get_storage(fs_settings)
    dataset = {"pid": PID, "sourceFolder": "/scicat/data/ds"}
    with pytest.raises(TransientStorageError, match="No space left"):
        list(storage.archive(dataset, origdatablocks(paths)))
    leftovers = [p.name for p in roots["archive"].rglob("*") if p.is_file()]
    assert not [n for n in leftovers if n.endswith(".part")]
    monkeypatch.setattr(tarpack, "_copy", real_copy)
    blocks = [b.body for b in storage.archive(dataset, origdatablocks(paths))]
    with work.step_run(job_id="after-error"):
        storage.retrieve(dataset, blocks, None)
    assert tree(roots["retrieve"] / "after-error" / "PID.TEST%2Fds%201") == tree(
        roots["data"] / "ds"
    )


def test_other_checksums_can_be_chosen(fs_settings, roots):
    _, _, blocks = archive(fs_settings.replace(checksum="md5"), roots)
    files = {f["path"]: f for b in blocks for f in b["dataFileList"]}
    assert blocks[0]["chkAlg"] == "md5"
    assert files["sub/a.txt"]["chk"] == hashlib.md5(b"alpha\n").hexdigest()
    assert os.path.exists(blocks[0]["archiveId"] + ".md5")


def test_the_archive_restores_by_hand_with_plain_tar_and_sha256sum(fs_settings, roots, tmp_path):
    _, _, blocks = archive(fs_settings, roots)
    out = tmp_path / "by-hand"
    out.mkdir()
    for body in blocks:
        subprocess.run(["tar", "-xf", body["archiveId"], "-C", str(out)], check=True)
        subprocess.run(
            ["sha256sum", "--quiet", "-c", body["archiveId"] + ".sha256"], cwd=out, check=True
        )
        manifest = json.loads(Path(body["archiveId"] + ".json").read_text())
        assert manifest["block"] == body
    assert tree(out) == tree(roots["data"] / "ds")


def test_the_backend_needs_its_roots():
    from archiver.errors import ConfigError
    from archiver.settings import Settings

    with pytest.raises(ConfigError, match="ARCHIVER_ARCHIVE_ROOT"):
        FilesystemStorage(Settings(storage="filesystem"))
