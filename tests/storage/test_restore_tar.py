""":func:`archiver.storage.restore.restore_tar` on its own: one tar, one DataBlock, a folder.

The tars are written here with :mod:`tarfile` (what any tar tool makes), so the checks do
not depend on the archiver's own writer: a faithful tar restores with no problem and keeps
modes and times; every disagreement with the DataBlock is named per file; a member that
would land outside the folder is refused.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest

from archiver.errors import UnsafeMember
from archiver.storage.folders import Target
from archiver.storage.restore import Restored, restore_tar

FILES = {"a.txt": b"alpha\n", "sub/b.bin": bytes(range(256)) * 8}
MTIME = 1_700_000_000


def write_tar(path: Path, files: dict[str, bytes], links: dict[str, str] | None = None) -> None:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o640, MTIME
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.mtime = tarfile.SYMTYPE, target, MTIME
            tar.addfile(info)


def block_for(files: dict[str, bytes]) -> dict:
    entries = [
        {"path": name, "size": len(data), "chk": hashlib.sha256(data).hexdigest()}
        for name, data in files.items()
    ]
    return {"chkAlg": "sha256", "dataFileList": entries}


def restore(tar: Path, folder: Path, block: dict) -> Restored:
    """Restore ``tar`` into ``folder`` (a folder below a trusted root, as the backends do)."""
    return restore_tar(str(tar), Target(str(folder.parent), (folder.name,)), block)


def test_a_faithful_tar_restores_every_file_with_its_mode_and_time(tmp_path):
    write_tar(tmp_path / "b.tar", FILES)
    target = tmp_path / "out"
    assert restore(tmp_path / "b.tar", target, block_for(FILES)).problems == []
    for name, data in FILES.items():
        restored = target / name
        assert restored.read_bytes() == data
        assert restored.stat().st_mode & 0o777 == 0o640 and restored.stat().st_mtime == MTIME


def test_every_disagreement_with_the_datablock_is_named(tmp_path):
    changed = {**FILES, "a.txt": b"ALPHA\n"}  # same size, other content
    write_tar(tmp_path / "b.tar", {**changed, "extra.txt": b"x"})
    block = block_for({**FILES, "gone.txt": b"never packed"})
    problems = restore(tmp_path / "b.tar", tmp_path / "out", block).problems
    assert problems == [
        "a.txt: sha256 checksum differs from the DataBlock",
        "extra.txt: in the tar but not in the DataBlock",
        "gone.txt: missing from the tar",
    ]


def test_a_size_that_differs_is_named(tmp_path):
    write_tar(tmp_path / "b.tar", FILES)
    block = block_for(FILES)
    block["dataFileList"][0]["size"] += 1
    problems = restore(tmp_path / "b.tar", tmp_path / "out", block).problems
    assert problems == ["a.txt: size differs from the DataBlock"]


@pytest.mark.parametrize(
    ("files", "links", "words"),
    [
        ({"../evil.txt": b"x"}, {}, "climbs out"),
        ({"/abs.txt": b"x"}, {}, "climbs out"),
    ],
    ids=["dot-dot", "absolute"],
)
def test_a_member_that_would_land_outside_the_folder_is_refused(tmp_path, files, links, words):
    write_tar(tmp_path / "b.tar", files, links)
    target = tmp_path / "deep" / "out"
    target.parent.mkdir()
    with pytest.raises(UnsafeMember, match=words):
        restore(tmp_path / "b.tar", target, block_for(files))
    assert sorted(os.listdir(tmp_path)) == ["b.tar", "deep"]
    assert not (tmp_path / "deep" / "evil.txt").exists()
