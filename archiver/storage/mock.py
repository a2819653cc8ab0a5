"""The ``mock`` storage: moves no data, but produces DataBlocks a real SciCat accepts.

Like the old ScicatArchiveMock it only describes an archive; unlike it, blocks are split by
``ARCHIVER_BLOCK_MAX_BYTES`` and ``ARCHIVER_BLOCK_MAX_FILES``, sizes are integers, and the
``archiveId`` of block *n* of a dataset is always the same, so a repeated run can tell which
blocks already exist. Retrieval "restores" nothing and reports where data would land.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from archiver.settings import Settings
from archiver.storage.base import ArchivedBlock, RetrievedBlock, Storage, clean_datafile

#: Packing-format version written into every mock DataBlock.
MOCK_VERSION = "scicat-archiver-mock/1"
#: Where mock archives pretend to live.
ARCHIVE_ROOT = "/archive/mock"
#: Where mock retrievals pretend to land.
RETRIEVE_ROOT = "/retrieve/mock"


def mock_archive_id(pid: str, index: int) -> str:
    """The deterministic ``archiveId`` of block ``index`` of dataset ``pid``."""
    return f"{ARCHIVE_ROOT}/{pid}/block-{index:05d}.tar"


class MockStorage(Storage):
    """Storage that describes an archive without writing one."""

    name = "mock"

    def __init__(self, settings: Settings) -> None:
        self.max_bytes = settings.block_max_bytes
        self.max_files = settings.block_max_files

    def archive(
        self, dataset: Mapping[str, Any], origdatablocks: Iterable[Mapping[str, Any]]
    ) -> Iterator[ArchivedBlock]:
        pid = str(dataset["pid"])
        default_time = str(dataset.get("creationTime") or "1970-01-01T00:00:00.000Z")
        ordered = sorted(origdatablocks, key=lambda b: str(b.get("_id") or b.get("id") or ""))
        chk_alg = next((str(b["chkAlg"]) for b in ordered if b.get("chkAlg")), "none")
        files: list[dict[str, Any]] = []
        size = 0
        index = 0
        for block in ordered:
            for entry in block.get("dataFileList") or ():
                datafile = clean_datafile(entry, default_time)
                full = len(files) >= self.max_files
                if files and (full or size + datafile["size"] > self.max_bytes):
                    yield self._block(pid, index, files, size, chk_alg)
                    index += 1
                    files, size = [], 0
                files.append(datafile)
                size += datafile["size"]
        if files:
            yield self._block(pid, index, files, size, chk_alg)

    def _block(
        self, pid: str, index: int, files: list[dict[str, Any]], size: int, chk_alg: str
    ) -> ArchivedBlock:
        body = {
            "archiveId": mock_archive_id(pid, index),
            "size": size,
            "packedSize": size,
            "chkAlg": chk_alg,
            "version": MOCK_VERSION,
            "dataFileList": files,
        }
        return ArchivedBlock(index, body)

    def retrieve(
        self,
        dataset: Mapping[str, Any],
        datablocks: Iterable[Mapping[str, Any]],
        destination: str | None,
    ) -> list[RetrievedBlock]:
        root = destination or f"{RETRIEVE_ROOT}/{dataset['pid']}"
        return [
            RetrievedBlock(str(b["archiveId"]), int(b.get("size") or 0), root, verified=False)
            for b in sorted(datablocks, key=lambda b: str(b.get("archiveId")))
        ]
