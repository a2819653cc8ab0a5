"""Archive tasks: datasets started, add DataBlocks, datasets archived."""

from __future__ import annotations

from typing import Any

from archiver import runtime
from archiver.celery_app import app
from archiver.steps import archive as steps
from tasks.base import StepTask


@app.task(bind=True, base=StepTask, name="archiver.archive.datasets_started")
def datasets_started(self: StepTask, payload: dict[str, Any]) -> None:
    """Validate the datasets and mark the good ones ``started``."""
    ctx = self.context(payload)
    steps.datasets_started(self.client(ctx), ctx, self.log(ctx))


@app.task(bind=True, base=StepTask, name="archiver.archive.add_datablocks")
def add_datablocks(self: StepTask, payload: dict[str, Any]) -> None:
    """Build DataBlocks through the storage backend and register the missing ones."""
    ctx = self.context(payload)
    pause = runtime.settings().simulated_seconds
    steps.add_datablocks(self.client(ctx), self.storage(), ctx, self.log(ctx), pause)


@app.task(bind=True, base=StepTask, name="archiver.archive.datasets_archived")
def datasets_archived(self: StepTask, payload: dict[str, Any]) -> None:
    """Mark the started datasets archived."""
    ctx = self.context(payload)
    steps.datasets_archived(self.client(ctx), ctx, self.log(ctx))
