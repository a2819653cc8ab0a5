"""The reconciler: finds our jobs that nothing is working on, and starts or fails them.

Two kinds of job are stuck without it:

* ``jobSubmitted`` for longer than ``ARCHIVER_RECONCILE_SUBMITTED_GRACE`` (since
  ``createdAt``): the message was lost between SciCat and us (SciCat publishes without
  publisher confirms), or its chain was acknowledged and then lost before the claim.
* ``inProgress`` with no live chain: no update of the job (``updatedAt``) for
  ``ARCHIVER_RECONCILE_STALE_AFTER`` seconds *and* no task of the job on any worker
  (:mod:`archiver.intake.live`: running, taken, or waiting for a retry). Steps write the
  job when they claim it and finish it, long storage steps write their progress, and a
  step waiting out an outage is held by its worker, so a quiet job with no task anywhere
  has lost its chain (a worker crash, a publish dropped in a long broker outage).

Both are started through the intake's own :func:`~archiver.intake.handler.start_chain`.
A submitted job gets an ordinary chain: its claim decides, exactly as for a duplicate
message, so a chain that turns out to be alive costs one extra chain that stops at its
claim. An in-progress job gets a chain that *takes over* the lost run named in its claim
(``JobContext.takeover``): its claim succeeds only while that run still owns the job,
counts the takeover in ``jobResultObject.archiver.resumes``, and every step after it goes on
from what the datasets' marks say (steps are idempotent). A job taken over
``ARCHIVER_RECONCILE_MAX_RESUMES`` times is failed instead, through ``archiver.job.fail``
(no dataset left ``started``, a readable ``statusMessage``).

Load on SciCat is bounded: per round at most ``ARCHIVER_RECONCILE_LIMIT`` jobs of each
status are read, in pages of :data:`PAGE`; a round that stops at the limit resumes there in
the next round. A job this reconciler started a chain for is not started again within the
same time limit. While no worker answers, lost chains are not judged (nothing could tell a
live chain from a lost one, and nothing would run the new one).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from celery import Celery

from archiver.intake.handler import start_chain
from archiver.intake.live import live_job_ids
from archiver.intake.messages import HANDLED_TYPES
from archiver.plan import FAIL_TASK, context_for, task_id
from archiver.scicat.base import IN_PROGRESS, SUBMITTED, Job, SciCatClient
from archiver.settings import Settings
from archiver.steps.job import owner_run, resumes

logger = logging.getLogger("archiver.reconcile")

#: Jobs read per SciCat request.
PAGE = 50


@dataclass(frozen=True)
class Action:
    """What the reconciler did (or, in a dry run, would do) about one stuck job."""

    job_id: str
    type: str
    status: str
    age: float
    action: str  # "start", "resume", "fail" or "skip"
    reason: str


def _age(stamp: str, now: float) -> float | None:
    try:
        return now - datetime.fromisoformat(stamp).timestamp()
    except (TypeError, ValueError):
        return None


class Reconciler:
    """``Reconciler(app, settings, client).round()`` once, or :meth:`run` until stopped."""

    def __init__(
        self,
        app: Celery,
        settings: Settings,
        client: Callable[[], SciCatClient],
        live: Callable[[Celery], set[str] | None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.settings = settings
        self.client = client
        self.live = live or (lambda app: live_job_ids(app, settings.task_queue))
        self.clock = clock
        self.started: dict[str, float] = {}  # job id -> when this reconciler started it
        self.cursor = {SUBMITTED: 0, IN_PROGRESS: 0}
        self._stop = threading.Event()

    # -- one round -------------------------------------------------------------------------
    def round(self, dry_run: bool = False) -> list[Action]:
        """Look once at both statuses; act unless ``dry_run``; return what was (to be) done."""
        client = self.client()
        live = self.live(self.app)
        actions: list[Action] = []
        for status, limit in (
            (SUBMITTED, self.settings.reconcile_submitted_grace),
            (IN_PROGRESS, self.settings.reconcile_stale_after),
        ):
            for job, age in self._stuck(client, status, limit):
                action = self._judge(job, age, live, limit)
                if not dry_run and action.action != "skip":
                    self._act(job, action, client.generation)
                actions.append(action)
        for action in [] if dry_run else actions:  # started jobs leave the listing
            if action.action != "skip":
                self.cursor[action.status] = max(self.cursor[action.status] - 1, 0)
        return actions

    def _stuck(
        self, client: SciCatClient, status: str, limit: float
    ) -> Iterator[tuple[Job, float]]:
        """This round's jobs of ``status`` older than ``limit`` seconds, with their age."""
        now, read, skip = self.clock(), 0, self.cursor[status]
        while read < self.settings.reconcile_limit:
            size = min(PAGE, self.settings.reconcile_limit - read)
            page = client.list_jobs(status, types=sorted(HANDLED_TYPES), limit=size, skip=skip)
            read, skip = read + len(page), skip + len(page)
            for job in page:
                stamp = job.created if status == SUBMITTED else job.updated
                age = _age(stamp, now)
                if job.status != status or job.type not in HANDLED_TYPES:
                    continue
                if age is None:
                    logger.warning("[job %s] no usable timestamp (%r); not judged", job.id, stamp)
                elif age >= limit:
                    yield job, age
                elif status == SUBMITTED:  # oldest first: every later one is younger still
                    self.cursor[status] = 0
                    return
            if len(page) < size:
                self.cursor[status] = 0  # the end: the next round starts from the oldest
                return
        self.cursor[status] = skip  # the limit: the next round goes on from here

    def _judge(self, job: Job, age: float, live: set[str] | None, limit: float) -> Action:
        def act(action: str, reason: str) -> Action:
            return Action(job.id, job.type, job.status, age, action, reason)

        started = self.started.get(job.id)
        if started is not None and self.clock() - started < limit:
            return act("skip", f"this reconciler started a chain {self.clock() - started:.0f}s ago")
        if live is not None and job.id in live:
            return act("skip", "a task of this job is on a worker")
        if job.status == SUBMITTED:
            return act("start", f"submitted {age:.0f}s ago and never started (message lost)")
        if live is None:
            return act("skip", "no worker answered: cannot tell whether its chain lives")
        done = resumes(job.result)
        quiet = f"no update for {age:.0f}s and no task on any worker"
        if done >= self.settings.reconcile_max_resumes:
            return act("fail", f"{quiet}, after {done} resumption(s) by the reconciler")
        return act("resume", f"{quiet} (chain lost); run {owner_run(job.result) or 'unknown'}")

    def _act(self, job: Job, action: Action, api: str) -> None:
        if action.action == "start":
            start_chain(self.app, job, api)
        elif action.action == "resume":
            start_chain(self.app, job, api, takeover=owner_run(job.result) or "")
        else:
            ctx = context_for(job, api)
            reason = f"reconciler: {action.reason}"
            self.app.signature(
                FAIL_TASK, args=(ctx.to_dict(), reason), task_id=task_id(ctx, FAIL_TASK)
            ).apply_async()
        self.started[job.id] = self.clock()
        logger.warning("[job %s] reconciler: %s: %s", job.id, action.action, action.reason)

    # -- periodically ------------------------------------------------------------------------
    def run(self) -> None:
        """A round every ``ARCHIVER_RECONCILE_INTERVAL`` seconds (±20 %, so several
        reconcilers drift apart) until :meth:`stop`; failures are logged, never fatal."""
        while self.wait():
            try:
                self.round()
            except Exception as exc:  # noqa: BLE001 - SciCat or broker down: next round
                logger.warning("reconciler round failed, trying again next round: %s", exc)

    def wait(self) -> bool:
        """Wait one interval (±20 %); False once :meth:`stop` was called."""
        self._forget_old()
        interval = self.settings.reconcile_interval
        return not self._stop.wait(interval * random.uniform(0.8, 1.2))

    def stop(self) -> None:
        self._stop.set()

    def _forget_old(self) -> None:
        horizon = self.clock() - max(
            self.settings.reconcile_submitted_grace, self.settings.reconcile_stale_after
        )
        self.started = {j: t for j, t in self.started.items() if t >= horizon}


def background(app: Celery, settings: Settings) -> Reconciler | None:
    """A reconciler for a long-running intake (bridge, poller), or ``None`` when
    ``ARCHIVER_RECONCILE_INTERVAL`` is 0 or no SciCat URL is configured."""
    if settings.reconcile_interval <= 0 or not settings.scicat_url:
        return None
    from archiver.scicat import connect

    clients: list[SciCatClient] = []

    def client() -> SciCatClient:
        if not clients:
            clients.append(connect(settings))
        return clients[0]

    return Reconciler(app, settings, client)


def start_thread(reconciler: Reconciler | None) -> threading.Thread | None:
    """Run ``reconciler`` in a daemon thread (stop it with :meth:`Reconciler.stop`)."""
    if reconciler is None:
        return None
    thread = threading.Thread(target=reconciler.run, daemon=True, name="reconciler")
    thread.start()
    return thread
