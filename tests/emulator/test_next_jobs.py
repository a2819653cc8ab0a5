"""v4 jobs and the v3 shim on the ``next`` flavour."""

import json

import pytest

from .helpers import quote


@pytest.fixture
def pid(nxt):
    pid = nxt.emu.add_dataset()
    nxt.emu.add_origdatablock(pid, files=[{"path": "a.dat", "size": 1, "time": "2024"}])
    return pid


def _job(client, pid, job_type="archive", **extra):
    if "ownerGroup" not in extra:  # an admin must name an owner or a contact (422 otherwise)
        extra["contactEmail"] = "admin@example.org"
    body = {"type": job_type, "jobParams": {"datasetList": [{"pid": pid, "files": []}]}, **extra}
    answer = client.post("/api/v4/jobs", body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_creating_a_v4_job_answers_the_whole_submitted_document(nxt, pid):
    doc = _job(nxt, pid, ownerGroup="p1")
    assert doc["_id"] == doc["id"] and doc["statusCode"] == "jobSubmitted"
    assert doc["statusMessage"] == "Job submitted." and doc["jobResultObject"] == {}
    assert doc["configVersion"] and doc["createdAt"] and doc["updatedAt"] and doc["__v"] == 0
    assert doc["ownerGroup"] == "p1" and doc["ownerUser"] == "admin"
    assert nxt.emu.job(doc["id"]) == doc
    assert nxt.get(f"/api/v4/jobs/{doc['id']}").json() == doc


def test_v4_job_creation_rejects_unknown_keys_types_and_bad_dataset_lists(nxt, pid):
    good = {"type": "archive", "jobParams": {"datasetList": [{"pid": pid, "files": []}]},
            "contactEmail": "admin@example.org"}  # fmt: skip
    assert nxt.post("/api/v4/jobs", {**good, "colour": 1}).status_code == 400
    assert nxt.post("/api/v4/jobs", {**good, "type": "teleport"}).status_code == 400
    for params in (
        {"datasetList": []},
        {"datasetList": [{"pid": "PID.SAMPLE.PREFIX/none", "files": []}]},
        {"datasetList": [{"pid": pid}]},
        {"datasetList": [{"pid": pid, "files": [], "extra": 1}]},
        {"datasetList": [{"pid": pid, "files": ["missing.dat"]}]},
    ):
        assert nxt.post("/api/v4/jobs", {**good, "jobParams": params}).status_code == 422, params
    listed = {"datasetList": [{"pid": pid, "files": ["a.dat"]}]}
    assert nxt.post("/api/v4/jobs", {**good, "jobParams": listed}).status_code == 201


def test_an_unknown_job_id_answers_400(nxt):
    answer = nxt.get("/api/v4/jobs/nope")
    assert answer.status_code == 400 and answer.json()["message"] == "Invalid job id."
    body = {"statusCode": "inProgress", "statusMessage": "x"}
    assert nxt.patch("/api/v4/jobs/nope", body).status_code == 400


def test_a_v4_patch_needs_both_status_code_and_status_message(nxt, pid):
    job_id = _job(nxt, pid)["id"]
    assert nxt.patch(f"/api/v4/jobs/{job_id}", {"statusCode": "inProgress"}).status_code == 400
    assert nxt.patch(f"/api/v4/jobs/{job_id}", {"statusMessage": "x"}).status_code == 400
    body = {"statusCode": "inProgress", "statusMessage": "x", "colour": 1}
    assert nxt.patch(f"/api/v4/jobs/{job_id}", body).status_code == 400
    assert nxt.emu.job(job_id)["statusCode"] == "jobSubmitted"


def test_a_v4_patch_replaces_the_job_result_object_wholesale(nxt, pid):
    job_id = _job(nxt, pid)["id"]
    first = {"statusCode": "inProgress", "statusMessage": "a", "jobResultObject": {"a": 1}}
    assert nxt.patch(f"/api/v4/jobs/{job_id}", first).status_code == 200
    second = {"statusCode": "finishedSuccessful", "statusMessage": "b", "jobResultObject": {"b": 2}}
    doc = nxt.patch(f"/api/v4/jobs/{job_id}", second).json()
    assert doc["jobResultObject"] == {"b": 2} and doc["statusCode"] == "finishedSuccessful"
    third = {"statusCode": "finishedSuccessful", "statusMessage": "c"}
    assert nxt.patch(f"/api/v4/jobs/{job_id}", third).json()["jobResultObject"] == {"b": 2}


def test_jobs_can_be_listed_with_where_inq_and_limits(nxt, pid):
    ids = [_job(nxt, pid, t)["id"] for t in ("archive", "retrieve", "archive", "public")]
    nxt.patch(f"/api/v4/jobs/{ids[0]}", {"statusCode": "inProgress", "statusMessage": "x"})
    filt = {
        "where": {"type": "archive", "statusCode": "jobSubmitted"},
        "limits": {"limit": 10, "skip": 0, "sort": {"createdAt": "asc"}},
    }
    found = nxt.get("/api/v4/jobs", params={"filter": json.dumps(filt)}).json()
    assert [j["id"] for j in found] == [ids[2]]
    for inq in ({"inq": ["archive", "retrieve"]}, {"$in": ["archive", "retrieve"]}):
        filt = {"where": {"type": inq}, "limits": {"limit": 2, "skip": 1}}
        found = nxt.get("/api/v4/jobs", params={"filter": json.dumps(filt)}).json()
        assert [j["id"] for j in found] == ids[1:3]


def test_the_v3_shim_creates_reads_and_updates_in_the_v3_shape(nxt, pid):
    body = {"type": "archive", "datasetList": [{"pid": pid, "files": []}]}
    body["executionTime"] = "2024-05-01T10:00:00Z"
    created = nxt.post("/jobs", {**body, "emailJobInitiator": "a@b.org"})
    assert created.status_code == 201
    v3 = created.json()
    assert v3["jobStatusMessage"] == "jobSubmitted" and v3["datasetList"] == body["datasetList"]
    assert v3["emailJobInitiator"] == "a@b.org"
    assert v3["executionTime"] == "2024-05-01T10:00:00Z"
    assert v3["jobParams"]["username"] == "admin" and "statusCode" not in v3
    stored = nxt.emu.job(v3["id"])
    assert stored["jobParams"]["datasetList"] == body["datasetList"]
    patched = nxt.patch(f"/jobs/{v3['id']}", {"jobStatusMessage": "inProgress", "other": 1})
    assert patched.status_code == 200 and patched.json()["jobStatusMessage"] == "inProgress"
    stored = nxt.emu.job(v3["id"])
    assert stored["statusCode"] == stored["statusMessage"] == "inProgress"
    assert nxt.get(f"/jobs/{v3['id']}").json()["jobStatusMessage"] == "inProgress"
    assert nxt.get("/jobs/nope").status_code == 400


def test_the_v3_shim_translates_v3_filter_names(nxt, pid):
    first = _job(nxt, pid)["id"]
    _job(nxt, pid)
    nxt.patch(f"/api/v4/jobs/{first}", {"statusCode": "inProgress", "statusMessage": "x"})
    filt = json.dumps({"where": {"jobStatusMessage": "inProgress"}})
    found = nxt.get("/jobs", params={"filter": filt}).json()
    assert [j["id"] for j in found] == [first] and found[0]["jobStatusMessage"] == "inProgress"


def test_the_v3_shim_keeps_a_given_initial_status_and_rejects_unknown_keys(nxt, pid):
    body = {"type": "archive", "datasetList": [{"pid": pid, "files": []}]}
    doc = nxt.post("/jobs", {**body, "jobStatusMessage": "custom"}).json()
    assert nxt.emu.job(doc["id"])["statusMessage"] == "custom"
    assert nxt.post("/jobs", {**body, "colour": 1}).status_code == 400


def test_creating_a_job_does_not_touch_the_lifecycle(nxt, pid):
    _job(nxt, pid)
    assert nxt.emu.dataset(pid)["datasetlifecycle"]["archivable"] is True
    assert nxt.get(f"/datasets/{quote(pid)}").status_code == 200
