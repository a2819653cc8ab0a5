"""The base class of every pipeline step: retries, logging with the job id, chain stop.

A step retries only on *transient* errors (SciCat unreachable, timeout, 429, 5xx, an answer
that is not JSON; a busy storage; a login SciCat refuses, while the operator fixes the
secret). The budget is time, not a count (:mod:`archiver.retry`): ``ARCHIVER_RETRY_WINDOW``
seconds since the step's first transient failure (``ARCHIVER_FAIL_RETRY_WINDOW`` for the
failure path), capped exponential backoff with equal jitter, at most
``ARCHIVER_RETRY_BACKOFF_MAX`` seconds apart. The moment of the first failure travels with
the retried task in a message header. Anything else fails the step at once; the chain's
errback then records the failure in SciCat. ``ChainStop`` ends the chain quietly (the job is
finished or another run owns it).
"""

from __future__ import annotations

import contextvars
import time
from typing import Any

from celery import Task
from celery.exceptions import Ignore

from archiver import runtime
from archiver.errors import AuthError, ChainStop, TransientSciCatError, TransientStorageError
from archiver.plan import FAIL_TASK, JobContext
from archiver.retry import backoff, decide, is_login_refused
from archiver.scicat import SciCatClient
from archiver.settings import Settings
from archiver.steps.marks import JobLog, job_log
from archiver.storage import Storage

TRANSIENT = (TransientSciCatError, TransientStorageError)
#: The request of the delivery being run (chain, retries, delivery info). ``Task.__call__``
#: pushes a bare request (args only) for the body, so the body reads this one instead.
_DELIVERY: contextvars.ContextVar[Any] = contextvars.ContextVar("archiver_delivery")
#: Message header carrying the epoch time of a step's first transient failure.
SINCE_HEADER = "archiver_retry_since"

__all__ = ["SINCE_HEADER", "TRANSIENT", "StepTask", "backoff"]


class StepTask(Task):
    """A pipeline step: ``run(ctx)`` calls :meth:`step` with the client and context."""

    abstract = True
    typing = False
    #: Celery's own count limit is off (its ``retry(max_retries=None)`` means "the task's
    #: default of 3"); :mod:`archiver.retry` decides.
    max_retries = None
    #: Count cap on top of the time budget (``None``: ``ARCHIVER_MAX_RETRIES``, if set).
    #: Ignored by the failure path, which only the time budget bounds.
    retries_allowed: int | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        ctx = JobContext.from_dict(args[0]) if args and isinstance(args[0], dict) else None
        log = job_log(self.name, ctx.job_id if ctx else "?")
        token = _DELIVERY.set(self.request)
        try:
            return super().__call__(*args, **kwargs)
        except ChainStop as exc:
            log.info("chain stopped: %s", exc)
            raise Ignore() from None
        except TRANSIENT as exc:
            raise self._retry_or_give_up(exc, log) from None
        except AuthError as exc:
            if not is_login_refused(exc):
                raise
            log.error(
                "SciCat refused the archiver's login: check ARCHIVER_SCICAT_USER and "
                "ARCHIVER_SCICAT_PASSWORD (a restart reads them again); retrying: %s",
                exc,
            )
            raise self._retry_or_give_up(exc, log) from None
        finally:
            _DELIVERY.reset(token)

    def window(self, settings: Settings) -> float:
        """Seconds this task retries transient errors for."""
        return settings.fail_retry_window if self.name == FAIL_TASK else settings.retry_window

    def _first_failure(self) -> float | None:
        headers = self.request.headers or {}
        value = headers.get(SINCE_HEADER, getattr(self.request, SINCE_HEADER, None))
        return float(value) if isinstance(value, int | float) else None

    def _retry_or_give_up(self, exc: Exception, log: JobLog) -> BaseException:
        """The retry to raise, or ``exc`` itself once the time budget is spent."""
        settings = runtime.settings()
        now = time.time()
        since = self._first_failure() or now
        count_cap = (
            self.retries_allowed if self.retries_allowed is not None else settings.max_retries
        )
        if self.name == FAIL_TASK or is_login_refused(exc):
            count_cap = None  # the failure path and a refused login: time alone bounds them
        verdict = decide(
            retries=self.request.retries,
            elapsed=now - since,
            window=self.window(settings),
            cap=settings.retry_backoff_max,
            max_retries=count_cap,
        )
        if verdict.delay is None:
            log.error(
                "giving up after %d retries, %s: %s", self.request.retries, verdict.reason, exc
            )
            return exc
        log.warning(
            "transient error, retry %d in %.1fs (%s): %s",
            self.request.retries + 1,
            verdict.delay,
            verdict.reason,
            exc,
        )
        headers = {**(self.request.headers or {}), SINCE_HEADER: since}
        try:
            self.retry(
                exc=exc,
                countdown=verdict.delay,
                argsrepr=getattr(self.request, "argsrepr", None),  # absent in eager apply()
                headers=headers,
            )
        except BaseException as retry:  # Celery's Retry, or the publish failing
            return retry
        raise AssertionError("Task.retry returned")  # pragma: no cover - it always raises

    # helpers for the task bodies --------------------------------------------------------
    @property
    def repeated(self) -> bool:
        """True when this run repeats the step: a retry, or a redelivery after a crash."""
        request = _DELIVERY.get(self.request)
        delivery = request.delivery_info or {}
        return bool(request.retries) or bool(delivery.get("redelivered"))

    def hand_on(self, facts: dict[str, Any]) -> None:
        """Give ``facts`` to the next step of the chain (its ``facts`` keyword): the
        message of the next step carries them, so a redelivery of it gets the same."""
        chain = _DELIVERY.get(self.request).chain
        if chain:
            chain[-1].setdefault("kwargs", {})["facts"] = facts
            work = facts.get("work") or ()
            done = facts.get("outcomes") or {}
            label = f"facts: {len(work)} to do, {len(done)} settled"
            chain[-1].setdefault("options", {})["kwargsrepr"] = label  # Flower, logs

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
