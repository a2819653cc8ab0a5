"""The ``next-legacy`` flavour: backend-next 4.0-4.13 with hard-coded v3 jobs."""

import json

from .helpers import quote


def _body(pid, **extra):
    return {"type": "archive", "emailJobInitiator": "a@b.org",
            "datasetList": [{"pid": pid, "files": []}], **extra}  # fmt: skip


def test_there_are_no_v4_jobs_and_no_lifecycle_route(legacy):
    pid = legacy.emu.add_dataset()
    assert legacy.get("/api/v4/jobs").status_code == 404
    assert legacy.post("/api/v4/jobs", {"type": "archive", "jobParams": {}}).status_code == 404
    url = f"/datasets/{quote(pid)}/datasetlifecycle"
    assert legacy.patch(url, {"archivable": False}).status_code == 404


def test_login_and_datasets_work_as_on_next(legacy):
    pid = legacy.emu.add_dataset()
    assert legacy.get(f"/datasets/{quote(pid)}").json()["pid"] == pid


def test_a_v3_job_is_created_with_a_forced_status_on_either_path_case(legacy):
    pid = legacy.emu.add_dataset()
    for path in ("/Jobs", "/jobs"):
        answer = legacy.post(path, _body(legacy.emu.add_dataset()))
        assert answer.status_code == 201
        assert answer.json()["jobStatusMessage"] == "jobSubmitted"
    doc = legacy.post("/Jobs", _body(pid)).json()
    assert doc["datasetList"] == [{"pid": pid, "files": []}]
    assert doc["emailJobInitiator"] == "a@b.org"
    assert legacy.get(f"/Jobs/{doc['id']}").json()["id"] == doc["id"]


def test_job_creation_marks_the_lifecycle_and_refuses_non_archivable_datasets(legacy):
    pid = legacy.emu.add_dataset()
    assert legacy.post("/Jobs", _body(pid)).status_code == 201
    lifecycle = legacy.emu.dataset(pid)["datasetlifecycle"]
    assert lifecycle["archivable"] is False
    assert lifecycle["archiveStatusMessage"] == "scheduledForArchiving"
    assert legacy.post("/Jobs", _body(pid)).status_code == 409


def test_job_creation_rejects_unknown_pids_missing_email_and_unknown_keys(legacy):
    pid = legacy.emu.add_dataset()
    assert legacy.post("/Jobs", _body("PID.SAMPLE.PREFIX/none")).status_code == 400
    body = _body(pid)
    del body["emailJobInitiator"]
    assert legacy.post("/Jobs", body).status_code == 400
    assert legacy.post("/Jobs", _body(pid, colour=1)).status_code == 400
    assert legacy.post("/Jobs", _body(pid, type="reset")).status_code == 400


def test_a_v3_patch_updates_status_and_rejects_unknown_keys(legacy):
    doc = legacy.post("/Jobs", _body(legacy.emu.add_dataset())).json()
    answer = legacy.patch(f"/Jobs/{doc['id']}", {"jobStatusMessage": "inProgress"})
    assert answer.status_code == 200 and answer.json()["jobStatusMessage"] == "inProgress"
    assert legacy.patch(f"/Jobs/{doc['id']}", {"statusCode": "x"}).status_code == 400
    result = {"jobStatusMessage": "finishedSuccessful", "jobResultObject": {"ok": True}}
    assert legacy.patch(f"/Jobs/{doc['id']}", result).json()["jobResultObject"] == {"ok": True}


def test_jobs_are_listed_with_v3_filter_names(legacy):
    first = legacy.post("/Jobs", _body(legacy.emu.add_dataset())).json()["id"]
    legacy.post("/Jobs", _body(legacy.emu.add_dataset()))
    legacy.patch(f"/Jobs/{first}", {"jobStatusMessage": "inProgress"})
    filt = json.dumps({"where": {"jobStatusMessage": "jobSubmitted"}})
    found = legacy.get("/Jobs", params={"filter": filt}).json()
    assert len(found) == 1 and found[0]["id"] != first
