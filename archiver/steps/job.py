"""Job-level steps: take the job (in progress), finish it, record a final failure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archiver.errors import ArchiverError, NotFoundError, PermanentSciCatError, SciCatError
from archiver.plan import JobContext
from archiver.scicat.base import FINISHED_FAILED, IN_PROGRESS, SciCatClient
from archiver.steps import archive, reset, retrieve
from archiver.steps.cleanup import refusal
from archiver.steps.datasets import find_dataset
from archiver.steps.marks import JobLog
from archiver.steps.outcome import DatasetOutcome, job_status, status_line
from archiver.storage.base import Storage

#: Key in ``jobResultObject`` naming the chain run that owns an in-progress job.
RUN_KEY = "archiver"

VERBS = {
    "archive": ("Archiving", "archived"),
    "retrieve": ("Retrieving", "retrieved"),
    "reset": ("Resetting", "reset"),
}
#: The step module that classifies and abandons datasets, per job type.
STEP_MODULES = {"archive": archive, "retrieve": retrieve, "reset": reset}


class ChainStop(ArchiverError):
    """Stop the chain quietly: the job is finished or another run owns it."""


def _owner(result: Mapping[str, Any]) -> str | None:
    info = result.get(RUN_KEY) if isinstance(result, Mapping) else None
    return str(info.get("run")) if isinstance(info, Mapping) and info.get("run") else None


def in_progress(client: SciCatClient, ctx: JobContext, log: JobLog) -> None:
    """Claim the job for this run and set it ``inProgress``.

    A finished job, or one another run already owns, stops the chain (duplicate message).
    A repeat of this run's own claim (redelivery after a crash) goes on.
    """
    job = client.get_job(ctx.job_id)
    if job.finished:
        raise ChainStop(f"job is already {job.status}; nothing to do")
    owner = _owner(job.result)
    if job.status == IN_PROGRESS:
        if owner == ctx.run:
            log.info("already in progress for this run; going on")
            return
        raise ChainStop(f"job is already in progress (run {owner or 'unknown'}); duplicate")
    verb = VERBS.get(ctx.type, ("Working on", "done"))[0]
    count = len(ctx.pids)
    message = f"{verb} {count} dataset{'s' if count != 1 else ''}"
    client.update_job(ctx.job_id, IN_PROGRESS, message, result={RUN_KEY: {"run": ctx.run}})
    if _owner(client.get_job(ctx.job_id).result) != ctx.run:
        raise ChainStop("another run claimed the job at the same moment; leaving it to that run")
    log.info("job in progress: %s", message)


def finish(client: SciCatClient, storage: Storage, ctx: JobContext, log: JobLog) -> str:
    """Read every dataset back, write the job's final status and result; return the status."""
    job = client.get_job(ctx.job_id)
    if job.finished:
        log.info("job already %s; not overwritten", job.status)
        return job.status
    outcomes = _outcomes(client, storage, ctx, log)
    status = job_status(outcomes)
    verb = VERBS.get(ctx.type, ("", "done"))[1]
    message = status_line(verb, outcomes)
    result = _result(ctx, outcomes)
    client.update_job(ctx.job_id, status, message, result=result)
    log.info("job %s: %s", status, message)
    return status


def fail(
    client: SciCatClient,
    ctx: JobContext,
    reason: str,
    log: JobLog,
    storage: Storage | None = None,
) -> None:
    """The chain failed for good: no dataset stays ``started``; the job ends unsuccessful.

    Datasets this job already finished keep their state; datasets it had started are marked
    failed (their DataBlocks removed for an archive). Clean-up is best effort: what SciCat
    refuses (a DELETE, a read, a lifecycle update) is named, with the setting that would
    allow it, in the dataset's return message, the job's ``jobResultObject.errors`` and its
    ``statusMessage``; the job gets its final status all the same. With ``storage``, a retrieval
    also removes the unverified temporary files of the datasets it marks failed. Safe to run
    more than once.
    """
    try:
        job = client.get_job(ctx.job_id)
    except NotFoundError:
        log.error("job no longer exists in SciCat; nothing to record")
        return
    step = STEP_MODULES.get(ctx.type, retrieve)
    errors = []
    for pid in ctx.pids:
        dlog = log.for_dataset(pid)
        try:
            dataset = find_dataset(client, pid)
        except PermanentSciCatError as exc:
            message = f"{reason}; dataset {pid} not cleaned up: {refusal('read dataset', exc)}"
            dlog.error("%s", message)
            errors.append(_error(pid, step.SYSTEM_FAILURE, message))
            continue
        written = (
            None if dataset is None else step.abandon(client, dataset, ctx, reason, dlog, storage)
        )
        if written is not None:
            errors.append(_error(pid, step.SYSTEM_FAILURE, written))
    if job.finished:
        log.info("job already %s; failure not written over it", job.status)
        return
    message = f"failed: {reason}"
    leftovers = [
        e["message"].removeprefix(reason).removeprefix("; ")
        for e in errors
        if e["message"] != reason
    ]
    if leftovers:
        message += f"; not cleaned up: {leftovers[0]}"
        if len(leftovers) > 1:
            message += f" (and {len(leftovers) - 1} more, see jobResultObject.errors)"
    client.update_job(ctx.job_id, FINISHED_FAILED, message[:500], result={"errors": errors})
    log.error("job %s: %s", FINISHED_FAILED, message)


def _error(pid: str, code: str, message: str) -> dict[str, str]:
    return {"pid": pid, "code": code, "kind": "system", "message": message}


def _outcomes(
    client: SciCatClient, storage: Storage, ctx: JobContext, log: JobLog
) -> list[DatasetOutcome]:
    step = STEP_MODULES.get(ctx.type, retrieve)
    outcomes = []
    for pid in ctx.pids:
        dataset = find_dataset(client, pid)
        if dataset is None:
            outcomes.append(DatasetOutcome(pid, "user", "datasetNotFound", "no such dataset"))
        else:
            outcomes.append(step.outcome(client, storage, dataset, ctx, log.for_dataset(pid)))
    return outcomes


def _result(ctx: JobContext, outcomes: list[DatasetOutcome]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if ctx.type == "retrieve":
        result["result"] = [entry for o in outcomes if o.ok for entry in o.summary["blocks"]]
    else:
        result["datasets"] = [o.summary for o in outcomes if o.ok]
    errors = [o.as_error() for o in outcomes if not o.ok]
    if errors:
        result["errors"] = errors
    return result


def describe(exc: BaseException) -> str:
    """A short, readable reason for a final failure (no traceback, no secrets)."""
    if isinstance(exc, SciCatError):
        return str(exc)[:400]
    return f"{type(exc).__name__}: {exc}"[:400]
