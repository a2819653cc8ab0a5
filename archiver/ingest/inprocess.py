"""Run a job's chain in this process, without RabbitMQ or Celery (``batch --in-process``).

The steps are the pipeline's own functions from :mod:`archiver.steps`, called in the order
:data:`archiver.plan.STEPS` gives for the job type, with the same :class:`JobContext`. When a
step fails, the failure path of the pipeline (:func:`archiver.steps.job.fail`) records it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from archiver.plan import STEPS, JobContext, context_for
from archiver.scicat.base import SciCatClient
from archiver.steps import archive, job, reset, retrieve
from archiver.steps.marks import JobLog, job_log
from archiver.storage.base import Storage

Facts = dict[str, Any] | None
Step = Callable[[SciCatClient, Storage, JobContext, JobLog, Facts], object]

#: Task name -> the step function it runs (the Celery tasks wrap the same functions); each
#: gets the facts the previous step returned, as the Celery chain passes them on.
STEP_FUNCTIONS: dict[str, Step] = {
    "archiver.job.in_progress": lambda c, s, x, g, f: job.in_progress(c, x, g),
    "archiver.archive.datasets_started": lambda c, s, x, g, f: archive.datasets_started(c, x, g),
    "archiver.archive.add_datablocks": (
        lambda c, s, x, g, f: archive.add_datablocks(c, s, x, g, facts=f)
    ),
    "archiver.archive.datasets_archived": (
        lambda c, s, x, g, f: archive.datasets_archived(c, x, g, f)
    ),
    "archiver.retrieve.datasets_started": lambda c, s, x, g, f: retrieve.datasets_started(c, x, g),
    "archiver.retrieve.retrieve": lambda c, s, x, g, f: retrieve.retrieve(c, s, x, g, facts=f),
    "archiver.reset.datasets_reset": lambda c, s, x, g, f: reset.datasets_reset(c, x, g),
    "archiver.job.finish": lambda c, s, x, g, f: job.finish(c, s, x, g, f, repeated=False),
}


def run_job(client: SciCatClient, storage: Storage, job_id: str) -> str:
    """Run job ``job_id``'s whole chain now; return the job's final status."""
    found = client.get_job(job_id)
    ctx = context_for(found, client.generation)
    log = job_log("archiver.inprocess", ctx.job_id)
    try:
        names = STEPS[ctx.type]
    except KeyError:
        raise ValueError(f"no plan for job type {ctx.type!r}") from None
    facts: Facts = None
    for name in names:
        try:
            handed = STEP_FUNCTIONS[name](client, storage, ctx, log, facts)
            facts = handed if isinstance(handed, dict) else None
        except job.ChainStop as exc:
            log.info("chain stopped: %s", exc)
            break
        except Exception as exc:
            step = name.rsplit(".", 1)[-1]
            job.fail(client, ctx, f"step {step} failed: {job.describe(exc)}", log, storage)
            break
    return client.get_job(job_id).status
