"""Datasets and their lifecycle on the ``next`` flavour."""

import json

from .helpers import ARCHIVE_MANAGER, Client, quote, raw_dataset

DEFAULTS = {
    "archivable": True,
    "retrievable": False,
    "publishable": False,
    "isOnCentralDisk": True,
    "archiveStatusMessage": "datasetCreated",
    "retrieveStatusMessage": "",
    "retrieveIntegrityCheck": False,
    "archiveReturnMessage": {},
    "retrieveReturnMessage": {},
}


def _create(client, **extra):
    answer = client.post("/datasets", raw_dataset(**extra))
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_new_dataset_gets_a_prefixed_pid_and_lifecycle_defaults(nxt):
    doc = _create(nxt)
    assert doc["pid"].startswith("PID.SAMPLE.PREFIX/")
    for key, value in DEFAULTS.items():
        assert doc["datasetlifecycle"][key] == value
    assert doc["datasetName"] == "p1/run1"
    assert nxt.get(f"/datasets/{quote(doc['pid'])}").json() == doc


def test_a_lifecycle_given_at_creation_wins_over_the_defaults(nxt):
    doc = _create(nxt, datasetlifecycle={"archivable": False, "storageLocation": "x"})
    assert doc["datasetlifecycle"]["archivable"] is False
    assert doc["datasetlifecycle"]["storageLocation"] == "x"
    assert doc["datasetlifecycle"]["archiveStatusMessage"] == "datasetCreated"


def test_a_given_pid_is_kept_and_a_duplicate_answers_409(nxt):
    assert _create(nxt, pid="my/pid")["pid"] == "my/pid"
    assert nxt.post("/datasets", raw_dataset(pid="my/pid")).status_code == 409


def test_unknown_keys_and_missing_required_keys_answer_400(nxt):
    assert nxt.post("/datasets", raw_dataset(colour="red")).status_code == 400
    body = raw_dataset()
    del body["principalInvestigator"]
    assert nxt.post("/datasets", body).status_code == 400
    assert nxt.post("/datasets", raw_dataset(type="weird")).status_code == 400


def test_an_absent_dataset_answers_404(nxt):
    assert nxt.get(f"/datasets/{quote('PID.SAMPLE.PREFIX/none')}").status_code == 404


def test_datasets_can_be_found_by_source_folder_and_paged(nxt):
    for _ in range(3):
        _create(nxt, sourceFolder="/data/same")
    _create(nxt, sourceFolder="/data/other")
    filt = {"where": {"sourceFolder": "/data/same"}, "limits": {"limit": 2, "skip": 0}}
    found = nxt.get("/datasets", params={"filter": json.dumps(filt)}).json()
    assert len(found) == 2 and all(d["sourceFolder"] == "/data/same" for d in found)


def test_a_dataset_can_be_deleted(nxt):
    pid = quote(_create(nxt)["pid"])
    manager = Client(nxt.emu, account=ARCHIVE_MANAGER)  # DELETE_GROUPS=archivemanager
    assert manager.delete(f"/datasets/{pid}").status_code == 200
    assert nxt.get(f"/datasets/{pid}").status_code == 404


def test_patching_a_partial_lifecycle_on_the_dataset_resets_omitted_fields(nxt):
    pid = quote(_create(nxt)["pid"])
    nxt.patch(f"/datasets/{pid}/datasetlifecycle", {"archivable": False, "retrievable": True})
    answer = nxt.patch(f"/datasets/{pid}", {"datasetlifecycle": {"archiveStatusMessage": "x"}})
    assert answer.status_code == 200
    lifecycle = answer.json()["datasetlifecycle"]
    assert lifecycle["archiveStatusMessage"] == "x"
    assert lifecycle["archivable"] is True and lifecycle["retrievable"] is False


def test_patching_the_lifecycle_route_merges_and_returns_the_whole_lifecycle(nxt):
    pid = quote(_create(nxt)["pid"])
    nxt.patch(f"/datasets/{pid}/datasetlifecycle", {"archivable": False})
    answer = nxt.patch(f"/datasets/{pid}/datasetlifecycle", {"archiveStatusMessage": "started"})
    assert answer.status_code == 200
    lifecycle = answer.json()
    assert lifecycle["archivable"] is False and lifecycle["archiveStatusMessage"] == "started"
    assert set(DEFAULTS) <= set(lifecycle)
    assert nxt.get(f"/datasets/{pid}/datasetlifecycle").json() == lifecycle


def test_the_lifecycle_route_rejects_empty_bodies_and_unknown_keys(nxt):
    pid = quote(_create(nxt)["pid"])
    assert nxt.patch(f"/datasets/{pid}/datasetlifecycle", {}).status_code == 400
    assert nxt.patch(f"/datasets/{pid}/datasetlifecycle", {"colour": 1}).status_code == 400
    assert nxt.patch(f"/datasets/{pid}/datasetlifecycle", {"archivable": "yes"}).status_code == 400


def test_patching_a_dataset_rejects_unknown_and_dotted_keys(nxt):
    pid = quote(_create(nxt)["pid"])
    assert nxt.patch(f"/datasets/{pid}", {"colour": "red"}).status_code == 400
    assert nxt.patch(f"/datasets/{pid}", {"datasetlifecycle.archivable": False}).status_code == 400
    assert nxt.patch(f"/datasets/{pid}", {"description": "ok"}).json()["description"] == "ok"


def test_without_the_lifecycle_route_the_sub_route_answers_404(client_factory):
    client = client_factory("next", lifecycle_route=False)
    pid = quote(_create(client)["pid"])
    assert (
        client.patch(f"/datasets/{pid}/datasetlifecycle", {"archivable": False}).status_code == 404
    )
    assert client.get(f"/datasets/{pid}/datasetlifecycle").status_code == 404


def test_attachments_can_be_added_to_a_dataset(nxt):
    pid = quote(_create(nxt)["pid"])
    body = {"thumbnail": "data:image/png;base64,AAAA", "caption": "preview", "ownerGroup": "p1"}
    answer = nxt.post(f"/datasets/{pid}/attachments", body)
    assert answer.status_code == 201 and answer.json()["caption"] == "preview"
    assert nxt.post(f"/datasets/{pid}/attachments", {**body, "colour": 1}).status_code == 400


def test_a_dataset_query_by_pids_includes_the_relations_asked_for(nxt):
    with_files, without = _create(nxt)["pid"], _create(nxt)["pid"]
    files = [{"path": "a.dat", "size": 1, "time": "2024-01-01T00:00:00Z"}]
    answer = nxt.post(
        f"/datasets/{quote(with_files)}/origdatablocks", {"size": 1, "dataFileList": files}
    )
    assert answer.status_code == 201, answer.text
    filt = {
        "where": {"pid": {"$in": [with_files, without]}},
        "include": [{"relation": "origdatablocks"}, {"relation": "datablocks"}],
        "limits": {"limit": 2, "skip": 0},
    }
    found = {d["pid"]: d for d in nxt.get("/datasets", params={"filter": json.dumps(filt)}).json()}
    assert set(found) == {with_files, without}
    assert [b["dataFileList"] for b in found[with_files]["origdatablocks"]] == [files]
    assert found[without]["origdatablocks"] == [] and found[with_files]["datablocks"] == []
    plain = nxt.get("/datasets", params={"filter": json.dumps({"where": filt["where"]})}).json()
    assert all("origdatablocks" not in d for d in plain)


def test_an_unknown_relation_in_include_answers_400(nxt):
    filt = {"include": [{"relation": "samples"}]}
    assert nxt.get("/datasets", params={"filter": json.dumps(filt)}).status_code == 400
