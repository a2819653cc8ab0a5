"""Every operation of the SciCat interface, against the emulator in each flavour."""

from __future__ import annotations

import pytest
import requests

from archiver.errors import NotFoundError
from archiver.scicat import FINISHED_OK, IN_PROGRESS, SUBMITTED, DatasetRef

from .conftest import logins, paths

FILES = [{"path": "raw/a.tif", "size": 10, "time": "2024-06-29T10:00:00Z"}]


def _datablock(archive_id: str) -> dict:
    return {
        "archiveId": archive_id,
        "size": 10,
        "packedSize": 12,
        "chkAlg": "sha256",
        "version": "1.0",
        "dataFileList": FILES,
    }


def test_login_happens_once_and_lazily_on_the_first_call(emu, client):
    pid = emu.add_dataset()
    assert logins(emu) == 0
    assert client.get_dataset(pid)["pid"] == pid
    client.get_dataset(pid)
    assert logins(emu) == 1


def test_get_job_normalises_the_job(emu, client):
    pid = emu.add_dataset()
    job_id = emu.add_job("archive", [pid], status=SUBMITTED)
    job = client.get_job(job_id)
    assert (job.id, job.type, job.status, job.pids) == (job_id, "archive", SUBMITTED, [pid])


def test_an_unknown_job_is_not_found_on_every_generation(client):
    with pytest.raises(NotFoundError) as info:
        client.get_job("no-such-job")
    assert info.value.operation == "get job"


def test_update_job_sets_status_message_and_result(emu, client):
    job_id = emu.add_job("archive", [emu.add_dataset()], status=SUBMITTED)
    client.update_job(job_id, IN_PROGRESS, "Archiving 1 dataset")
    assert client.get_job(job_id).status == IN_PROGRESS
    result = {"result": [{"datasetId": "x", "archiveId": "/a.tar"}]}
    client.update_job(job_id, FINISHED_OK, "done", result)
    job = client.get_job(job_id)
    assert (job.status, dict(job.result)) == (FINISHED_OK, result)
    if client.generation == "next":
        assert job.message == "done"


def test_an_empty_status_message_becomes_the_status_word(emu, client):
    job_id = emu.add_job("archive", [emu.add_dataset()], status=SUBMITTED)
    client.update_job(job_id, IN_PROGRESS, "")
    assert client.get_job(job_id).message == IN_PROGRESS


def test_list_jobs_filters_by_status_and_type_oldest_first(emu, client):
    pid = emu.add_dataset()
    first = emu.add_job("archive", [pid], status=SUBMITTED)
    second = emu.add_job("retrieve", [pid], status=SUBMITTED)
    emu.add_job("archive", [pid], status=IN_PROGRESS)
    assert [j.id for j in client.list_jobs(SUBMITTED, ["archive"])] == [first]
    assert [j.id for j in client.list_jobs(SUBMITTED, ["archive", "retrieve"])] == [first, second]
    assert [j.id for j in client.list_jobs(SUBMITTED)] == [first, second]
    assert len(client.list_jobs(SUBMITTED, limit=1)) == 1


def test_create_job_returns_the_submitted_job(emu, client):
    pid = emu.add_dataset()
    job = client.create_job(
        "archive", [DatasetRef(pid)], {"username": "admin"}, contact_email="a@example.org"
    )
    assert (job.type, job.status, job.pids) == ("archive", SUBMITTED, [pid])
    assert client.get_job(job.id).pids == [pid]


def test_create_job_without_contact_email_works(emu, client):
    job = client.create_job("archive", [DatasetRef(emu.add_dataset())])
    assert job.status == SUBMITTED


def test_datasets_can_be_found_created_and_deleted(emulator_factory, flavour, make_client):
    # Deleting needs DELETE_GROUPS (scicatlive: archivemanager only): this test's admin gets it.
    emu = emulator_factory(flavour=flavour, delete_groups="admin,archivemanager")
    client = make_client(emu)
    pid = emu.add_dataset(sourceFolder="/data/find-me")
    assert [d["pid"] for d in client.find_datasets({"sourceFolder": "/data/find-me"})] == [pid]
    template = {k: v for k, v in client.get_dataset(pid).items() if k in _CREATE_KEYS}
    created = client.create_dataset({**template, "sourceFolder": "/data/new"})
    assert created["pid"] != pid
    assert client.get_dataset(created["pid"])["sourceFolder"] == "/data/new"
    client.delete_dataset(created["pid"])
    with pytest.raises(NotFoundError):
        client.get_dataset(created["pid"])


_CREATE_KEYS = {
    "type",
    "owner",
    "ownerGroup",
    "accessGroups",
    "contactEmail",
    "creationTime",
    "principalInvestigator",
    "creationLocation",
    "datasetName",
}


def test_origdatablocks_can_be_listed_and_created(emu, client):
    pid = emu.add_dataset()
    emu.add_origdatablock(pid, files=FILES)
    assert [f["path"] for f in client.list_origdatablocks(pid)[0]["dataFileList"]] == ["raw/a.tif"]
    client.create_origdatablock(pid, {"size": 5, "dataFileList": [dict(FILES[0], path="b")]})
    assert len(client.list_origdatablocks(pid)) == 2


def test_datablocks_can_be_created_listed_and_deleted(emulator_factory, flavour, make_client):
    # Deleting needs DELETE_GROUPS (scicatlive: archivemanager only): this test's admin gets it.
    emu = emulator_factory(flavour=flavour, delete_groups="admin,archivemanager")
    client = make_client(emu)
    pid = emu.add_dataset()
    created = client.create_datablock(pid, _datablock("/archive/one.tar"))
    listed = client.list_datablocks(pid)
    assert [b["archiveId"] for b in listed] == ["/archive/one.tar"]
    assert [b["archiveId"] for b in emu.datablocks(pid)] == ["/archive/one.tar"]
    block_id = created.get("id") or created.get("_id")
    client.delete_datablock(pid, block_id)
    assert client.list_datablocks(pid) == []


def test_pids_with_slashes_are_url_encoded_in_every_path(emu, client):
    pid = emu.add_dataset()
    assert "/" in pid
    client.get_dataset(pid)
    client.update_lifecycle(pid, {"archiveStatusMessage": "started"})
    client.list_origdatablocks(pid)
    client.create_datablock(pid, _datablock("/archive/enc.tar"))
    client.list_datablocks(pid)
    touched = [p for p in paths(emu) if pid.split("/")[-1] in p]
    assert touched and all("%2F" in p.upper() for p in touched)


def test_a_missing_dataset_is_not_found(client):
    with pytest.raises(NotFoundError) as info:
        client.get_dataset("PID.SAMPLE.PREFIX/missing")
    assert info.value.status == 404


@pytest.mark.parametrize("flavour", ["loopback"])
def test_loopback_lists_the_datasets_of_a_job(emu, client):
    pid = emu.add_dataset()
    job_id = emu.add_job("archive", [pid])
    assert [d["pid"] for d in client.job_datasets(job_id)] == [pid]


def test_an_attachment_is_created_on_the_dataset(emu, client):
    pid = emu.add_dataset()
    body = {"caption": "preview", "thumbnail": "data:image/png;base64,AA==", "ownerGroup": "g"}
    client.create_attachment(pid, body)
    [stored] = requests.get(f"{emu.url}/emulator/state", timeout=5).json()["attachments"]
    assert stored["datasetId"] == pid and stored["caption"] == "preview"
    assert any(p.endswith(f"{pid.replace('/', '%2F')}/attachments") for p in paths(emu, "POST"))
