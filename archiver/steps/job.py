"""Job-level steps: take the job (in progress), finish it, record a final failure."""

from __future__ import annotations

from typing import Any

from archiver.errors import ChainStop, NotFoundError, PermanentSciCatError, SciCatError
from archiver.plan import JobContext
from archiver.scicat.base import FINISHED_FAILED, SciCatClient
from archiver.steps import archive, claim, reset, retrieve
from archiver.steps.claim import RESUMES_KEY, RUN_KEY, VERBS, owner_run, resumes
from archiver.steps.cleanup import refusal
from archiver.steps.datasets import find_dataset
from archiver.steps.facts import Facts, settled
from archiver.steps.marks import JobLog
from archiver.steps.outcome import DatasetOutcome, job_status, status_line
from archiver.storage.base import Storage

#: The step module that classifies and abandons datasets, per job type.
STEP_MODULES = {"archive": archive, "retrieve": retrieve, "reset": reset}
#: Job types whose first dataset step verifies the claim itself (:func:`claim.verify`).
VERIFIED_BY_NEXT_STEP = ("archive", "retrieve")

__all__ = [
    "RESUMES_KEY",
    "RUN_KEY",
    "VERBS",
    "ChainStop",
    "fail",
    "finish",
    "in_progress",
    "owner_run",
    "resumes",
]


def in_progress(client: SciCatClient, ctx: JobContext, log: JobLog) -> None:
    """Claim the job for this run and set it ``inProgress`` (:func:`claim.claim`).

    Archive and retrieve chains verify the claim in their next step, in the same read as
    their datasets; other job types read it back here.
    """
    claim.claim(client, ctx, log)
    if ctx.type not in VERIFIED_BY_NEXT_STEP:
        claim.check(client.get_job(ctx.job_id), ctx)


def finish(
    client: SciCatClient,
    storage: Storage,
    ctx: JobContext,
    log: JobLog,
    facts: Facts | None = None,
    repeated: bool = True,
) -> str:
    """Write the job's final status and result; return the status.

    With the facts of the previous step settling every dataset and a first run of this step
    (``repeated`` false), only the job write is made. A repeated run, or one without facts,
    first reads the job (an already finished job is not overwritten) and every dataset
    (batched) and classifies them.
    """
    outcomes_by_pid = None if repeated else settled(facts, ctx.pids)
    if outcomes_by_pid is None:
        job = client.get_job(ctx.job_id)
        if job.finished:
            log.info("job already %s; not overwritten", job.status)
            return job.status
        outcomes = _outcomes(client, storage, ctx, log)
    else:
        outcomes = list(outcomes_by_pid.values())
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
    try:
        docs: dict[str, dict[str, Any]] | None = client.datasets(ctx.pids)
    except PermanentSciCatError:
        docs = None  # read one by one below, so each refusal is named
    for pid in dict.fromkeys(ctx.pids):
        dlog = log.for_dataset(pid)
        try:
            dataset = docs.get(pid) if docs is not None else find_dataset(client, pid)
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
    relations = ("datablocks",) if ctx.type == "retrieve" else ()
    docs = client.datasets(ctx.pids, relations)
    outcomes = []
    for pid in dict.fromkeys(ctx.pids):
        dataset = docs.get(pid)
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
