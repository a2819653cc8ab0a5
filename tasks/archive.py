"""Archive tasks: datasets started, add DataBlocks, datasets archived.

``add_datablocks`` (and ``retrieve.retrieve``) may run longer than RabbitMQ's delivery
acknowledgement timeout allows. They run through :func:`long_step`: the storage backend
gets a time budget (``ARCHIVER_STEP_MAX_SECONDS``) and a progress reporter; when it stops
after a finished tar with work left (``ContinueLater``), the task replaces itself with a
new run of the same step (same context, same place in the chain, same errback), which
skips what is done. Each run is acknowledged on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from archiver import runtime
from archiver.celery_app import app
from archiver.flower_names import step_options
from archiver.plan import JobContext
from archiver.steps import archive as steps
from archiver.storage import work
from archiver.storage.progress import JobProgress
from tasks.base import StepTask


def long_step(
    task: StepTask,
    ctx: JobContext,
    body: Callable[[], dict[str, Any]],
    facts: dict[str, Any] | None = None,
) -> None:
    """Run ``body`` with a time budget and progress reporting; continue in a new run of
    the same task when the storage asks for it."""
    settings = runtime.settings()

    def emit(meta: dict[str, Any]) -> None:
        task.update_state(state="PROGRESS", meta=meta)
        task.send_event("task-progress", retry=False, **meta)  # a lost event is no loss

    reporter = JobProgress(task.client(ctx), ctx.job_id, emit)
    try:
        with work.step_run(reporter=reporter), work.budget(settings.step_max_seconds):
            task.hand_on(body())
    except work.ContinueLater as exc:
        task.log(ctx).info("continuing in a new run: %s", exc)
        payload = ctx.to_dict()
        # the new run reads the datasets again (it must see what this run did)
        kept = {k: v for k, v in (facts or {}).items() if k != "docs"} if facts else None
        again = task.signature(
            (payload,), {"facts": kept}, immutable=True, **step_options(task.name, payload)
        )
        # In a worker this raises Ignore (the new run is queued); under eager apply() it runs
        # the new run right here and returns.
        task.replace(again)


@app.task(bind=True, base=StepTask, name="archiver.archive.datasets_started")
def datasets_started(
    self: StepTask, payload: dict[str, Any], facts: dict[str, Any] | None = None
) -> None:
    """Verify the claim, validate the datasets and mark the good ones ``started``."""
    ctx = self.context(payload)
    self.hand_on(steps.datasets_started(self.client(ctx), ctx, self.log(ctx)))


@app.task(bind=True, base=StepTask, name="archiver.archive.add_datablocks")
def add_datablocks(
    self: StepTask, payload: dict[str, Any], facts: dict[str, Any] | None = None
) -> None:
    """Build DataBlocks through the storage backend and register the missing ones."""
    ctx = self.context(payload)
    pause = runtime.settings().simulated_seconds
    client, storage, log = self.client(ctx), self.storage(), self.log(ctx)
    given = {k: v for k, v in facts.items() if k != "docs"} if facts and self.repeated else facts
    long_step(
        self, ctx, lambda: steps.add_datablocks(client, storage, ctx, log, pause, given), facts
    )


@app.task(bind=True, base=StepTask, name="archiver.archive.datasets_archived")
def datasets_archived(
    self: StepTask, payload: dict[str, Any], facts: dict[str, Any] | None = None
) -> None:
    """Mark the archived datasets so."""
    ctx = self.context(payload)
    self.hand_on(steps.datasets_archived(self.client(ctx), ctx, self.log(ctx), facts))
