"""Routing by job parameter: a job's ``jobParams.storageLocation`` sends every dataset of the
job to that storage-table entry, whatever the datasets' own storageLocation says; a name the
table lacks is a user error of each dataset, naming the parameter and the choices."""

from __future__ import annotations

import json

from archiver.plan import JobContext, context_for
from archiver.scicat.base import DatasetRef, Job
from archiver.settings import Settings
from archiver.storage import get_storage, work

from .test_pipeline_filesystem import seed_dataset, submit


def two_disks(tmp_path, roots):
    """A table of two filesystem storages, ``fast`` (the default) and ``slow``."""
    folders = {name: roots["archive"] / name for name in ("fast", "slow")}
    for folder in folders.values():
        folder.mkdir()
    table = {
        "default": "fast",
        "storages": {
            name: {"backend": "filesystem", "settings": {"archive_root": str(folder)}}
            for name, folder in folders.items()
        },
    }
    path = tmp_path / "storages.json"
    path.write_text(json.dumps(table))
    options = {
        "storage": "routing",
        "storage_table": str(path),
        "retrieve_root": str(roots["retrieve"]),
        "source_path_map": (("/scicat/data", str(roots["data"])),),
        "tar_max_bytes": 200_000,
    }
    return folders, options


def test_the_job_parameter_overrides_each_datasets_storage_location(
    pipeline_factory, roots, tmp_path
):
    folders, options = two_disks(tmp_path, roots)
    pipe = pipeline_factory(**options)
    marked = seed_dataset(pipe, roots, "marked-fast")
    plain = seed_dataset(pipe, roots, "plain")
    store = pipe.emulator._app.store
    with store.lock:
        store.datasets[marked]["datasetlifecycle"]["storageLocation"] = "fast"
    job = pipe.wait_finished(submit(pipe, "archive", [marked, plain], storageLocation="slow"))
    assert job["statusCode"] == "finishedSuccessful", job
    for pid in (marked, plain):
        ids = [b["archiveId"] for b in pipe.emulator.datablocks(pid)]
        assert ids and all(i.startswith(str(folders["slow"])) for i in ids), ids
    assert not any(folders["fast"].iterdir())
    job = pipe.wait_finished(submit(pipe, "retrieve", [marked, plain]))
    assert job["statusCode"] == "finishedSuccessful", job


def test_an_unknown_job_parameter_location_is_a_user_error_of_every_dataset(
    pipeline_factory, roots, tmp_path
):
    _, options = two_disks(tmp_path, roots)
    pipe = pipeline_factory(**options)
    pids = [seed_dataset(pipe, roots, f"ds{i}") for i in range(2)]
    job = pipe.wait_finished(submit(pipe, "archive", pids, storageLocation="tape"))
    assert job["statusCode"] == "finishedWithDatasetErrors", job
    errors = job["jobResultObject"]["errors"]
    assert sorted(e["pid"] for e in errors) == sorted(pids)
    for error in errors:
        assert error["kind"] == "user"
        assert "'tape' of the job (jobParams.storageLocation)" in error["message"]
        assert "known: fast, slow" in error["message"]
    for pid in pids:
        assert pipe.emulator.datablocks(pid) == []
        assert pipe.lifecycle(pid)["archiveStatusMessage"] == "missingFilesError"


def test_the_parameter_travels_in_the_chain_context_and_steers_the_route(roots, tmp_path):
    job = Job("j", "archive", "jobSubmitted", "", (DatasetRef("p"),), {"storageLocation": "slow"})
    ctx = context_for(job, "next")
    assert ctx.storage_location == "slow"
    assert JobContext.from_dict(ctx.to_dict()) == ctx
    assert JobContext.from_dict({"job_id": "j", "type": "archive"}).storage_location is None
    plain = Job("j", "archive", "jobSubmitted", "", (DatasetRef("p"),), {})
    assert context_for(plain, "next").storage_location is None
    folders, options = two_disks(tmp_path, roots)
    storage = get_storage(Settings(**options))
    dataset = {"pid": "p", "datasetlifecycle": {"storageLocation": "fast"}}
    assert storage.route(dataset).archive_root == str(folders["fast"])
    with work.step_run(storage_location="slow"):
        assert storage.route(dataset).archive_root == str(folders["slow"])
