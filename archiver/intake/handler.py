"""The intake's decision for one job: start a chain, drop it, or quarantine the message.

Shared by the bridge process, the worker's bridge bootstep, the HTTP intake and the poller.
A chain is started at most once per job id in this process (a bounded memory of jobs taken); across
processes and restarts the chain's first step claims the job in SciCat, so a second chain
for the same job stops there without doing anything.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from celery import Celery
from kombu import Queue
from kombu.messaging import Producer

from archiver.errors import MessageError
from archiver.ids import escape, problem
from archiver.intake.messages import JobMessage, decide, parse_job_message
from archiver.plan import JobContext, context_for, plan_chain
from archiver.scicat.base import Job
from archiver.settings import Settings

logger = logging.getLogger("archiver.intake")

#: Header names added to a quarantined message.
REASON_HEADER = "x-archiver-reason"
SOURCE_HEADER = "x-archiver-source-queue"


def job_problem(job: Job) -> str | None:
    """Why ``job`` cannot be processed because of its id or a pid (escaped), or ``None``."""
    why = problem(job.id, pid=False)
    if why is not None:
        return f"the job id '{escape(job.id[:80])}' {why}"
    for index, ref in enumerate(job.datasets):
        why = problem(ref.pid, pid=True)
        if why is not None:
            return f"datasetList[{index}]: the pid '{escape(ref.pid[:80])}' {why}"
    return None


class JobsTaken:
    """A bounded, insertion-ordered memory of job ids already turned into chains."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._ids

    def add(self, job_id: str) -> None:
        self._ids[job_id] = None
        self._ids.move_to_end(job_id)
        while len(self._ids) > self.capacity:
            self._ids.popitem(last=False)

    def __len__(self) -> int:
        return len(self._ids)


class JobIntake:
    """Turns jobs into chains, exactly once per job id in this process.

    ``publish_options`` go to the chain's ``apply_async`` (the HTTP intake bounds the
    publish retries there, so that SciCat gets its answer within seconds). ``sender_api``
    is the generation every job comes from when the intake knows it (only backend-next
    >= 4.14 has the url action, whatever shape its body has).
    """

    def __init__(
        self,
        app: Celery,
        settings: Settings,
        publish_options: dict[str, Any] | None = None,
        sender_api: str | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self.publish_options = dict(publish_options or {})
        self.sender_api = sender_api
        self.taken = JobsTaken()
        self.started = 0

    def api_for(self, message: JobMessage) -> str:
        """The backend generation the chain should speak: as configured, else by shape
        (only backend-next >= 4.14 publishes v4 documents, only LoopBack v3 ones)."""
        if self.settings.scicat_api != "auto":
            return self.settings.scicat_api
        if self.sender_api is not None:
            return self.sender_api
        return "next" if message.shape == "v4" else "loopback"

    def offer(self, job: Job, api: str) -> bool:
        """Start a chain for ``job`` unless this process already did; True if started.

        Raises whatever publishing raises (broker down): the caller keeps the message.
        """
        if job.id in self.taken:
            logger.info(
                "[job %s] duplicate: a chain was already started here; dropped", escape(job.id)
            )
            return False
        start_chain(self.app, job, api, publish_options=self.publish_options)
        self.taken.add(job.id)
        self.started += 1
        return True

    def handle_body(self, body: bytes | str) -> tuple[str, str]:
        """Decide about one queue body. Returns (outcome, reason) where outcome is
        ``"started"``, ``"dropped"`` or ``"quarantine"``; raises if the chain could not be
        published."""
        try:
            message = parse_job_message(body)
        except MessageError as exc:
            return "quarantine", str(exc)
        decision = decide(message)
        if not decision.start:
            logger.info("[job %s] not new work: %s", escape(message.job.id), decision.reason)
            return "dropped", decision.reason
        if self.offer(message.job, self.api_for(message)):
            return "started", decision.reason
        return "dropped", "duplicate"


def start_chain(
    app: Celery,
    job: Job,
    api: str,
    takeover: str | None = None,
    publish_options: Mapping[str, Any] | None = None,
) -> JobContext:
    """Publish the chain of ``job`` (confirmed by the broker) and log it; the one way every
    intake (bridge, poller, HTTP intake, reconciler) starts work. ``takeover``: see
    :class:`JobContext`; ``publish_options``: extra ``apply_async`` options.

    Raises whatever publishing raises (broker down).
    """
    ctx = context_for(job, api, takeover)
    plan_chain(app, ctx).apply_async(**(publish_options or {}))
    logger.info(
        "[job %s] %s chain started for %d dataset(s) (api %s, run %s%s)",
        escape(job.id),
        escape(job.type),
        len(job.datasets),
        api,
        ctx.run,
        "" if takeover is None else f", taking over from run {takeover or 'unknown'}",
    )
    return ctx


def quarantine(channel: Any, settings: Settings, message: Any, reason: str) -> None:
    """Copy an unusable message to the quarantine queue with the reason in its headers."""
    queue = Queue(settings.quarantine_queue, durable=True)
    headers = dict(message.headers or {})
    # The reason may quote the body (a job id with a lone surrogate from a JSON "\ud800"):
    # a header that cannot be encoded would break the channel on every redelivery.
    headers[REASON_HEADER] = reason[:1000].encode("utf-8", "backslashreplace").decode("utf-8")
    headers[SOURCE_HEADER] = settings.job_queue
    body = message.body
    if isinstance(body, str):  # py-amqp hands an empty body over as "", not b""
        body = body.encode("utf-8")
    Producer(channel).publish(
        body,
        routing_key=settings.quarantine_queue,
        exchange="",
        declare=[queue],
        headers=headers,
        content_type=message.content_type or "application/octet-stream",
        content_encoding=message.content_encoding or "binary",
        delivery_mode=2,
        serializer=None,
    )
