"""The ``loopback`` flavour: the LoopBack 3.x backend."""

import json

import requests

from .helpers import ADMIN, FILES, block_body, quote, raw_dataset


def test_login_answers_200_with_the_token_in_id(emulator_factory):
    emu = emulator_factory(flavour="loopback")
    answer = requests.post(emu.url + "/api/v3/Users/login", json=ADMIN)
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"id", "ttl", "created", "userId"}
    bad = requests.post(emu.url + "/api/v3/Users/login", json={**ADMIN, "password": "x"})
    assert bad.status_code == 401 and bad.json()["error"]["statusCode"] == 401


def test_the_token_is_accepted_as_query_parameter_or_header(lb):
    url = lb.url("/Datasets")
    assert requests.get(url).status_code == 401
    assert requests.get(url, params={"access_token": lb.token}).status_code == 200
    assert requests.get(url, headers={"X-Access-Token": lb.token}).status_code == 200
    assert requests.get(url, headers={"Authorization": lb.token}).status_code == 200


def test_an_expired_token_answers_401(lb):
    lb.emu.expire_tokens()
    assert lb.get("/Datasets").status_code == 401


def test_paths_are_case_insensitive_and_double_slashes_are_accepted(lb):
    pid = lb.emu.add_dataset()
    job = lb.post("/api/v3//Jobs", {"type": "archive", "datasetList": [{"pid": pid, "files": []}]})
    assert job.status_code == 200
    assert lb.get(f"/jobs/{job.json()['id']}").status_code == 200
    assert lb.get(f"/datasets/{quote(pid)}").status_code == 200


def test_a_job_is_created_with_200_defaults_and_marks_the_lifecycle(lb):
    pid = lb.emu.add_dataset()
    body = {"type": "archive", "datasetList": [{"pid": pid, "files": []}], "whatever": 1}
    answer = lb.post("/Jobs", body)
    assert answer.status_code == 200
    doc = answer.json()
    assert doc["jobStatusMessage"] == "jobSubmitted" and doc["creationTime"]
    assert doc["emailJobInitiator"] == "admin@your.site"
    assert (
        lb.emu.dataset(pid)["datasetlifecycle"]["archiveStatusMessage"] == "scheduledForArchiving"
    )
    assert lb.post("/Jobs", body).status_code == 409
    assert lb.get("/Jobs/nope").status_code == 404


def test_put_and_patch_on_a_job_are_partial_updates(lb):
    pid = lb.emu.add_dataset()
    doc = lb.post("/Jobs", {"type": "archive", "datasetList": [{"pid": pid, "files": []}]}).json()
    assert lb.put(f"/Jobs/{doc['id']}", {"jobStatusMessage": "jobForwarded"}).status_code == 200
    answer = lb.patch(f"/Jobs/{doc['id']}", {"jobResultObject": {"a": 1}})
    assert answer.json()["jobStatusMessage"] == "jobForwarded"
    assert answer.json()["datasetList"] == [{"pid": pid, "files": []}]
    filt = json.dumps({"where": {"jobStatusMessage": "jobForwarded"}})
    assert [j["id"] for j in lb.get("/Jobs", params={"filter": filt}).json()] == [doc["id"]]


def test_dataset_details_lists_the_datasets_of_a_job(lb):
    pid = lb.emu.add_dataset()
    lb.emu.add_origdatablock(pid, files=FILES)
    doc = lb.post("/Jobs", {"type": "archive", "datasetList": [{"pid": pid, "files": []}]}).json()
    include = json.dumps({"relation": "origdatablocks"})
    found = lb.get("/Jobs/datasetDetails", params={"jobId": doc["id"], "include": include}).json()
    assert [d["pid"] for d in found] == [pid] and len(found[0]["origdatablocks"]) == 1


def test_datasets_are_created_with_200_and_a_partial_lifecycle_is_merged(lb):
    answer = lb.post("/Datasets", raw_dataset(colour="red"))
    assert answer.status_code == 200
    pid = answer.json()["pid"]
    url = f"/Datasets/{quote(pid)}"
    lb.put(url, {"datasetlifecycle": {"archivable": False}})
    doc = lb.patch(url, {"datasetlifecycle": {"archiveStatusMessage": "started"}}).json()
    assert doc["datasetlifecycle"]["archivable"] is False
    assert doc["datasetlifecycle"]["archiveStatusMessage"] == "started"
    filt = json.dumps({"where": {"sourceFolder": "/data/p1/run1"}})
    assert [d["pid"] for d in lb.get("/Datasets", params={"filter": filt}).json()] == [pid]
    assert lb.delete(url).status_code == 200 and lb.get(url).status_code == 404


def test_a_dataset_can_be_read_with_its_blocks_included(lb):
    pid = lb.emu.add_dataset()
    lb.post(f"/Datasets/{quote(pid)}/origdatablocks", {"size": 10, "dataFileList": FILES})
    lb.post("/Datablocks", {**block_body(), "datasetId": pid})
    filt = json.dumps({"include": ["origdatablocks", {"relation": "datablocks"}]})
    doc = lb.get(f"/Datasets/{quote(pid)}", params={"filter": filt}).json()
    assert len(doc["origdatablocks"]) == 1 and len(doc["datablocks"]) == 1


def test_blocks_are_created_with_200_and_a_duplicate_archive_id_answers_422(lb):
    pid = lb.emu.add_dataset()
    orig = lb.post("/OrigDatablocks", {"datasetId": pid, "size": 10, "dataFileList": FILES})
    assert orig.status_code == 200
    assert len(lb.get(f"/Datasets/{quote(pid)}/origdatablocks").json()) == 1
    block = lb.post("/Datablocks", {**block_body(), "datasetId": pid})
    assert block.status_code == 200
    assert lb.post("/Datablocks", {**block_body(), "datasetId": pid}).status_code == 422
    filt = json.dumps({"where": {"datasetId": pid}})
    assert len(lb.get("/Datablocks", params={"filter": filt}).json()) == 1
    assert len(lb.get(f"/Datasets/{quote(pid)}/datablocks").json()) == 1
    assert lb.delete(f"/Datablocks/{block.json()['id']}").status_code == 200
    assert lb.emu.datablocks(pid) == []
