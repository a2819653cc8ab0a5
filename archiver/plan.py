"""Planning: a new job becomes one Celery chain of small steps.

The plan is pure: it only builds signatures. Every step receives the same small JSON
context (:class:`JobContext`) through an immutable signature. A step hands small facts to
the next one in that step's message (:mod:`archiver.steps.facts`), which spares re-reads
on the happy path; what must survive a crash lives in SciCat (the job claim, the datasets'
lifecycle marks carrying the job id and run), and a step that lacks facts, or is repeated,
reads it back.

Archive:  job in progress → datasets started → add DataBlocks → datasets archived → job finished
Retrieve: job in progress → datasets started → retrieve → job finished
Reset:    job in progress → datasets reset → job finished

When a step finally fails, the chain stops and the errback queues ``job fail``, which
writes the outcome to SciCat.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from celery import Celery, chain
from celery.canvas import Signature

from archiver.flower_names import step_options
from archiver.scicat.base import Job

#: Task names of each job type's steps, in order.
STEPS: dict[str, tuple[str, ...]] = {
    "archive": (
        "archiver.job.in_progress",
        "archiver.archive.datasets_started",
        "archiver.archive.add_datablocks",
        "archiver.archive.datasets_archived",
        "archiver.job.finish",
    ),
    "retrieve": (
        "archiver.job.in_progress",
        "archiver.retrieve.datasets_started",
        "archiver.retrieve.retrieve",
        "archiver.job.finish",
    ),
    "reset": (
        "archiver.job.in_progress",
        "archiver.reset.datasets_reset",
        "archiver.job.finish",
    ),
}
#: Task that records a chain's final failure in SciCat (queued by the errback).
FAIL_TASK = "archiver.job.fail"
#: Errback attached to every step; it runs in the failed step's worker and only queues
#: :data:`FAIL_TASK` (a task of its own, with retries).
ERRBACK_TASK = "archiver.job.on_step_failure"
#: jobParams keys that may carry a retrieval destination.
DESTINATION_KEYS = ("destinationPath", "destination", "location")
#: jobParams key naming the storage (ARCHIVER_STORAGE=routing) the job's datasets go to,
#: instead of each dataset's datasetlifecycle.storageLocation.
STORAGE_LOCATION_KEY = "storageLocation"


@dataclass(frozen=True)
class JobContext:
    """The small JSON context every step of one chain receives.

    ``takeover`` is set only on a chain the reconciler starts for an ``inProgress`` job
    whose chain was lost: the run id that job's claim names (``""`` when it names none).
    The claim step takes such a job over only while that run still owns it.
    """

    job_id: str
    type: str
    pids: tuple[str, ...]
    api: str
    run: str = field(default_factory=lambda: uuid.uuid4().hex)
    destination: str | None = None
    storage_location: str | None = None
    takeover: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["pids"] = list(self.pids)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobContext:
        return cls(
            job_id=str(data["job_id"]),
            type=str(data["type"]),
            pids=tuple(str(p) for p in data.get("pids", ())),
            api=str(data.get("api", "")),
            run=str(data.get("run") or uuid.uuid4().hex),
            destination=data.get("destination"),
            storage_location=data.get("storage_location"),
            takeover=data.get("takeover"),
        )


def context_for(job: Job, api: str, takeover: str | None = None) -> JobContext:
    """The context of a new chain for ``job`` on a backend of generation ``api``
    (``takeover``: the lost run it replaces, see :class:`JobContext`)."""
    destination = next(
        (str(job.params[k]) for k in DESTINATION_KEYS if isinstance(job.params.get(k), str)),
        None,
    )
    location = job.params.get(STORAGE_LOCATION_KEY)
    return JobContext(
        job.id,
        job.type,
        tuple(job.pids),
        api,
        destination=destination,
        storage_location=None if location in (None, "") else str(location),
        takeover=takeover,
    )


def task_id(ctx: JobContext, name: str) -> str:
    """The Celery task id of one step: job id, step and run, so that every Celery log line
    and Flower row of the step names its job (``<job id>:<step>:<run>``)."""
    return f"{ctx.job_id}:{name.rsplit('.', 1)[-1]}:{ctx.run[:12]}"


def plan_chain(app: Celery, ctx: JobContext) -> Signature:
    """The chain for ``ctx``, with the failure errback on every step."""
    try:
        names = STEPS[ctx.type]
    except KeyError:
        raise ValueError(f"no plan for job type {ctx.type!r}") from None
    payload = ctx.to_dict()
    steps = [
        app.signature(
            name,
            args=(payload,),
            immutable=True,
            task_id=task_id(ctx, name),
            **step_options(name, payload),
        )
        for name in names
    ]
    # The errback gets (request, exc, traceback) of the failed step; the context is in
    # request.args, so it needs no arguments of its own.
    return chain(*steps).on_error(app.signature(ERRBACK_TASK))
