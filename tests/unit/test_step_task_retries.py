"""The retry policy of :class:`tasks.base.StepTask`, run eagerly (``task.apply()``).

Each step is a task of a Celery app of the test's own whose body fails the way the table
says. ``apply()`` runs the retries eagerly too, one after the other, so the countdown of every
retry is read from Celery's ``task_retry`` signal: the tables give the backoff ceiling before
retry ``n`` (equal jitter: the wait is between half and all of it), how many retries the
count cap or the time window allows, and which errors are never retried.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from celery.exceptions import Retry
from celery.signals import task_retry

from archiver import runtime
from archiver.errors import (
    AuthError,
    ChainStop,
    PermanentSciCatError,
    TransientSciCatError,
    TransientStorageError,
)
from archiver.plan import FAIL_TASK
from archiver.settings import Settings
from tasks.base import SINCE_HEADER, StepTask

PAYLOAD = {"job_id": "job-1", "type": "archive", "pids": ["P/1"], "api": "next"}


@pytest.fixture
def app() -> Iterator[Celery]:
    app = Celery("retry-test", set_as_current=False)
    app.conf.task_always_eager = True
    yield app
    app.close()
    runtime.configure(None)


@pytest.fixture
def countdowns() -> Iterator[list[float]]:
    """The countdown of every retry a task asks for, in order."""
    seen: list[float] = []

    def record(sender: Any = None, reason: Any = None, **_: Any) -> None:
        if isinstance(reason, Retry):
            seen.append(float(reason.when))

    task_retry.connect(record, weak=False)
    yield seen
    task_retry.disconnect(record)


def failing(
    app: Celery, error: Exception, name: str = "test.step", times: int | None = None
) -> Any:
    """A step that raises ``error`` on each of its first ``times`` runs (``None``: always),
    then succeeds."""
    runs = {"n": 0}

    @app.task(bind=True, base=StepTask, name=name, shared=False)
    def step(self: StepTask, payload: dict[str, Any], *rest: Any) -> None:
        runs["n"] += 1
        if times is None or runs["n"] <= times:
            raise error

    return step


def transient() -> TransientSciCatError:
    return TransientSciCatError("get job", "SciCat is down", 503)


@pytest.mark.parametrize(
    ("cap", "ceilings"),
    [
        (300, [1, 2, 4, 8, 16, 32]),  # 2**n until the cap
        (4, [1, 2, 4, 4, 4, 4]),  # ARCHIVER_RETRY_BACKOFF_MAX caps every wait
    ],
)
def test_waits_grow_exponentially_with_equal_jitter_up_to_the_cap(app, countdowns, cap, ceilings):
    runtime.configure(Settings(retry_backoff_max=cap, max_retries=len(ceilings)))
    result = failing(app, transient()).apply(args=(PAYLOAD,))
    assert result.failed() and isinstance(result.result, TransientSciCatError)
    assert len(countdowns) == len(ceilings)
    for waited, ceiling in zip(countdowns, ceilings, strict=True):
        assert ceiling / 2 <= waited <= ceiling


@pytest.mark.parametrize("error", [transient(), TransientStorageError("disk busy")])
def test_the_count_cap_ends_the_retries_of_any_transient_error(app, countdowns, error):
    runtime.configure(Settings(max_retries=3, retry_backoff_max=1))
    result = failing(app, error).apply(args=(PAYLOAD,))
    assert result.failed() and result.result is error
    assert len(countdowns) == 3


@pytest.mark.parametrize(
    ("failing_for", "retries"),
    [
        (3600 - 0.5, 1),  # half a second of the window left: one last, shortened retry
        (3600 + 1, 0),  # the window is spent: no retry at all
    ],
)
def test_the_time_window_counts_from_the_first_failure(app, countdowns, failing_for, retries):
    runtime.configure(Settings(retry_window=3600, retry_backoff_max=300, max_retries=1))
    since = time.time() - failing_for
    result = failing(app, transient()).apply(args=(PAYLOAD,), headers={SINCE_HEADER: since})
    assert result.failed()
    assert len(countdowns) == retries
    assert all(waited <= 0.5 for waited in countdowns)


def test_the_failure_path_waits_for_its_own_much_longer_window(app, countdowns):
    settings = Settings(retry_window=10, fail_retry_window=7 * 24 * 3600.0, max_retries=1)
    runtime.configure(settings.replace(retry_backoff_max=1))
    since = time.time() - 3600  # far beyond a step's window, well inside the failure path's
    step = failing(app, transient(), name=FAIL_TASK, times=3)  # SciCat back after 3 tries
    result = step.apply(args=(PAYLOAD, "boom"), headers={SINCE_HEADER: since})
    assert result.successful() and len(countdowns) == 3  # no count cap on the failure path
    assert failing(app, transient()).apply(args=(PAYLOAD,), headers={SINCE_HEADER: since}).failed()


@pytest.mark.parametrize(
    "error",
    [
        PermanentSciCatError("update job", "bad request", 400),
        AuthError("update job", "forbidden", 403),  # a right missing, not a refused login
        ValueError("a bug"),
    ],
)
def test_permanent_errors_and_bugs_are_never_retried(app, countdowns, error):
    runtime.configure(Settings(max_retries=5))
    result = failing(app, error).apply(args=(PAYLOAD,))
    assert result.failed() and result.result is error
    assert countdowns == []


def test_a_refused_login_is_retried_beyond_the_count_cap(app, countdowns):
    runtime.configure(Settings(max_retries=1, retry_backoff_max=1))
    step = failing(app, AuthError("login", "wrong password", 401), times=4)  # then fixed
    result = step.apply(args=(PAYLOAD,))
    assert result.successful() and len(countdowns) == 4


def test_a_chain_stop_ends_the_step_quietly(app, countdowns):
    runtime.configure(Settings())
    result = failing(app, ChainStop("job is already finished")).apply(args=(PAYLOAD,))
    assert result.state == "IGNORED" and countdowns == []
