"""A folder of 20 000 small files: split over several OrigDatablocks, memory stays flat."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from archiver.ingest.ingest import IngestOptions, ingest_folder

from .conftest import make_dataset

FILES = 20_000
PER_BLOCK = 1_000


def many_files(parent: Path, name: str, count: int) -> Path:
    folder = make_dataset(parent, name, files={"first.dat": b"x"})
    for index in range(count - 1):
        sub = folder / f"d{index % 7}"
        if index < 7:
            sub.mkdir()
        (sub / f"f{index:05d}.dat").write_bytes(b"%d" % index)
    return folder


class CountingClient:
    """Stands in for SciCat and keeps only counts, so the test measures the ingest itself."""

    generation = "next"

    def __init__(self) -> None:
        self.blocks = 0
        self.files = 0

    def create_dataset(self, body: Any) -> dict[str, Any]:
        return {"pid": "p/1", **body}

    def create_origdatablock(self, pid: str, body: Any) -> dict[str, Any]:
        self.blocks += 1
        self.files += len(body["dataFileList"])
        return {}


def peak_of_ingest(folder: Path) -> tuple[int, CountingClient]:
    client = CountingClient()
    options = IngestOptions(checksum="sha256", max_files=PER_BLOCK)
    gc.collect()
    tracemalloc.start()
    try:
        ingest_folder(client, folder, options)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, client


@pytest.fixture(scope="module")
def big_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return many_files(tmp_path_factory.mktemp("big"), "big", FILES)


def test_memory_does_not_grow_with_the_file_count_beyond_one_block(big_folder, tmp_path):
    small = many_files(tmp_path, "small", 2 * PER_BLOCK)
    small_peak, small_client = peak_of_ingest(small)
    big_peak, big_client = peak_of_ingest(big_folder)
    assert (small_client.blocks, small_client.files) == (2, 2 * PER_BLOCK)
    assert (big_client.blocks, big_client.files) == (FILES // PER_BLOCK, FILES)
    # Ten times the files, about the same peak: only one block's list is ever held.
    assert big_peak < small_peak * 1.5, (small_peak, big_peak)


def test_twenty_thousand_files_are_split_over_several_origdatablocks(
    big_folder, emulator_factory, archiver
):
    emu = emulator_factory(flavour="next")
    result = archiver(emu, "ingest", "--max-files", "5000", "--checksum", "none", str(big_folder))
    assert result.exit_code == 0, result.output
    pid = result.stdout.split()[-1]
    blocks = emu.origdatablocks(pid)
    assert [len(b["dataFileList"]) for b in blocks] == [5000, 5000, 5000, 5000]
    paths = {f["path"] for b in blocks for f in b["dataFileList"]}
    assert len(paths) == FILES and "transfer.yaml" not in paths
    dataset = emu.dataset(pid)
    assert dataset["numberOfFiles"] == FILES
    assert dataset["size"] == sum(b["size"] for b in blocks)


def test_a_byte_limit_also_splits_and_a_large_file_gets_a_block_of_its_own(tmp_path):
    folder = make_dataset(
        tmp_path, files={"a": b"1" * 40, "b": b"2" * 40, "huge": b"3" * 500, "c": b"4" * 40}
    )
    client = CountingClient()
    sizes: list[int] = []
    real = client.create_origdatablock

    def record(pid: str, body: Any) -> dict[str, Any]:
        sizes.append(body["size"])
        return real(pid, body)

    client.create_origdatablock = record  # type: ignore[method-assign]
    ingest_folder(client, folder, IngestOptions(max_bytes=100))  # type: ignore[arg-type]
    assert sorted(sizes) == [40, 80, 500] or sorted(sizes) == [40, 40, 40, 500]
    assert sum(sizes) == 620 and max(sizes) == 500
