"""The claim: one chain (run) per job, taken in SciCat and verified before any dataset write.

The first step (``in_progress``) reads the job, then writes ``inProgress`` with the chain's
run id and the time into ``jobResultObject.archiver``; the first dataset step reads the job
back together with its datasets (:meth:`SciCatClient.job_with_datasets`, one request where the
backend allows) and goes on only if the run id there is its own (:func:`check`). A second
chain for the same job therefore stops before it writes anything: at its claim when it sees
the job taken or finished, else at its check when the other chain's claim came last.

A job re-submitted through the intake (a reconciler, a second poller, a redelivered
message) gets a new run. It is treated as a duplicate while the job is finished or its claim
is younger than :data:`STALE_CLAIM_SECONDS`; an older claim means the owning chain is gone,
and the new run takes the job over: it claims again and adopts the datasets the job already
marked (the marks carry the job id; the steps work on whatever state they find).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from archiver.errors import ChainStop
from archiver.plan import JobContext
from archiver.scicat.base import IN_PROGRESS, Job, SciCatClient
from archiver.steps.marks import JobLog

#: Key in ``jobResultObject`` naming the chain run that owns an in-progress job.
RUN_KEY = "archiver"
#: Key in the claim counting takeovers of lost chains by the reconciler.
RESUMES_KEY = "resumes"
#: A claim this old (seconds) belongs to a chain that is gone; a re-submission takes over.
STALE_CLAIM_SECONDS = 6 * 3600.0

VERBS = {
    "archive": ("Archiving", "archived"),
    "retrieve": ("Retrieving", "retrieved"),
    "reset": ("Resetting", "reset"),
}


def owner(result: Mapping[str, Any]) -> str | None:
    """The run id recorded in a job's ``jobResultObject``, if any."""
    info = result.get(RUN_KEY) if isinstance(result, Mapping) else None
    return str(info.get("run")) if isinstance(info, Mapping) and info.get("run") else None


def owner_run(result: Mapping[str, Any]) -> str | None:
    """The run id the job's claim names (``jobResultObject.archiver.run``), if any."""
    return owner(result)


def resumes(result: Mapping[str, Any]) -> int:
    """How many times the reconciler took this job over from a lost chain (claim marks)."""
    info = result.get(RUN_KEY) if isinstance(result, Mapping) else None
    value = info.get(RESUMES_KEY) if isinstance(info, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def claim_age(result: Mapping[str, Any], now: float | None = None) -> float | None:
    """Seconds since the recorded claim was written (``None``: no time recorded)."""
    info = result.get(RUN_KEY) if isinstance(result, Mapping) else None
    at = info.get("at") if isinstance(info, Mapping) else None
    if not isinstance(at, int | float) or isinstance(at, bool):
        return None
    return (time.time() if now is None else now) - float(at)


def claim(client: SciCatClient, ctx: JobContext, log: JobLog) -> None:
    """Claim the job for this run and set it ``inProgress``.

    A finished job, or one another run owns with a claim younger than
    :data:`STALE_CLAIM_SECONDS`, stops the chain; a repeat of this run's own claim goes on.
    A chain the reconciler started to replace a lost run (``ctx.takeover``) claims the job
    while that lost run still owns it, and counts the takeover (:data:`RESUMES_KEY`).
    """
    job = client.get_job(ctx.job_id)
    if job.finished:
        raise ChainStop(f"job is already {job.status}; nothing to do")
    holder = owner(job.result)
    if job.status == IN_PROGRESS:
        if holder == ctx.run:
            log.info("already in progress for this run; going on")
            return
        age = claim_age(job.result)
        if ctx.takeover is not None and (holder or "") == ctx.takeover:
            log.warning("taking over from run %s, whose chain was lost", holder or "unknown")
        elif age is None or age < STALE_CLAIM_SECONDS:
            raise ChainStop(f"job is already in progress (run {holder or 'unknown'}); duplicate")
        else:
            log.warning("claim of run %s is %.0f s old: taking the job over", holder, age)
    verb = VERBS.get(ctx.type, ("Working on", "done"))[0]
    count = len(ctx.pids)
    message = f"{verb} {count} dataset{'s' if count != 1 else ''}"
    marks: dict[str, Any] = {"run": ctx.run, "at": round(time.time(), 3)}
    if ctx.takeover is not None:
        marks[RESUMES_KEY] = resumes(job.result) + 1
    result = {RUN_KEY: marks}
    client.update_job(ctx.job_id, IN_PROGRESS, message, result=result)
    log.info("job in progress: %s", message)


def check(job: Job, ctx: JobContext) -> Job:
    """Stop the chain unless ``job`` (just read) shows this run's claim; return it."""
    if job.finished:
        raise ChainStop(f"job is already {job.status}; nothing to do")
    holder = owner(job.result)
    if holder != ctx.run:
        raise ChainStop(f"job is claimed by run {holder or 'unknown'}, not this one; leaving it")
    return job
