"""A dataset left failed by an earlier archive job is refused with the way out named."""

from __future__ import annotations

from archiver.plan import JobContext
from archiver.steps.archive import outcome
from archiver.steps.marks import job_log


def _outcome(word: str):
    dataset = {
        "pid": "PID/x",
        "datasetlifecycle": {
            "archivable": False,
            "archiveStatusMessage": word,
            "archiveReturnMessage": {"jobId": "an-earlier-job", "message": "files missing"},
        },
    }
    ctx = JobContext("this-job", "archive", ("PID/x",), "next")
    return outcome(None, None, dataset, ctx, job_log("t", "this-job"))  # type: ignore[arg-type]


def test_a_dataset_left_missing_files_points_to_archiver_reset():
    found = _outcome("missingFilesError")
    assert found.code == "notArchivable" and "archiver reset PID/x" in found.message


def test_an_archived_dataset_gets_no_reset_hint():
    assert "archiver reset" not in _outcome("datasetOnArchiveDisk").message
