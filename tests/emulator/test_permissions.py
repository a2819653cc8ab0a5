"""The scicatlive permission profile (the default): who may do what, answered like v5.2.1.

Each case is one observed on backend v5.2.1 configured like scicatlive (backend.md section 10)
or read from its ability factory; the ``permissive`` profile and single overrides are checked
against the same requests.
"""

import json

import pytest

from archiver.emulator import Emulator
from archiver.emulator.permissions import FUNCTIONAL_ACCOUNTS, make_profile

from .helpers import ADMIN, ARCHIVE_MANAGER, FILES, INGESTOR, USER1, Client, block_body, quote
from .helpers import raw_dataset as _raw

FORBIDDEN = {"statusCode": 403, "message": "Forbidden resource", "error": "Forbidden"}


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(flavour="next")


def _as(emu, account):
    return Client(emu, "next", account)


def _dataset(emu, group="group1"):
    """A dataset of ``group`` with one OrigDatablock and one DataBlock."""
    pid = emu.add_dataset(ownerGroup=group)
    emu.add_origdatablock(pid, files=FILES)
    _as(emu, ADMIN).post(f"/datasets/{quote(pid)}/datablocks", block_body(f"/a/{pid}.tar"))
    return pid


def test_the_default_profile_is_scicatlive_with_its_functional_accounts(emu):
    assert emu.profile.name == "scicatlive"
    assert emu.profile.admin_groups == {"admin"} and emu.profile.delete_groups == {"archivemanager"}
    assert emu.profile.create_dataset_privileged_groups == {"ingestor"}
    assert emu.profile.proposal_groups == {"proposalingestor"}
    assert emu.profile.sample_groups == {"ingestor"}
    assert emu.profile.update_job_privileged_groups == frozenset()
    assert emu.profile.job_auth["archive"] == ("#datasetOwner", "archiveManager")
    groups = {name: a.groups for name, a in FUNCTIONAL_ACCOUNTS.items()}
    assert groups == {
        "admin": ("admin",), "ingestor": ("ingestor",), "archiveManager": ("archivemanager",),
        "proposalIngestor": ("proposalingestor",), "user1": ("group1",),
    }  # fmt: skip
    for account in (ADMIN, INGESTOR, ARCHIVE_MANAGER, USER1):
        assert _as(emu, account).token


def test_admin_gets_403_deleting_a_datablock_unless_in_delete_groups(emu, emulator_factory):
    pid = _dataset(emu)
    block = emu.datablocks(pid)[0]["_id"]
    admin = _as(emu, ADMIN)
    for path in (f"/datasets/{quote(pid)}/datablocks/{block}", f"/datablocks/{block}",
                 f"/datasets/{quote(pid)}/datablocks", f"/datasets/{quote(pid)}"):  # fmt: skip
        answer = admin.delete(path)
        assert answer.status_code == 403 and answer.json() == FORBIDDEN, path
    assert len(emu.datablocks(pid)) == 1
    manager = _as(emu, ARCHIVE_MANAGER)  # another group's dataset: DELETE_GROUPS may
    assert manager.delete(f"/datasets/{quote(pid)}/datablocks/{block}").status_code == 200
    wider = emulator_factory(flavour="next", delete_groups="admin,archivemanager")
    pid = _dataset(wider)
    block = wider.datablocks(pid)[0]["_id"]
    assert _as(wider, ADMIN).delete(f"/datablocks/{block}").status_code == 200


def test_archive_manager_cannot_read_or_update_another_groups_dataset(emu):
    pid = _dataset(emu)
    manager = _as(emu, ARCHIVE_MANAGER)
    ds = f"/datasets/{quote(pid)}"
    for path in (ds, f"{ds}/origdatablocks", f"{ds}/datablocks", f"{ds}/datasetlifecycle"):
        answer = manager.get(path)
        assert answer.status_code == 403 and answer.json()["message"] == "Unauthorized access"
    answer = manager.patch(f"{ds}/datasetlifecycle", {"archiveStatusMessage": "started"})
    assert answer.status_code == 403
    assert answer.json()["message"] == "Unauthorized to update this dataset"
    assert manager.patch(ds, {"keywords": ["x"]}).status_code == 403
    assert manager.post(f"{ds}/datablocks", block_body("/b/1.tar")).status_code == 403
    assert emu.dataset(pid)["datasetlifecycle"]["archiveStatusMessage"] == "datasetCreated"
    filt = json.dumps({"where": {"pid": pid}})
    assert manager.get("/datasets", params={"filter": filt}).json() == []
    assert manager.get("/origdatablocks", params={"filter": filt}).json() == []
    assert manager.get("/datablocks").status_code == 200  # DELETE_GROUPS read every DataBlock
    assert len(manager.get("/datablocks").json()) == 1


def test_a_missing_dataset_answers_404_before_any_permission_check(emu):
    manager = _as(emu, ARCHIVE_MANAGER)
    assert manager.get("/datasets/PID.SAMPLE.PREFIX%2Fnone").status_code == 404
    assert manager.get("/datasets/PID.SAMPLE.PREFIX%2Fnone/datablocks").status_code == 404


def test_the_owner_group_may_read_and_update_its_dataset_but_not_delete_blocks(emu):
    pid = _dataset(emu)
    user = _as(emu, USER1)
    ds = f"/datasets/{quote(pid)}"
    assert user.get(ds).status_code == 200
    assert user.get(f"{ds}/datablocks").status_code == 200
    assert user.patch(f"{ds}/datasetlifecycle", {"archivable": False}).status_code == 200
    assert user.patch(ds, {"keywords": ["mine"]}).status_code == 200
    block = emu.datablocks(pid)[0]["_id"]
    assert user.delete(f"{ds}/datablocks/{block}").status_code == 403


def test_access_groups_and_published_datasets_are_readable_but_not_writable(emu):
    shared = emu.add_dataset(ownerGroup="other", accessGroups=["group1"])
    public = emu.add_dataset(ownerGroup="other", isPublished=True)
    hidden = emu.add_dataset(ownerGroup="other")
    user = _as(emu, USER1)
    assert user.get(f"/datasets/{quote(shared)}").status_code == 200
    assert user.get(f"/datasets/{quote(public)}/origdatablocks").status_code == 200
    assert user.get(f"/datasets/{quote(hidden)}").status_code == 403
    assert user.patch(f"/datasets/{quote(shared)}", {"keywords": ["x"]}).status_code == 403
    listed = {d["pid"] for d in user.get("/datasets").json()}
    assert listed == {shared, public}


def test_the_privileged_ingestor_creates_for_any_group_but_cannot_read_it_back(emu):
    ingestor = _as(emu, INGESTOR)
    created = ingestor.post("/datasets", _raw(ownerGroup="group1"))
    assert created.status_code == 201
    pid = created.json()["pid"]
    assert ingestor.get(f"/datasets/{quote(pid)}").status_code == 403
    filt = json.dumps({"where": {"sourceFolder": "/data/p1/run1"}})
    assert ingestor.get("/datasets", params={"filter": filt}).json() == []
    body = {"size": 10, "dataFileList": FILES}
    assert ingestor.post(f"/datasets/{quote(pid)}/origdatablocks", body).status_code == 201
    assert ingestor.patch(f"/datasets/{quote(pid)}", {"keywords": ["x"]}).status_code == 403


def test_without_the_privileged_group_the_ingestor_creates_only_for_its_own_groups(
    emulator_factory,
):
    emu = emulator_factory(flavour="next", create_dataset_privileged_groups="")
    ingestor = _as(emu, INGESTOR)
    answer = ingestor.post("/datasets", _raw(ownerGroup="group1"))
    assert answer.status_code == 403
    assert answer.json()["message"] == "Unauthorized to create this dataset"
    assert ingestor.post("/datasets", _raw(ownerGroup="ingestor")).status_code == 201
    answer = ingestor.post("/datasets", _raw(ownerGroup="ingestor", pid="PID.SAMPLE.PREFIX/x"))
    assert answer.status_code == 403  # CREATE_DATASET_GROUPS may not choose a pid


def test_outside_create_dataset_groups_a_user_may_only_read(emulator_factory):
    emu = emulator_factory(flavour="next", create_dataset_groups="ingestor")
    pid = emu.add_dataset(ownerGroup="group1")
    user = _as(emu, USER1)
    answer = user.post("/datasets", _raw(ownerGroup="group1"))
    assert answer.status_code == 403 and answer.json() == FORBIDDEN
    assert user.get(f"/datasets/{quote(pid)}").status_code == 200
    assert user.patch(f"/datasets/{quote(pid)}", {"keywords": ["x"]}).status_code == 403


def test_update_dataset_lifecycle_groups_read_every_dataset_and_update_its_lifecycle(
    emulator_factory,
):
    emu = emulator_factory(flavour="next", update_dataset_lifecycle_groups="archivemanager")
    pid = _dataset(emu)
    manager = _as(emu, ARCHIVE_MANAGER)
    ds = f"/datasets/{quote(pid)}"
    assert manager.get(ds).status_code == 200
    assert manager.patch(f"{ds}/datasetlifecycle", {"archivable": False}).status_code == 200
    assert manager.patch(ds, {"keywords": ["x"]}).status_code == 403


def test_post_datablocks_needs_a_literal_create_dataset_group(emu):
    pid = emu.add_dataset(ownerGroup="group1")
    body = {**block_body("/c/1.tar"), "datasetId": pid}
    answer = _as(emu, USER1).post("/datablocks", body)  # only via "#all": refused
    assert answer.status_code == 403 and answer.json()["message"] == "Forbidden"
    assert _as(emu, INGESTOR).post("/datablocks", body).status_code == 201


def test_reading_one_datablock_of_another_group_answers_401(emu):
    pid = _dataset(emu, group="other")
    block = emu.datablocks(pid)[0]["_id"]
    assert _as(emu, USER1).get(f"/datablocks/{block}").status_code == 401
    assert _as(emu, ARCHIVE_MANAGER).get(f"/datablocks/{block}").status_code == 200


# -- jobs ------------------------------------------------------------------------------------
def _v4(client, pid, **extra):
    body = {"type": "archive", "jobParams": {"datasetList": [{"pid": pid, "files": []}]}, **extra}
    return client.post("/api/v4/jobs", body)


def test_only_the_user_named_in_update_auth_and_admins_may_patch_jobs(emu):
    pid = _dataset(emu)
    user = _as(emu, USER1)
    job = _v4(user, pid, ownerGroup="group1")
    assert job.status_code == 201, job.text
    job_id = job.json()["id"]
    update = {"statusCode": "inProgress", "statusMessage": "x"}
    answer = user.patch(f"/api/v4/jobs/{job_id}", update)
    assert answer.status_code == 403 and answer.json() == FORBIDDEN
    assert user.get(f"/api/v4/jobs/{job_id}").status_code == 200  # its own job
    manager = _as(emu, ARCHIVE_MANAGER)
    assert manager.patch(f"/api/v4/jobs/{job_id}", update).status_code == 200
    assert manager.patch(f"/jobs/{job_id}", {"jobStatusMessage": "x"}).status_code == 200
    answer = manager.get(f"/api/v4/jobs/{job_id}")
    assert answer.status_code == 403 and answer.json()["message"] == "Unauthorized to get this job."
    assert manager.get("/api/v4/jobs").json() == [] and manager.get("/jobs").json() == []
    assert _as(emu, ADMIN).patch(f"/api/v4/jobs/{job_id}", update).status_code == 200
    assert len(_as(emu, ADMIN).get("/api/v4/jobs").json()) == 1


def test_update_job_privileged_groups_may_read_and_patch_every_job(emulator_factory):
    emu = emulator_factory(flavour="next", update_job_privileged_groups="archivemanager")
    pid = _dataset(emu)
    job_id = _v4(_as(emu, USER1), pid, ownerGroup="group1").json()["id"]
    manager = _as(emu, ARCHIVE_MANAGER)
    assert manager.get(f"/api/v4/jobs/{job_id}").status_code == 200
    update = {"statusCode": "inProgress", "statusMessage": "x"}
    assert manager.patch(f"/api/v4/jobs/{job_id}", update).status_code == 200


def test_v4_job_creation_rules_for_normal_and_privileged_accounts(emu):
    pid = _dataset(emu)
    user = _as(emu, USER1)
    answer = _v4(user, pid)
    assert answer.status_code == 403
    assert answer.json()["message"] == "Invalid new job. Owner group should be specified."
    answer = _v4(user, pid, ownerGroup="admin")
    assert answer.json()["message"] == "Invalid new job. User needs to belong to job owner group."
    other = _dataset(emu, group="other")
    answer = _v4(user, other, ownerGroup="group1")  # archive: #datasetOwner
    assert answer.status_code == 403
    assert (
        answer.json()["message"] == "User does not have access to all datasets, cannot create job."
    )
    admin = _as(emu, ADMIN)
    answer = _v4(admin, pid)
    assert answer.status_code == 422
    assert answer.json()["message"] == "Contact email should be specified for an anonymous job."
    assert _v4(admin, other, contactEmail="ops@example.org").status_code == 201


def test_a_reset_job_needs_the_user_named_in_create_auth_and_its_group(emu):
    pid = _dataset(emu)
    entry = {"type": "reset", "datasetList": [{"pid": pid, "files": []}]}
    answer = _as(emu, ARCHIVE_MANAGER).post("/jobs", entry)  # dataset of group1
    assert answer.status_code == 403
    assert answer.json()["message"] == "Invalid new job. User needs to belong to job owner group."
    mine = emu.add_dataset(ownerGroup="group1")
    answer = _as(emu, USER1).post("/jobs", {**entry, "datasetList": [{"pid": mine, "files": []}]})
    assert (
        answer.status_code == 403 and answer.json()["message"] == "Unauthorized to create this job."
    )
    assert _as(emu, ADMIN).post("/jobs", entry).status_code == 201


def test_the_v3_shim_fills_the_owner_group_from_the_datasets(emu):
    pid = _dataset(emu)
    entry = {"type": "archive", "datasetList": [{"pid": pid, "files": []}]}
    doc = _as(emu, USER1).post("/jobs", entry).json()
    assert emu.job(doc["id"])["ownerGroup"] == "group1"
    assert emu.job(doc["id"])["ownerUser"] == "user1"
    doc = _as(emu, ADMIN).post("/jobs", entry).json()
    assert emu.job(doc["id"])["ownerGroup"] == "group1"
    answer = _as(emu, INGESTOR).post("/jobs", entry)  # not its group, not privileged for jobs
    assert answer.status_code == 403


def test_job_auth_can_be_overridden_with_a_group(emulator_factory):
    emu = emulator_factory(flavour="next", job_auth={"archive": ("#datasetOwner", "@group1")})
    pid = _dataset(emu)
    user = _as(emu, USER1)
    job_id = _v4(user, pid, ownerGroup="group1").json()["id"]
    update = {"statusCode": "inProgress", "statusMessage": "x"}
    assert user.patch(f"/api/v4/jobs/{job_id}", update).status_code == 200
    assert _as(emu, ARCHIVE_MANAGER).patch(f"/api/v4/jobs/{job_id}", update).status_code == 403


# -- the permissive profile and configuration errors ---------------------------------------------
def test_the_permissive_profile_lets_every_account_do_everything(emulator_factory):
    emu = emulator_factory(flavour="next", profile="permissive")
    pid = _dataset(emu)
    block = emu.datablocks(pid)[0]["_id"]
    user = _as(emu, USER1)
    assert user.get(f"/datasets/{quote(pid)}/datablocks").status_code == 200
    assert user.delete(f"/datablocks/{block}").status_code == 200
    job = _v4(_as(emu, ADMIN), pid).json()
    update = {"statusCode": "inProgress", "statusMessage": "x"}
    assert user.patch(f"/api/v4/jobs/{job['id']}", update).status_code == 200


def test_unknown_profiles_and_settings_are_refused_with_the_valid_names():
    with pytest.raises(ValueError, match="scicatlive, permissive"):
        Emulator(profile="open")
    with pytest.raises(ValueError, match="delete_groups"):
        Emulator(delete_group="admin")
    assert make_profile(delete_groups=["a", " b "]).delete_groups == {"a", "b"}
    assert make_profile(delete_groups="a, b").delete_groups == {"a", "b"}


def test_custom_accounts_can_carry_groups(emulator_factory):
    emu = emulator_factory(flavour="next", accounts={"bob": ("pw", ["archivemanager"])})
    mine = emu.add_dataset(ownerGroup="archivemanager")
    bob = _as(emu, {"username": "bob", "password": "pw"})
    assert bob.get(f"/datasets/{quote(mine)}").status_code == 200
    assert bob.delete(f"/datasets/{quote(mine)}").status_code == 200


def test_create_job_privileged_groups_read_every_job_but_update_none(emulator_factory):
    emu = emulator_factory(flavour="next", create_job_privileged_groups="archivemanager")
    pid = _dataset(emu)
    manager = _as(emu, ARCHIVE_MANAGER)  # although update auth names the user archiveManager
    job_id = _v4(_as(emu, ADMIN), pid, ownerGroup="group1").json()["id"]
    assert manager.get(f"/api/v4/jobs/{job_id}").status_code == 200
    update = {"statusCode": "inProgress", "statusMessage": "x"}
    answer = manager.patch(f"/api/v4/jobs/{job_id}", update)
    assert answer.status_code == 403 and answer.json() == FORBIDDEN
