"""The claim: taken in SciCat, checked before the first dataset write, taken over when stale."""

from __future__ import annotations

import logging
import time

import pytest

from archiver.plan import JobContext
from archiver.scicat import IN_PROGRESS, connect
from archiver.settings import Settings
from archiver.steps import archive, claim, job
from archiver.steps.marks import JobLog


def log() -> JobLog:
    return JobLog(logging.getLogger("test"), {"job_id": "claim-test"})


def client_for(emu):
    return connect(Settings(scicat_url=emu.url, scicat_user="admin", scicat_password="2jf70TPNZsS"))


def test_a_chain_whose_claim_was_overwritten_stops_before_any_dataset_write(emulator_factory):
    emu = emulator_factory(flavour="next")
    pid = emu.add_dataset()
    job_id = emu.add_job("archive", [pid])
    first, second = (JobContext(job_id, "archive", (pid,), "next") for _ in range(2))
    with client_for(emu) as client:
        job.in_progress(client, first, log())
        # the second chain read the job before the first claimed it, and claimed last
        claimed = {claim.RUN_KEY: {"run": second.run, "at": time.time()}}
        client.update_job(job_id, IN_PROGRESS, "Archiving 1 dataset", result=claimed)
        with pytest.raises(claim.ChainStop, match="claimed by run"):
            archive.datasets_started(client, first, log())
        assert not [p for m, p, _ in emu.request_log if m == "PATCH" and "datasets" in p]
        assert archive.datasets_started(client, second, log())["outcomes"][pid]["code"] == (
            "missingFilesError"
        )


def test_a_job_claimed_a_moment_ago_by_another_run_is_a_duplicate(emulator_factory):
    emu = emulator_factory(flavour="next")
    job_id = emu.add_job("archive", [emu.add_dataset()])
    ctx = JobContext(job_id, "archive", (), "next")
    with client_for(emu) as client:
        job.in_progress(client, ctx, log())
        with pytest.raises(claim.ChainStop, match="already in progress"):
            job.in_progress(client, JobContext(job_id, "archive", (), "next"), log())
        job.in_progress(client, ctx, log())  # a repeat of its own claim goes on


def test_a_stale_claim_is_taken_over_by_a_resubmission(emulator_factory):
    emu = emulator_factory(flavour="next")
    job_id = emu.add_job("archive", [emu.add_dataset()])
    old = {claim.RUN_KEY: {"run": "gone", "at": time.time() - claim.STALE_CLAIM_SECONDS - 1}}
    ctx = JobContext(job_id, "archive", (), "next")
    with client_for(emu) as client:
        client.update_job(job_id, IN_PROGRESS, "Archiving 1 dataset", result=old)
        job.in_progress(client, ctx, log())
        assert claim.owner(client.get_job(job_id).result) == ctx.run
