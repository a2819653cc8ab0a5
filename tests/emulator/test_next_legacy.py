"""The ``next-legacy`` flavour: backend-next 4.0-4.13 with hard-coded v3 jobs."""

import json

import pytest

from archiver.emulator import Emulator

from .helpers import USER1, Client, quote


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


# -- versions: 4.4-4.13 refuse their own job API (observed on real v4.5.1 and v4.13.0) --------
FORBIDDEN = {"statusCode": 403, "message": "Forbidden resource", "error": "Forbidden"}


def test_the_default_version_is_4_3_where_every_account_may_read_and_update_jobs(legacy):
    doc = legacy.post("/Jobs", _body(legacy.emu.add_dataset(ownerGroup="other"))).json()
    user = Client(legacy.emu, "next-legacy", USER1)
    assert user.get(f"/Jobs/{doc['id']}").status_code == 200
    assert [j["id"] for j in user.get("/Jobs").json()] == [doc["id"]]
    assert user.patch(f"/Jobs/{doc['id']}", {"jobStatusMessage": "inProgress"}).status_code == 200
    assert legacy.delete(f"/Jobs/{doc['id']}").status_code == 200
    assert legacy.emu.jobs() == []


@pytest.mark.parametrize("version", ["4.4", "4.5", "4.13", "4.13.0"])
def test_from_4_4_every_get_patch_delete_of_jobs_answers_403_even_to_admin(client_factory, version):
    client = client_factory("next-legacy", version=version)
    pid = client.emu.add_dataset()
    created = client.post("/Jobs", _body(pid))
    assert created.status_code == 201  # creation still works and marks the dataset
    assert client.emu.dataset(pid)["datasetlifecycle"]["archiveStatusMessage"] == (
        "scheduledForArchiving"
    )
    job_id = created.json()["id"]
    for answer in (
        client.get("/Jobs"),
        client.get(f"/Jobs/{job_id}"),
        client.patch(f"/Jobs/{job_id}", {"jobStatusMessage": "inProgress"}),
        client.delete(f"/Jobs/{job_id}"),
    ):
        assert answer.status_code == 403 and answer.json() == FORBIDDEN
    assert client.emu.job(job_id)["statusCode"] == "jobSubmitted"


def test_versions_outside_each_flavours_range_are_refused():
    with pytest.raises(ValueError, match="4.0 to 4.13"):
        Emulator(flavour="next-legacy", version="4.14")
    with pytest.raises(ValueError, match="4.14 or later"):
        Emulator(flavour="next", version="4.13")
    with pytest.raises(ValueError, match="not loopback"):
        Emulator(flavour="loopback", version="3.0")


# -- counters reset by every PATCH from 4.6 ----------------------------------------------------
COUNTERS = ("size", "packedSize", "numberOfFiles", "numberOfFilesArchived")


def _with_counters(client):
    pid = client.emu.add_dataset()
    client.emu.add_origdatablock(pid, files=[{"path": "a", "size": 7, "time": "2024-01-01"}])
    block = {"archiveId": f"/{pid}.tar", "size": 7, "packedSize": 9, "version": "1",
             "dataFileList": [{"path": "a", "size": 7, "time": "2024-01-01"}]}  # fmt: skip
    assert client.post(f"/datasets/{quote(pid)}/datablocks", block).status_code == 201
    assert [client.emu.dataset(pid)[k] for k in COUNTERS] == [7, 9, 1, 1]
    return pid


@pytest.mark.parametrize(
    "version,after",
    [("4.3", [7, 9, 1, 1]), ("4.5", [7, 9, 1, 1]), ("4.6", [0, 0, 0, 1]), ("4.9", [0, 0, 0, 1]),
     ("4.10", [0, 0, 0, 0]), ("4.13", [0, 0, 0, 0])],
)  # fmt: skip
def test_a_dataset_patch_resets_the_counters_from_4_6_unless_it_carries_them(
    client_factory, version, after
):
    client = client_factory("next-legacy", version=version)
    pid = _with_counters(client)
    answer = client.patch(f"/datasets/{quote(pid)}", {"keywords": ["x"]})
    assert [answer.json()[k] for k in COUNTERS] == after
    assert [client.emu.dataset(pid)[k] for k in COUNTERS] == after
    kept = {"keywords": ["y"], **dict(zip(COUNTERS, [7, 9, 1, 1], strict=True))}
    client.patch(f"/datasets/{quote(pid)}", kept)
    assert [client.emu.dataset(pid)[k] for k in COUNTERS] == [7, 9, 1, 1]


def test_the_next_flavour_keeps_the_counters_from_4_15_and_resets_them_on_4_14(client_factory, nxt):
    pid = _with_counters(nxt)  # default version 5.2.1
    nxt.patch(f"/datasets/{quote(pid)}", {"keywords": ["x"]})
    assert [nxt.emu.dataset(pid)[k] for k in COUNTERS] == [7, 9, 1, 1]
    old = client_factory("next", version="4.14")
    pid = _with_counters(old)
    old.patch(f"/datasets/{quote(pid)}", {"keywords": ["x"]})
    assert [old.emu.dataset(pid)[k] for k in COUNTERS] == [0, 0, 0, 0]
