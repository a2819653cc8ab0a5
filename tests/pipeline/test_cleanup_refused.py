"""Failure paths when SciCat refuses the clean-up (scicatlive's DELETE_GROUPS=archivemanager:
even ``admin`` gets 403 on DELETE of a DataBlock). The job and every dataset still get their
final words, and what was left behind is named with the setting that would allow it."""

from __future__ import annotations

from .conftest import Pipeline
from .helpers import encoded, seed, submit

DELETE_BLOCK = r"/datasets/[^/]+/datablocks/[^/]+$"


def refuse_deletes(pipe: Pipeline) -> None:
    pipe.emulator.inject_fault(DELETE_BLOCK, status=403, count=1000, method="DELETE")


def test_a_job_failing_after_datablocks_exist_ends_unsuccessful_naming_the_leftover(
    pipeline_factory,
):
    pipe = pipeline_factory(flavour="next", max_retries=1)
    first, second = seed(pipe, 2)
    refuse_deletes(pipe)
    # the second dataset's DataBlock never goes in: the step fails for good after the first
    # dataset's DataBlock exists
    pipe.emulator.inject_fault(
        f"/datasets/{encoded(second)}/datablocks$", status=503, count=1000, method="POST"
    )
    job_id = submit(pipe, "archive", [first, second])
    job = pipe.wait_finished(job_id)
    assert job["statusCode"] == "finishedUnsuccessful", job
    assert "add_datablocks failed" in job["statusMessage"]
    assert "not removed" in job["statusMessage"] and "DELETE_GROUPS" in job["statusMessage"]
    errors = {e["pid"]: e for e in job["jobResultObject"]["errors"]}
    assert set(errors) == {first, second}
    [block] = pipe.emulator.datablocks(first)  # left behind, and said so
    assert block["_id"] in errors[first]["message"]
    assert "DELETE_GROUPS" in errors[first]["message"]
    for pid in (first, second):
        life = pipe.lifecycle(pid)
        assert life["archiveStatusMessage"] == "scheduleArchiveJobFailed", life
        assert life["archiveReturnMessage"]["jobId"] == job_id
    assert "DELETE_GROUPS" in pipe.lifecycle(first)["archiveReturnMessage"]["message"]
    assert "DELETE_GROUPS" not in pipe.lifecycle(second)["archiveReturnMessage"]["message"]


def test_a_reset_job_whose_deletes_are_refused_still_resets_and_reports_the_blocks(
    pipeline_factory,
):
    pipe = pipeline_factory(flavour="next")
    [pid] = seed(pipe, 1)
    assert pipe.wait_finished(submit(pipe, "archive", [pid]))["statusCode"] == "finishedSuccessful"
    [block] = pipe.emulator.datablocks(pid)
    refuse_deletes(pipe)
    job_id = submit(pipe, "reset", [pid])
    job = pipe.wait_finished(job_id)
    assert job["statusCode"] == "finishedUnsuccessful", job
    [error] = job["jobResultObject"]["errors"]
    assert error["pid"] == pid and error["code"] == "resetFailed"
    assert block["_id"] in error["message"] and "DELETE_GROUPS" in error["message"]
    assert block["_id"] in job["statusMessage"]
    life = pipe.lifecycle(pid)
    assert life["archivable"] is True and life["retrievable"] is False
    assert life["archiveStatusMessage"] == "datasetCreated"
    assert "DELETE_GROUPS" in life["archiveReturnMessage"]["message"]
    assert pipe.emulator.datablocks(pid) == [block]
