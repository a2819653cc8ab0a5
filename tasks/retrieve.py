"""Retrieve tasks: datasets started, retrieve."""

from __future__ import annotations

from typing import Any

from archiver import runtime
from archiver.celery_app import app
from archiver.steps import retrieve as steps
from tasks.archive import long_step
from tasks.base import StepTask


@app.task(bind=True, base=StepTask, name="archiver.retrieve.datasets_started")
def datasets_started(
    self: StepTask, payload: dict[str, Any], facts: dict[str, Any] | None = None
) -> None:
    """Verify the claim and mark the retrievable datasets ``started``."""
    ctx = self.context(payload)
    self.hand_on(steps.datasets_started(self.client(ctx), ctx, self.log(ctx)))


@app.task(bind=True, base=StepTask, name="archiver.retrieve.retrieve")
def retrieve(self: StepTask, payload: dict[str, Any], facts: dict[str, Any] | None = None) -> None:
    """Restore the started datasets through the storage backend."""
    ctx = self.context(payload)
    pause = runtime.settings().simulated_seconds
    client, storage, log = self.client(ctx), self.storage(), self.log(ctx)
    given = {k: v for k, v in facts.items() if k != "docs"} if facts and self.repeated else facts
    long_step(self, ctx, lambda: steps.retrieve(client, storage, ctx, log, pause, given), facts)
