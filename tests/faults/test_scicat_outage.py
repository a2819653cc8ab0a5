"""SciCat outages: 503s and hanging requests for ~20 s, then recovery (jobs succeed); an
outage longer than the steps' retry budget (jobs end ``finishedUnsuccessful`` once SciCat
is back, no dataset stuck)."""

from __future__ import annotations

import time

import pytest

from .conftest import check_all, seed_many, submit_many, through_an_outage, wait_all

pytestmark = pytest.mark.faults

OUTAGE = 20.0


def test_a_20_second_outage_with_503s_and_hangs_is_ridden_out(pipeline_factory):
    # retry budget well above the outage: 30 retries, backoff capped at 2 s
    pipe = pipeline_factory(flavour="next", max_retries=30, retry_backoff_max=2, scicat_timeout=3)
    pids = seed_many(pipe, 30)
    job_ids = submit_many(pipe, pids[:10])  # some jobs are under way when it starts
    time.sleep(0.3)
    # first requests hang (no answer within the client's timeout), then everything is 503
    pipe.emulator.inject_fault("^/api/", status=None, count=6, delay_s=OUTAGE / 2)
    pipe.emulator.inject_fault("^/api/", status=503, count=1_000_000)
    job_ids += submit_many(pipe, pids[10:])
    time.sleep(OUTAGE)
    pipe.emulator.clear_faults()
    wait_all(pipe, job_ids, timeout=120)
    check_all(pipe, job_ids, pids, expect="finishedSuccessful")


def test_an_outage_longer_than_the_retry_budget_fails_jobs_cleanly(pipeline_factory):
    # budget of a step: 2 retries under 1 s; the outage lasts 12 s
    pipe = pipeline_factory(flavour="next", max_retries=2, retry_backoff_max=1)
    job_ids, _ = through_an_outage(pipe, 20, 12, expect="finishedUnsuccessful")
    for job_id in job_ids:
        assert "failed" in pipe.emulator.job(job_id)["statusMessage"]


def test_an_outage_in_the_middle_of_a_chain_leaves_no_dataset_started(pipeline_factory):
    pipe = pipeline_factory(flavour="next", max_retries=2, retry_backoff_max=1)
    pids = seed_many(pipe, 10)
    # the DataBlock step hits the outage after the datasets were marked started
    pipe.emulator.inject_fault("/datablocks", status=503, count=1_000_000)
    job_ids = submit_many(pipe, pids)
    time.sleep(8)
    pipe.emulator.clear_faults()
    wait_all(pipe, job_ids, timeout=120)
    check_all(pipe, job_ids, pids, expect="finishedUnsuccessful")
