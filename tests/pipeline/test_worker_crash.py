"""Killing the worker (SIGKILL, whole process group) in the middle of a chain loses
nothing: the unacknowledged step is redelivered to a new worker, which finishes the job
without creating a DataBlock twice."""

from __future__ import annotations

from collections import Counter

from .conftest import wait_until
from .helpers import kill_group, seed, submit, worker_process


def test_a_killed_worker_is_replaced_and_the_job_finishes_without_duplicates(
    pipeline_factory, tmp_path
):
    pipe = pipeline_factory(flavour="next", worker=False, simulated_seconds=1.0)
    pids = seed(pipe, 3)
    log = tmp_path / "worker.log"
    first = worker_process(pipe, log)
    try:
        job_id = submit(pipe, "archive", pids)
        # kill while add_datablocks is half way: first dataset done, last not yet
        wait_until(
            lambda: pipe.emulator.datablocks(pids[0]) and not pipe.emulator.datablocks(pids[2]),
            what="add_datablocks to be half way",
        )
    finally:
        kill_group(first)
    assert not pipe.job_status(job_id).startswith("finished")
    second = worker_process(pipe, log)
    try:
        job = pipe.wait_finished(job_id)
    finally:
        second.terminate()
        second.wait(30)
    assert job["statusCode"] == "finishedSuccessful", log.read_text()[-3000:]
    for pid in pids:
        ids = Counter(b["archiveId"] for b in pipe.emulator.datablocks(pid))
        assert list(ids.values()) == [1], ids
        assert pipe.lifecycle(pid)["archiveStatusMessage"] == "datasetOnArchiveDisk"
