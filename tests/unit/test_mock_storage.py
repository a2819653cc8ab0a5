"""The mock storage: SciCat-acceptable DataBlocks, split by size and count, deterministic."""

from __future__ import annotations

from archiver.settings import Settings
from archiver.storage import get_storage
from archiver.storage.mock import MockStorage, mock_archive_id

DATASET = {"pid": "PID.X/ds1", "creationTime": "2024-05-01T10:00:00.000Z"}


def orig(oid, sizes, **extra):
    files = [
        {"path": f"{oid}/f{i}.dat", "size": s, "time": "2024-05-01T09:00:00Z", **extra}
        for i, s in enumerate(sizes)
    ]
    return {"_id": oid, "datasetId": "PID.X/ds1", "size": sum(sizes), "dataFileList": files}


def blocks(settings, origs):
    return [b.body for b in MockStorage(settings).archive(DATASET, origs)]


def test_one_small_origdatablock_gives_one_block_with_integer_sizes():
    [body] = blocks(Settings(), [orig("o1", [10, 20.0])])
    assert body["size"] == 30 and isinstance(body["size"], int)
    assert body["packedSize"] == 30 and isinstance(body["packedSize"], int)
    assert body["archiveId"] == mock_archive_id("PID.X/ds1", 0)
    assert body["version"] and body["chkAlg"]
    assert [f["size"] for f in body["dataFileList"]] == [10, 20]
    assert "datasetId" not in body


def test_blocks_split_by_file_count():
    bodies = blocks(Settings(block_max_files=2), [orig("o1", [1, 1, 1, 1, 1])])
    assert [len(b["dataFileList"]) for b in bodies] == [2, 2, 1]
    assert [b["archiveId"] for b in bodies] == [mock_archive_id("PID.X/ds1", i) for i in range(3)]


def test_blocks_split_by_size_and_a_huge_file_gets_its_own_block():
    bodies = blocks(Settings(block_max_bytes=100), [orig("o1", [60, 30, 500, 20])])
    assert [b["size"] for b in bodies] == [90, 500, 20]


def test_same_input_in_any_order_gives_the_same_blocks():
    a = orig("a", [5, 6])
    b = orig("b", [7])
    assert blocks(Settings(block_max_files=2), [a, b]) == blocks(
        Settings(block_max_files=2), [b, a]
    )


def test_only_datafile_keys_scicat_accepts_are_kept():
    o = orig("o1", [3], chk="abc", uid=1000, gid="1000", perm="-rw-r--r--", id="x", createdBy="me")
    [body] = blocks(Settings(), [o])
    assert set(body["dataFileList"][0]) == {"path", "size", "time", "chk", "uid", "gid", "perm"}
    assert body["dataFileList"][0]["uid"] == "1000"


def test_missing_file_time_falls_back_to_the_dataset_creation_time():
    o = {"_id": "o", "dataFileList": [{"path": "x", "size": 1}]}
    [body] = blocks(Settings(), [o])
    assert body["dataFileList"][0]["time"] == DATASET["creationTime"]


def test_no_files_gives_no_block():
    assert blocks(Settings(), [{"_id": "o", "dataFileList": []}]) == []


def test_retrieve_reports_each_block_and_where_data_lands():
    result = MockStorage(Settings()).retrieve(
        DATASET, [{"archiveId": "b", "size": 2}, {"archiveId": "a", "size": 1}], None
    )
    assert [(r.archive_id, r.size) for r in result] == [("a", 1), ("b", 2)]
    assert all(r.location.endswith("PID.X/ds1") and not r.verified for r in result)


def test_get_storage_returns_the_mock_by_default():
    assert get_storage(Settings()).name == "mock"
