"""The base class of every pipeline step: retries, logging with the job id, chain stop.

A step retries only on *transient* errors (SciCat unreachable, timeout, 429, 5xx; a busy
storage), with exponential backoff and full jitter, up to ``ARCHIVER_MAX_RETRIES`` times and
at most ``ARCHIVER_RETRY_BACKOFF_MAX`` seconds apart. Anything else fails the step at once;
the chain's errback then records the failure in SciCat. ``ChainStop`` ends the chain quietly
(the job is finished or another run owns it).
"""

from __future__ import annotations

import random
from typing import Any

from celery import Task
from celery.exceptions import Ignore

from archiver import runtime
from archiver.errors import TransientSciCatError, TransientStorageError
from archiver.plan import JobContext
from archiver.scicat import SciCatClient
from archiver.steps.job import ChainStop
from archiver.steps.marks import JobLog, job_log
from archiver.storage import Storage

TRANSIENT = (TransientSciCatError, TransientStorageError)


def backoff(retries: int, cap: float) -> float:
    """Seconds to wait before retry number ``retries + 1``: full jitter under 2**retries."""
    return random.uniform(0, min(cap, 2.0**retries))


class StepTask(Task):
    """A pipeline step: ``run(ctx)`` calls :meth:`step` with the client and context."""

    abstract = True
    typing = False
    #: Retries allowed for this task (``None``: the ``ARCHIVER_MAX_RETRIES`` setting).
    retries_allowed: int | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        ctx = JobContext.from_dict(args[0]) if args and isinstance(args[0], dict) else None
        log = job_log(self.name, ctx.job_id if ctx else "?")
        try:
            return super().__call__(*args, **kwargs)
        except ChainStop as exc:
            log.info("chain stopped: %s", exc)
            raise Ignore() from None
        except TRANSIENT as exc:
            settings = runtime.settings()
            allowed = (
                self.retries_allowed if self.retries_allowed is not None else (settings.max_retries)
            )
            if self.request.retries >= allowed:
                log.error("giving up after %d retries: %s", self.request.retries, exc)
                raise
            delay = backoff(self.request.retries, settings.retry_backoff_max)
            log.warning(
                "transient error, retry %d/%d in %.1fs: %s",
                self.request.retries + 1,
                allowed,
                delay,
                exc,
            )
            raise self.retry(
                exc=exc, countdown=delay, max_retries=allowed, argsrepr=self.request.argsrepr
            ) from None

    # helpers for the task bodies --------------------------------------------------------
    @staticmethod
    def context(payload: dict[str, Any]) -> JobContext:
        return JobContext.from_dict(payload)

    @staticmethod
    def client(ctx: JobContext) -> SciCatClient:
        return runtime.client(ctx.api)

    @staticmethod
    def storage() -> Storage:
        return runtime.storage()

    def log(self, ctx: JobContext) -> JobLog:
        return job_log(self.name, ctx.job_id)
