"""OrigDatablocks and DataBlocks on the ``next`` flavour."""

import json

from .helpers import ARCHIVE_MANAGER, FILES, Client, block_body, quote


def _pid(client):
    return client.emu.add_dataset()


def test_an_origdatablock_adds_to_the_dataset_size_and_file_count(nxt):
    pid = _pid(nxt)
    answer = nxt.post(f"/datasets/{quote(pid)}/origdatablocks", {"size": 10, "dataFileList": FILES})
    assert answer.status_code == 201
    doc = answer.json()
    assert doc["_id"] == doc["id"] and doc["datasetId"] == pid and doc["createdAt"]
    assert nxt.emu.dataset(pid)["size"] == 10 and nxt.emu.dataset(pid)["numberOfFiles"] == 1
    listed = nxt.get(f"/datasets/{quote(pid)}/origdatablocks").json()
    assert [b["_id"] for b in listed] == [doc["_id"]]


def test_origdatablocks_validate_size_files_and_keys(nxt):
    url = f"/datasets/{quote(_pid(nxt))}/origdatablocks"
    assert nxt.post(url, {"size": 1.5, "dataFileList": FILES}).status_code == 400
    assert nxt.post(url, {"size": 1, "dataFileList": []}).status_code == 400
    assert nxt.post(url, {"size": 1, "dataFileList": [{"path": "a"}]}).status_code == 400
    bad_file = [{**FILES[0], "colour": "red"}]
    assert nxt.post(url, {"size": 1, "dataFileList": bad_file}).status_code == 400
    assert nxt.post(url, {"size": 1, "dataFileList": FILES, "datasetId": "x"}).status_code == 400
    full_file = [{**FILES[0], "chk": "x", "uid": "1", "gid": "1", "perm": "rw", "type": "f"}]
    assert nxt.post(url, {"size": 1, "dataFileList": full_file}).status_code == 201


def test_origdatablocks_can_be_created_with_a_dataset_id(nxt):
    pid = _pid(nxt)
    answer = nxt.post("/origdatablocks", {"datasetId": pid, "size": 10, "dataFileList": FILES})
    assert answer.status_code == 201 and answer.json()["datasetId"] == pid


def test_a_datablock_adds_packed_size_and_archived_files_and_deleting_subtracts(nxt):
    pid = _pid(nxt)
    answer = nxt.post(f"/datasets/{quote(pid)}/datablocks", block_body())
    assert answer.status_code == 201
    doc = answer.json()
    assert doc["_id"] == doc["id"] and doc["datasetId"] == pid
    dataset = nxt.emu.dataset(pid)
    assert dataset["packedSize"] == 12 and dataset["numberOfFilesArchived"] == 1
    manager = Client(nxt.emu, account=ARCHIVE_MANAGER)  # DELETE_GROUPS=archivemanager
    assert manager.delete(f"/datasets/{quote(pid)}/datablocks/{doc['_id']}").status_code == 200
    dataset = nxt.emu.dataset(pid)
    assert dataset["packedSize"] == 0 and dataset["numberOfFilesArchived"] == 0


def test_a_duplicate_archive_id_answers_500_on_the_sub_route_and_409_on_datablocks(nxt):
    pid = _pid(nxt)
    assert nxt.post(f"/datasets/{quote(pid)}/datablocks", block_body()).status_code == 201
    again = nxt.post(f"/datasets/{quote(pid)}/datablocks", block_body())
    assert again.status_code == 500
    assert again.json() == {"statusCode": 500, "message": "Internal server error"}
    other = nxt.post("/datablocks", {**block_body(), "datasetId": pid})
    assert other.status_code == 409
    assert len(nxt.emu.datablocks(pid)) == 1


def test_datablock_bodies_need_integer_sizes_files_and_no_dataset_fields(nxt):
    url = f"/datasets/{quote(_pid(nxt))}/datablocks"
    assert nxt.post(url, block_body(size=1.5)).status_code == 400
    assert nxt.post(url, block_body(packedSize="12")).status_code == 400
    assert nxt.post(url, block_body(dataFileList=[])).status_code == 400
    for key in ("datasetId", "ownerGroup", "accessGroups", "instrumentGroup"):
        assert nxt.post(url, block_body(**{key: "x"})).status_code == 400, key
    body = block_body()
    del body["version"]
    assert nxt.post(url, body).status_code == 400


def test_datablocks_can_be_listed_filtered_and_deleted_in_every_way(nxt):
    pid, other = _pid(nxt), _pid(nxt)
    for n in range(3):
        nxt.post(f"/datasets/{quote(pid)}/datablocks", block_body(f"/a/{n}.tar"))
    nxt.post("/datablocks", {**block_body("/b/0.tar"), "datasetId": other})
    assert len(nxt.get(f"/datasets/{quote(pid)}/datablocks").json()) == 3
    filt = json.dumps({"where": {"datasetId": other}})
    found = nxt.get("/datablocks", params={"filter": filt}).json()
    assert [b["archiveId"] for b in found] == ["/b/0.tar"]
    assert nxt.get(f"/datablocks/{found[0]['_id']}").json()["archiveId"] == "/b/0.tar"
    manager = Client(nxt.emu, account=ARCHIVE_MANAGER)  # DELETE_GROUPS=archivemanager
    assert manager.delete(f"/datablocks/{found[0]['_id']}").status_code == 200
    assert manager.delete(f"/datasets/{quote(pid)}/datablocks").status_code == 200
    assert nxt.emu.datablocks(pid) == [] and nxt.emu.dataset(pid)["packedSize"] == 0
    assert manager.delete(f"/datablocks/{found[0]['_id']}").status_code == 404
