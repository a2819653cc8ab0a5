""":func:`tasks.archive.long_step` on its own, run eagerly (``task.apply()``).

The body runs with the time budget (``ARCHIVER_STEP_MAX_SECONDS``) and a progress reporter
in the step run; when the storage stops with :class:`ContinueLater`, the task replaces
itself with a new run of the same step and the same context, until the body is done.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery

from archiver import runtime
from archiver.errors import ContinueLater
from archiver.plan import JobContext
from archiver.settings import Settings
from archiver.storage import work
from tasks.archive import long_step
from tasks.base import StepTask

PAYLOAD = JobContext("job-1", "archive", ("P/1",), "next").to_dict()


@pytest.fixture
def app(emulator_factory) -> Iterator[Celery]:
    emu = emulator_factory(flavour="next")
    runtime.configure(
        Settings(
            scicat_url=emu.url,
            scicat_user="admin",
            scicat_password="2jf70TPNZsS",
            scicat_api="next",
            step_max_seconds=120.0,
        )
    )
    app = Celery("long-step-test", set_as_current=False)
    app.conf.task_always_eager = True
    yield app
    app.close()
    runtime.configure(None)


def step_task(app: Celery, body: Any) -> Any:
    @app.task(bind=True, base=StepTask, name="test.long", shared=False)
    def long(self: StepTask, payload: dict[str, Any], facts: dict[str, Any] | None = None) -> None:
        # like the real long steps: a continued run gets the facts it was handed
        long_step(self, self.context(payload), lambda: body(payload) or {}, facts)

    return long


def test_the_body_runs_with_the_time_budget_and_a_reporter(app):
    seen: list[work.StepRun] = []
    started = time.monotonic()
    assert step_task(app, lambda _: seen.append(work.current())).apply(args=(PAYLOAD,)).successful()
    [run] = seen
    assert run.reporter is not None and run.deadline is not None
    assert started + 120.0 <= run.deadline <= time.monotonic() + 120.0
    assert work.current().deadline is None  # only inside the step


def test_continue_later_runs_the_same_step_again_with_the_same_context(app):
    payloads: list[dict[str, Any]] = []

    def body(payload: dict[str, Any]) -> None:
        payloads.append(payload)
        if len(payloads) < 3:
            raise ContinueLater("budget used after tar 1")

    result = step_task(app, body).apply(args=(PAYLOAD,))
    assert result.successful()
    assert payloads == [PAYLOAD] * 3
