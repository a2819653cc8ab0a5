"""One chain per job, one job per dataset: duplicate chains and competing jobs.

A job delivered to two intakes at once (two bridges) gets two chains; exactly one of them
writes the datasets and the final status, the other stops at its claim or its verify. A
second archive job for a dataset another job is archiving gets ``datasetBusy`` for it,
with a message naming the first job.
"""

from __future__ import annotations

from archiver import app
from archiver.intake.handler import JobIntake
from archiver.scicat import connect

from .conftest import wait_until
from .helpers import encoded, seed, submit


def writes(pipe, method: str, fragment: str) -> int:
    return sum(1 for m, p, _ in pipe.emulator.request_log if m == method and fragment in p)


def test_a_job_delivered_to_two_intakes_at_once_is_worked_on_by_one_chain(pipeline_factory):
    pipe = pipeline_factory(flavour="next", bridge=False)
    pids = seed(pipe, 2)
    job_id = pipe.emulator.add_job("archive", pids)
    with connect(pipe.settings) as client:
        job = client.get_job(job_id)
    first, second = JobIntake(app, pipe.settings), JobIntake(app, pipe.settings)
    assert first.offer(job, "next") and second.offer(job, "next")
    doc = pipe.wait_finished(job_id)
    assert doc["statusCode"] == "finishedSuccessful", doc
    for pid in pids:
        path = f"/datasets/{encoded(pid)}/"
        assert writes(pipe, "PATCH", path + "datasetlifecycle") == 2  # started, archived
        assert writes(pipe, "POST", path + "datablocks") == 1
    job_writes = writes(pipe, "PATCH", f"/jobs/{job_id}")
    # the loser stops at its claim (it saw the winner's) or at its check (its claim came
    # last): two or three job PATCHes, and one final status
    assert job_writes in (2, 3)


def test_a_second_archive_job_for_a_dataset_being_archived_gets_dataset_busy(pipeline_factory):
    pipe = pipeline_factory(flavour="next")
    busy, free = seed(pipe, 2)
    # the first job's DataBlock POST is slow, so the dataset stays started for a while
    pipe.emulator.inject_fault(
        rf"/datasets/{encoded(busy)}/datablocks$", None, 1, "POST", 4.0
    )  # < the 5 s client timeout
    first = submit(pipe, "archive", [busy])
    wait_until(lambda: pipe.lifecycle(busy)["archiveStatusMessage"] == "started", what="first job")
    second = submit(pipe, "archive", [busy, free])
    doc = pipe.wait_finished(second)
    assert doc["statusCode"] == "finishedWithDatasetErrors", doc
    [error] = doc["jobResultObject"]["errors"]
    assert error["pid"] == busy and error["code"] == "datasetBusy" and error["kind"] == "user"
    assert first in error["message"]
    assert [d["pid"] for d in doc["jobResultObject"]["datasets"]] == [free]
    assert pipe.wait_finished(first)["statusCode"] == "finishedSuccessful"
    life = pipe.lifecycle(busy)
    assert life["archiveStatusMessage"] == "datasetOnArchiveDisk"
    assert life["archiveReturnMessage"]["jobId"] == first
