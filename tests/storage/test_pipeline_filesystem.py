"""Whole jobs with ``ARCHIVER_STORAGE=filesystem``: emulator → RabbitMQ → bridge → worker.

Archive then retrieve real files, with a step budget of 0 s so every tar is a task run of
its own (the step continues through ``Task.replace``); progress reaches the job's
``statusMessage``; user errors end ``finishedWithDatasetErrors``; a worker killed in the
middle of a tar is replaced and the job still finishes with no partial tar left.
"""

from __future__ import annotations

import os
from collections import Counter

from support.helpers import kill_group, worker_process
from support.pipeline import wait_until

from archiver.scicat import DatasetRef, connect
from archiver.storage import progress

from .conftest import make_dataset, tree


def seed_dataset(pipe, roots, folder="ds") -> str:
    paths = make_dataset(roots["data"] / folder)
    pid = pipe.emulator.add_dataset(datasetName=folder, sourceFolder=f"/scicat/data/{folder}")
    files = [{"path": p, "size": 1, "time": "2024-01-01T00:00:00Z"} for p in paths]
    pipe.emulator.add_origdatablock(pid, files=files)
    return pid


def submit(pipe, job_type, pids, **params) -> str:
    with connect(pipe.settings) as client:
        refs = [DatasetRef(p) for p in pids]
        return client.create_job(job_type, refs, params=params or None).id


def fs_options(roots, **extra):
    return {
        "storage": "filesystem",
        "archive_root": str(roots["archive"]),
        "retrieve_root": str(roots["retrieve"]),
        "source_path_map": (("/scicat/data", str(roots["data"])),),
        "tar_max_bytes": 200_000,
        **extra,
    }


def test_archive_and_retrieve_real_files_through_the_pipeline(pipeline_factory, roots, monkeypatch):
    shown = []
    real_call = progress.JobProgress.__call__

    def recording(self, verb, pid, done, total):
        shown.append(progress.progress_text(verb, pid, done, total))
        return real_call(self, verb, pid, done, total)

    monkeypatch.setattr(progress.JobProgress, "__call__", recording)
    pipe = pipeline_factory(**fs_options(roots, step_max_seconds=0.0))
    pid = seed_dataset(pipe, roots)
    job = pipe.wait_finished(submit(pipe, "archive", [pid]))
    assert job["statusCode"] == "finishedSuccessful", job
    blocks = pipe.emulator.datablocks(pid)
    assert len(blocks) >= 3 and all(os.path.exists(b["archiveId"]) for b in blocks)
    assert list(Counter(b["archiveId"] for b in blocks).values()) == [1] * len(blocks)
    assert any(t.startswith(f"Archiving {pid}:") and "(100%)" in t for t in shown)

    job = pipe.wait_finished(submit(pipe, "retrieve", [pid]))
    assert job["statusCode"] == "finishedSuccessful", job
    life = pipe.lifecycle(pid)
    assert life["retrieveStatusMessage"] == "datasetRetrieved"
    assert life["retrieveIntegrityCheck"] is True
    target = roots["retrieve"] / job["id"] / pid.replace("/", "%2F")
    assert tree(target) == tree(roots["data"] / "ds")
    entries = job["jobResultObject"]["result"]
    assert {e["location"] for e in entries} == {str(target)} and len(entries) == len(blocks)
    # the per-job retrieval markers go once the job is finished (removed right after the PATCH)
    markers = roots["retrieve"] / ".archiver" / job["id"]
    wait_until(lambda: not markers.exists(), 30, "the retrieval markers to be removed")


def test_missing_files_and_a_refused_destination_are_dataset_errors(pipeline_factory, roots):
    pipe = pipeline_factory(**fs_options(roots))
    good, broken = seed_dataset(pipe, roots, "good"), seed_dataset(pipe, roots, "broken")
    (roots["data"] / "broken" / "sub" / "a.txt").unlink()
    job = pipe.wait_finished(submit(pipe, "archive", [good, broken]))
    assert job["statusCode"] == "finishedWithDatasetErrors", job
    [error] = job["jobResultObject"]["errors"]
    assert error["pid"] == broken and error["code"] == "missingFilesError"
    assert "sub/a.txt: missing" in error["message"]
    assert pipe.emulator.datablocks(broken) == []

    job = pipe.wait_finished(
        submit(pipe, "retrieve", [good], destinationPath=str(roots["elsewhere"]))
    )
    assert job["statusCode"] == "finishedWithDatasetErrors", job
    [error] = job["jobResultObject"]["errors"]
    assert error["code"] == "datasetRetrievalFailed" and "not under an allowed" in error["message"]
    assert list(roots["elsewhere"].iterdir()) == []


def fs_worker(pipe, roots, log):
    return worker_process(
        pipe,
        log,
        concurrency=1,
        ARCHIVER_STORAGE="filesystem",
        ARCHIVER_ARCHIVE_ROOT=str(roots["archive"]),
        ARCHIVER_RETRIEVE_ROOT=str(roots["retrieve"]),
        ARCHIVER_SOURCE_PATH_MAP=f"/scicat/data={roots['data']}",
    )


def test_a_worker_killed_in_the_middle_of_a_tar_is_replaced_and_the_job_finishes(
    pipeline_factory, roots, tmp_path
):
    pipe = pipeline_factory(worker=False, **fs_options(roots))
    folder = roots["data"] / "large"
    folder.mkdir()
    with open(folder / "huge.bin", "wb") as sparse:
        sparse.truncate(1500 * 1024 * 1024)
    (folder / "small.txt").write_text("small\n")
    pid = pipe.emulator.add_dataset(datasetName="large", sourceFolder="/scicat/data/large")
    files = [{"path": p, "size": 1} for p in ("huge.bin", "small.txt")]
    pipe.emulator.add_origdatablock(pid, files=files)
    log = tmp_path / "worker.log"
    first = fs_worker(pipe, roots, log)
    archive_dir = roots["archive"] / pid.replace("/", "%2F")
    try:
        job_id = submit(pipe, "archive", [pid])
        wait_until(
            lambda: archive_dir.exists() and any(archive_dir.glob(".*.part")),
            what="a tar being written",
        )
    finally:
        kill_group(first)
    assert not list(archive_dir.glob("*.tar"))
    second = fs_worker(pipe, roots, log)
    try:
        job = pipe.wait_finished(job_id, timeout=120)
    finally:
        second.terminate()
        second.wait(30)
    assert job["statusCode"] == "finishedSuccessful", log.read_text()[-3000:]
    assert not list(archive_dir.glob(".*.part"))
    blocks = pipe.emulator.datablocks(pid)
    assert [b["size"] for b in blocks] == [1500 * 1024 * 1024 + 6]  # one tar (10 GiB limit)
