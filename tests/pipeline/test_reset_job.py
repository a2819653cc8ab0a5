"""SciCat's ``reset`` job type through the real pipeline: queue, bridge, worker, SciCat."""

from __future__ import annotations

from archiver.steps.reset import RESET_LIFECYCLE

from .helpers import seed, submit

DELETE_AS_ADMIN = {"delete_groups": "admin,archivemanager"}


def test_a_reset_job_puts_archived_datasets_back_to_archivable(pipeline_factory):
    # Removing DataBlocks needs DELETE_GROUPS; a deployment that runs resets grants it. The
    # refused case is tests/pipeline/test_cleanup_refused.py.
    pipe = pipeline_factory(flavour="next", emulator_options=DELETE_AS_ADMIN)
    pids = seed(pipe, 2)
    archive_id = submit(pipe, "archive", pids)
    assert pipe.wait_finished(archive_id)["statusCode"] == "finishedSuccessful"
    assert all(pipe.emulator.datablocks(p) for p in pids)

    reset_id = submit(pipe, "reset", pids)
    job = pipe.wait_finished(reset_id)
    assert job["statusCode"] == "finishedSuccessful", job
    assert job["statusMessage"] == "2 of 2 datasets reset"
    for pid in pids:
        life = pipe.lifecycle(pid)
        assert {k: life[k] for k in RESET_LIFECYCLE} == RESET_LIFECYCLE
        assert pipe.emulator.datablocks(pid) == []
        assert pipe.emulator.dataset(pid)["packedSize"] == 0


def test_a_reset_job_with_a_missing_dataset_finishes_with_dataset_errors(pipeline_factory):
    # Removing DataBlocks needs DELETE_GROUPS; a deployment that runs resets grants it. The
    # refused case is tests/pipeline/test_cleanup_refused.py.
    pipe = pipeline_factory(flavour="next", emulator_options=DELETE_AS_ADMIN)
    [pid] = seed(pipe, 1)
    job_id = submit(pipe, "reset", [pid])
    assert pipe.wait_finished(job_id)["statusCode"] == "finishedSuccessful"
    other = seed(pipe, 1)[0]
    job_id = pipe.emulator.add_job("reset", [other, "PID.SAMPLE.PREFIX/gone"], publish=True)
    job = pipe.wait_finished(job_id)
    assert job["statusCode"] == "finishedWithDatasetErrors", job
    assert job["jobResultObject"]["errors"][0]["pid"] == "PID.SAMPLE.PREFIX/gone"
