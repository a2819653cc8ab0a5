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
#: Key in the claim (``jobResultObject.archiver``) counting takeovers by the reconciler.
RESUMES_KEY = "resumes"

VERBS = {
    "archive": ("Archiving", "archived"),
    "retrieve": ("Retrieving", "retrieved"),
    "reset": ("Resetting", "reset"),
}
#: The step module that classifies and abandons datasets, per job type.
STEP_MODULES = {"archive": archive, "retrieve": retrieve, "reset": reset}


class ChainStop(ArchiverError):
    """Stop the chain quietly: the job is finished or another run owns it."""


def resumes(result: Mapping[str, Any]) -> int:
    """How many times the reconciler took this job over from a lost chain (claim marks)."""
    info = result.get(RUN_KEY) if isinstance(result, Mapping) else None
    value = info.get(RESUMES_KEY) if isinstance(info, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def owner_run(result: Mapping[str, Any]) -> str | None:
    """The run id the job's claim names (``jobResultObject.archiver.run``), if any."""
    info = result.get(RUN_KEY) if isinstance(result, Mapping) else None
    return str(info.get("run")) if isinstance(info, Mapping) and info.get("run") else None


def in_progress(client: SciCatClient, ctx: JobContext, log: JobLog) -> None:
    """Claim the job for this run and set it ``inProgress``.

    A finished job, or one another run already owns, stops the chain (duplicate message).
    A repeat of this run's own claim (redelivery after a crash) goes on. A chain the
    reconciler started to replace a lost run (``ctx.takeover``) claims the job only while
    that lost run still owns it; several reconcilers' chains for the same lost run are
    decided like duplicate chains, by the claim and its re-read.
    """
    job = client.get_job(ctx.job_id)
    if job.finished:
        raise ChainStop(f"job is already {job.status}; nothing to do")
    owner = owner_run(job.result)
    if job.status == IN_PROGRESS:
        if owner == ctx.run:
            log.info("already in progress for this run; going on")
            return
        if ctx.takeover is None or (owner or "") != ctx.takeover:
            raise ChainStop(f"job is already in progress (run {owner or 'unknown'}); duplicate")
        log.warning("taking over from run %s, whose chain was lost", owner or "unknown")
    verb = VERBS.get(ctx.type, ("Working on", "done"))[0]
    count = len(ctx.pids)
    message = f"{verb} {count} dataset{'s' if count != 1 else ''}"
    claim: dict[str, Any] = {"run": ctx.run}
    if ctx.takeover is not None:
        claim[RESUMES_KEY] = resumes(job.result) + 1
    client.update_job(ctx.job_id, IN_PROGRESS, message, result={RUN_KEY: claim})
    if owner_run(client.get_job(ctx.job_id).result) != ctx.run:
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


def fail(client: SciCatClient, ctx: JobContext, reason: str, log: JobLog) -> None:
    """The chain failed for good: no dataset stays ``started``; the job ends unsuccessful.

    Datasets this job already finished keep their state; datasets it had started are marked
    failed (their DataBlocks removed for an archive). Clean-up is best effort: what SciCat
    refuses (a DELETE, a read, a lifecycle update) is named, with the setting that would
    allow it, in the dataset's return message, the job's ``jobResultObject.errors`` and its
    ``statusMessage``; the job gets its final status all the same. Safe to run more than once.
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
        written = None if dataset is None else step.abandon(client, dataset, ctx, reason, dlog)
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
