"""Job-level tasks: in progress, finish, and the failure path (errback + fail task)."""

from __future__ import annotations

import logging
from typing import Any

from archiver.celery_app import app
from archiver.ids import escape
from archiver.plan import ERRBACK_TASK, FAIL_TASK, JobContext, task_id
from archiver.retry import is_login_refused
from archiver.steps import job as steps
from tasks.base import StepTask

logger = logging.getLogger(__name__)

#: The fail task keeps trying (transient errors only) until SciCat is back: at the backoff
#: cap this is days of attempts, so a job is never left in progress by a SciCat outage.
FAIL_RETRIES = 2000


@app.task(bind=True, base=StepTask, name="archiver.job.in_progress")
def in_progress(self: StepTask, payload: dict[str, Any]) -> None:
    """Claim the job for this chain and set it ``inProgress``."""
    ctx = self.context(payload)
    steps.in_progress(self.client(ctx), ctx, self.log(ctx))


@app.task(bind=True, base=StepTask, name="archiver.job.finish")
def finish(self: StepTask, payload: dict[str, Any], facts: dict[str, Any] | None = None) -> str:
    """Write the job's final status and result, then drop the storage's state for the job."""
    ctx = self.context(payload)
    status = steps.finish(
        self.client(ctx), self.storage(), ctx, self.log(ctx), facts, repeated=self.repeated
    )
    self.storage().forget_job(ctx.job_id)  # also when finish found the job already finished
    return status


@app.task(bind=True, base=StepTask, name=FAIL_TASK, retries_allowed=FAIL_RETRIES)
def fail(self: StepTask, payload: dict[str, Any], reason: str) -> None:
    """Record a chain's final failure: datasets not left started (a retrieval's unverified
    files removed), job unsuccessful."""
    ctx = self.context(payload)
    steps.fail(self.client(ctx), ctx, reason, self.log(ctx), self.storage())
    self.storage().forget_job(ctx.job_id)


@app.task(name=ERRBACK_TASK)
def on_step_failure(request: Any, exc: BaseException, traceback: Any) -> None:
    """Errback of every step. Runs inside the worker whose step failed for good; it only
    queues :func:`fail`, a task with its own retries, so SciCat calls happen there."""
    args = getattr(request, "args", None) or ()
    payload = args[0] if args and isinstance(args[0], dict) else None
    if payload is None:
        logger.error("a step failed without a job context (%s): %r", request.task, exc)
        return
    reason = f"step {request.task.rsplit('.', 1)[-1]} failed: {steps.describe(exc)}"
    if request.task == in_progress.name and is_login_refused(exc):
        # The job was never claimed: it stays jobSubmitted, untouched, and the reconciler
        # starts it again once SciCat accepts the login (ARCHIVER_RECONCILE_SUBMITTED_GRACE).
        logger.error(
            "[job %s] %s; the job stays jobSubmitted and is started again by the reconciler "
            "once ARCHIVER_SCICAT_USER/ARCHIVER_SCICAT_PASSWORD are fixed",
            escape(payload.get("job_id")),
            escape(reason),
        )
        return
    logger.error("[job %s] %s", escape(payload.get("job_id")), escape(reason))
    fail.apply_async(
        args=(payload, reason), task_id=task_id(JobContext.from_dict(payload), FAIL_TASK)
    )
