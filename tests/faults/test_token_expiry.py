"""Every SciCat token expires (several times) while jobs run: the client logs in again and
every job succeeds."""

from __future__ import annotations

import time

import pytest

from .conftest import check_all, seed_many, submit_many, unfinished, wait_all

pytestmark = pytest.mark.faults


def test_tokens_expiring_mid_run_cost_nothing(pipeline_factory):
    pipe = pipeline_factory(flavour="next")
    pids = seed_many(pipe, 60)
    job_ids = submit_many(pipe, pids)
    expiries = 0
    while unfinished(pipe, job_ids) and expiries < 10:
        time.sleep(0.3)
        pipe.emulator.expire_tokens()
        expiries += 1
    wait_all(pipe, job_ids, timeout=120)
    check_all(pipe, job_ids, pids, expect="finishedSuccessful")
    assert expiries >= 2, "the run ended before the tokens expired twice: use more jobs"
    logins = sum(1 for m, p, _ in pipe.emulator.request_log if m == "POST" and "login" in p)
    assert logins >= 2
    refused = sum(1 for _, _, status in pipe.emulator.request_log if status == 401)
    assert refused >= 1
