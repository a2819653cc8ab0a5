"""The tar reader and writer on their own: offsets, checksums and damaged tars."""

from __future__ import annotations

import hashlib
import os
import tarfile

import pytest

from archiver.storage import tarpack
from archiver.storage.tarpack import member_from_stat, read_tar, write_tar


def _members(folder, files):
    members = []
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        members.append(member_from_stat(name, str(path), os.stat(path), None))
    return members


@pytest.fixture
def files():
    # sizes around the 512-byte block and the read chunk, so every offset path is taken
    return {
        "a/empty": b"",
        "a/odd": os.urandom(513),
        "b/big": os.urandom(tarpack.CHUNK + 4097),
        "b/c/last": os.urandom(1000),
    }


def test_every_member_reads_back_with_the_checksum_it_was_written_with(tmp_path, files):
    members = _members(tmp_path / "src", files)
    tar = str(tmp_path / "out.tar")
    sums = write_tar(members, tar, "sha256", lambda n: None)
    found = [(info.name, info.size, digest) for info, digest in read_tar(tar, "sha256")]
    expected = [(n, len(c), hashlib.sha256(c).hexdigest()) for n, c in files.items()]
    assert found == expected
    assert sums == [d for _, _, d in expected]
    with tarfile.open(tar) as plain:  # and the standard library agrees on every byte
        assert {m.name: plain.extractfile(m).read() for m in plain} == files


def test_the_sink_receives_exactly_each_members_bytes(tmp_path, files):
    tar = str(tmp_path / "out.tar")
    write_tar(_members(tmp_path / "src", files), tar, "sha256", lambda n: None)
    copies = {}

    def sink(info):
        path = tmp_path / "copy" / info.name.replace("/", "_")
        path.parent.mkdir(exist_ok=True)
        copies[info.name] = path
        return open(path, "wb")

    list(read_tar(tar, "sha256", sink))
    assert {name: path.read_bytes() for name, path in copies.items()} == files


def test_a_tar_cut_inside_a_members_data_is_an_error(tmp_path, files):
    tar = tmp_path / "out.tar"
    write_tar(_members(tmp_path / "src", files), str(tar), "sha256", lambda n: None)
    with tarfile.open(tar) as plain:
        big = plain.getmember("b/big")
    os.truncate(tar, big.offset_data + 1000)
    with pytest.raises(tarfile.ReadError, match="b/big: unexpected end of data"):
        list(read_tar(str(tar), "sha256"))


def test_a_flipped_byte_changes_only_that_members_checksum(tmp_path, files):
    tar = tmp_path / "out.tar"
    sums = write_tar(_members(tmp_path / "src", files), str(tar), "sha256", lambda n: None)
    with tarfile.open(tar) as plain:
        odd = plain.getmember("a/odd")
    with open(tar, "r+b") as raw:
        raw.seek(odd.offset_data + 7)
        byte = raw.read(1)
        raw.seek(odd.offset_data + 7)
        raw.write(bytes([byte[0] ^ 0xFF]))
    found = [digest for _, digest in read_tar(str(tar), "sha256")]
    assert [a == b for a, b in zip(found, sums, strict=True)] == [True, False, True, True]
