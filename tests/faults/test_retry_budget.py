"""Retry budgets by time (issue 16.1, 16.2, 16.7): the failure path outlives 1 024 retries, an
outage shorter than the window is ridden out whatever the jitter, an outage longer than the
window fails jobs cleanly, and a refused login waits for the operator instead of losing the
job."""

from __future__ import annotations

import logging
import time

import pytest

from archiver import runtime

from .conftest import (
    check_all,
    seed_many,
    submit_many,
    through_an_outage,
    unfinished,
    wait_all,
    wait_until,
)

pytestmark = pytest.mark.faults


def test_the_fail_task_keeps_waiting_for_scicat_beyond_1024_retries(pipeline_factory):
    # The step gives up at once (count cap 0); the fail task then meets SciCat down on every
    # try. With 2.0**retries it died of OverflowError at retry 1024: job left jobSubmitted.
    pipe = pipeline_factory(
        flavour="next", max_retries=0, retry_backoff_max=0.005, fail_retry_window=3600
    )
    pids = seed_many(pipe, 1)
    pipe.emulator.inject_fault("^/api/", status=503, count=10_000_000)
    job_ids = submit_many(pipe, pids)
    wait_until(lambda: len(pipe.emulator.request_log) > 1100, 240, "1 100 refused SciCat calls")
    assert pipe.job_status(job_ids[0]) == "jobSubmitted"
    pipe.emulator.clear_faults()
    wait_all(pipe, job_ids, timeout=60)
    check_all(pipe, job_ids, pids, expect="finishedUnsuccessful")


def test_an_outage_shorter_than_the_window_is_ridden_out_with_no_count_cap(pipeline_factory):
    # Defaults of old: 8 retries under full jitter could give up within seconds. Now only
    # the window (60 s here) bounds the retries; the outage lasts 10 s.
    pipe = pipeline_factory(flavour="next", max_retries=None, retry_backoff_max=1, retry_window=60)
    through_an_outage(pipe, 10, 10, expect="finishedSuccessful")


def test_an_outage_longer_than_the_window_fails_jobs_cleanly(pipeline_factory):
    # The window is measured from the step's first failure (carried in a message header):
    # a 3 s window and a 12 s outage end every job finishedUnsuccessful, none stuck.
    pipe = pipeline_factory(
        flavour="next", max_retries=None, retry_backoff_max=1, retry_window=3, fail_retry_window=600
    )
    pids = seed_many(pipe, 5)
    pipe.emulator.inject_fault("/datablocks", status=503, count=10_000_000)
    job_ids = submit_many(pipe, pids)
    time.sleep(12)
    pipe.emulator.clear_faults()
    wait_all(pipe, job_ids, timeout=120)
    check_all(pipe, job_ids, pids, expect="finishedUnsuccessful")
    for job_id in job_ids:
        assert "add_datablocks failed" in pipe.emulator.job(job_id)["statusMessage"]


def test_a_refused_login_waits_for_the_fixed_secret_and_names_the_settings(
    pipeline_factory, caplog
):
    # 16.7: the step and the fail task both failed on login and the job stayed jobSubmitted.
    pipe = pipeline_factory(flavour="next", scicat_password="wrong", retry_backoff_max=1)
    pids = seed_many(pipe, 3)
    with caplog.at_level(logging.WARNING):
        job_ids = submit_many(pipe, pids)
        wait_until(
            lambda: any("ARCHIVER_SCICAT_PASSWORD" in r.getMessage() for r in caplog.records),
            60,
            "a log line naming the password setting",
        )
    time.sleep(3)  # several refused attempts; the count cap (4) must not apply to them
    assert all(pipe.job_status(j) == "jobSubmitted" for j in job_ids)
    runtime.configure(pipe.settings.replace(scicat_password="2jf70TPNZsS"))  # fixed, restarted
    wait_all(pipe, job_ids, timeout=120)
    assert not unfinished(pipe, job_ids)
    check_all(pipe, job_ids, pids, expect="finishedSuccessful")
    assert not any("2jf70TPNZsS" in r.getMessage() for r in caplog.records)
