"""Polling intake for backends that publish nothing (backend-next 4.0–4.13) or for sites
that prefer polling: every N seconds, list jobs in the submitted state and start chains.

Uses the same :class:`~archiver.intake.handler.JobIntake` as the bridge, so a job is taken
once per process; the chain's claim step protects against a second poller. :meth:`Poller.run`
also runs the reconciler's round (:mod:`archiver.intake.reconcile`) every
``ARCHIVER_RECONCILE_INTERVAL`` seconds, for chains lost after they were started.
"""

from __future__ import annotations

import logging
import threading
import time

from celery import Celery

from archiver.errors import JobApiRefused, SciCatError
from archiver.ids import escape
from archiver.intake.handler import JobIntake, job_problem
from archiver.intake.messages import HANDLED_TYPES
from archiver.intake.reconcile import Reconciler
from archiver.scicat.base import FINISHED_FAILED, SUBMITTED, Job, SciCatClient
from archiver.settings import Settings

logger = logging.getLogger("archiver.poller")


class Poller:
    """``Poller(app, settings, client).run()`` until :meth:`stop`."""

    def __init__(self, app: Celery, settings: Settings, client: SciCatClient) -> None:
        self.client = client
        self.settings = settings
        self.intake = JobIntake(app, settings)
        self._stop = threading.Event()
        self.reconciler = (
            Reconciler(app, settings, lambda: client) if settings.reconcile_interval > 0 else None
        )
        self._next_reconcile = time.monotonic() + settings.reconcile_interval

    def poll_once(self) -> int:
        """List submitted jobs once and start chains for new ones; return how many."""
        jobs = self.client.list_jobs(SUBMITTED, types=sorted(HANDLED_TYPES))
        started = 0
        for job in jobs:
            if job.type not in HANDLED_TYPES or job.status != SUBMITTED:
                continue
            reason = job_problem(job)
            if reason is not None:
                self._refuse(job, reason)
                continue
            started += self.intake.offer(job, self.client.generation)
        return started

    def _refuse(self, job: Job, reason: str) -> None:
        """Fail a job whose id or a pid cannot be used: it would be listed every round."""
        logger.warning("[job %s] cannot be processed: %s", escape(job.id), reason)
        message = f"failed: {reason}"[:500]
        errors = [{"pid": "", "code": "invalidId", "kind": "user", "message": reason}]
        try:
            self.client.update_job(job.id, FINISHED_FAILED, message, result={"errors": errors})
        except SciCatError as exc:  # the other jobs of the round go on; next round tries again
            logger.error("[job %s] could not be failed in SciCat: %s", escape(job.id), exc)

    def run(self) -> None:
        """Poll until :meth:`stop`; a backend that refuses its job API ends it with
        :class:`~archiver.errors.JobApiRefused`."""
        logger.info(
            "polling %s every %.1fs for submitted jobs (api %s)",
            self.settings.scicat_url,
            self.settings.poll_interval,
            self.client.generation,
        )
        while not self._stop.is_set():
            try:
                started = self.poll_once()
                if started:
                    logger.info("%d new job(s) taken", started)
            except JobApiRefused as exc:
                # No later round can succeed: stop with the cause instead of logging it forever.
                logger.error("polling stopped: %s", exc)
                raise
            except SciCatError as exc:
                logger.warning("poll failed, trying again next round: %s", exc)
            except Exception as exc:  # noqa: BLE001 - broker refused the chain: next round
                logger.error("could not start a chain, trying again next round: %s", exc)
            self._reconcile_when_due()
            self._stop.wait(self.settings.poll_interval)

    def _reconcile_when_due(self) -> None:
        if self.reconciler is None or time.monotonic() < self._next_reconcile:
            return
        self._next_reconcile = time.monotonic() + self.settings.reconcile_interval
        try:
            self.reconciler.round()
        except Exception as exc:  # noqa: BLE001 - SciCat or broker down: next round
            logger.warning("reconciler round failed, trying again next round: %s", exc)

    def stop(self) -> None:
        self._stop.set()
