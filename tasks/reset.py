"""Reset task: put the job's datasets back to archivable (SciCat's ``reset`` job type)."""

from __future__ import annotations

from typing import Any

from archiver.celery_app import app
from archiver.steps import reset as steps
from tasks.base import StepTask


@app.task(bind=True, base=StepTask, name="archiver.reset.datasets_reset")
def datasets_reset(self: StepTask, payload: dict[str, Any]) -> None:
    """Remove the datasets' DataBlocks and reset their lifecycle."""
    ctx = self.context(payload)
    steps.datasets_reset(self.client(ctx), ctx, self.log(ctx))
