"""The retry budget: capped backoff that cannot overflow, equal jitter, a window in time."""

from __future__ import annotations

import random

import pytest

from archiver.errors import AuthError, TransientSciCatError
from archiver.retry import backoff, backoff_ceiling, decide, is_login_refused
from tasks.base import backoff as step_backoff


@pytest.mark.parametrize("retries", [0, 5, 1023, 1024, 1025, 5000, 10**9])
def test_backoff_never_overflows_and_stays_under_the_cap(retries):
    # 2.0**1024 raised OverflowError inside the retry handler: the fail task died there
    for _ in range(50):
        assert 0 <= step_backoff(retries, 300) <= 300


def test_equal_jitter_has_a_deterministic_lower_bound():
    rng = random.Random(1)
    for retries in range(40):
        ceiling = backoff_ceiling(retries, 60)
        for _ in range(20):
            assert ceiling / 2 <= backoff(retries, 60, rng) <= ceiling
    assert backoff_ceiling(3, 60) == 8 and backoff_ceiling(30, 60) == 60


def test_the_window_not_the_count_decides_and_no_jitter_can_shorten_it():
    # full jitter under 2**n once gave up after 8 retries in 53 s; now elapsed time decides
    for seed in range(200):
        rng = random.Random(seed)
        verdict = decide(retries=500, elapsed=3599.0, window=3600, cap=300, rng=rng)
        assert not verdict.give_up
        assert 0 < verdict.delay <= 1.0  # the last wait is cut to end at the window
    assert decide(retries=0, elapsed=3600.0, window=3600, cap=300).give_up


def test_the_deprecated_count_cap_still_applies_when_set():
    assert decide(retries=4, elapsed=1.0, window=3600, cap=1, max_retries=4).give_up
    assert not decide(retries=3, elapsed=1.0, window=3600, cap=1, max_retries=4).give_up
    assert (
        "ARCHIVER_MAX_RETRIES"
        in decide(retries=4, elapsed=1, window=9, cap=1, max_retries=4).reason
    )


def test_only_a_refused_login_counts_as_an_outage_of_the_secret():
    assert is_login_refused(AuthError("login", "refused", 401))
    assert is_login_refused(AuthError("login", "refused", 400))
    assert not is_login_refused(AuthError("login", "no /api/v3/auth/login route", 404))
    assert not is_login_refused(AuthError("update job", "forbidden", 403))
    assert not is_login_refused(TransientSciCatError("login", "down", 503))


def _total_wait(policy: dict) -> float:
    waits = (min(policy["interval_start"] + n * policy["interval_step"], policy["interval_max"])
             for n in range(policy["max_retries"]))  # fmt: skip
    return sum(waits)


def test_publishes_retry_through_a_broker_outage_for_the_whole_window():
    import celeryconfig
    from archiver.settings import Settings

    long = celeryconfig.from_settings(Settings(retry_window=3600))["task_publish_retry_policy"]
    assert 3590 <= _total_wait(long) <= 3610
    short = celeryconfig.from_settings(Settings(retry_window=5))["task_publish_retry_policy"]
    # never less than the policy a broker restart needed (tests/faults/test_broker_restart.py)
    assert _total_wait(short) >= _total_wait(celeryconfig.PUBLISH_RETRY_POLICY)
