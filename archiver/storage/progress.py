"""Showing how far a long storage step is: in SciCat (job ``statusMessage``) and in Flower.

:class:`JobProgress` is the reporter a Celery task installs with
:func:`archiver.storage.work.step_run`. Each report becomes, at most every ``interval``
seconds (and always when a dataset completes):

* the job's ``statusMessage``, e.g. ``"Archiving PID/x: 1.2 of 2.0 GB (60%)"``, written with
  the job's current status (``inProgress``), so ``archiver job watch`` prints it. Only
  backends with a ``statusMessage`` (backend-next >= 4.14) get it; v3 jobs have none.
* ``emit(meta)``: the task sends a ``task-progress`` event, which Flower 2.2 shows as the
  task's state ``PROGRESS`` and its "Result" text (the last event's fields), and stores the
  state for a result backend if one is configured. ``meta`` has the keys ``dataset``,
  ``done``, ``total`` and ``result``: never ``pid``, ``hostname``, ``clock`` or another
  field Celery puts on every event itself (``send_event`` refuses a second value).

A SciCat update that fails, or an event the broker does not take, is logged and ignored:
progress never fails a step. Any other exception is a bug and reaches the step.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from kombu.exceptions import OperationalError

from archiver.errors import SciCatError
from archiver.ids import escape
from archiver.scicat.base import IN_PROGRESS, SciCatClient

logger = logging.getLogger(__name__)

#: Seconds between two progress updates of one step run.
INTERVAL = 10.0


def human(size: int) -> str:
    """Bytes as a short decimal figure: ``"1.2 GB"``, ``"340.0 MB"``, ``"12 B"``."""
    if size < 1000:
        return f"{size} B"
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 999.95 or unit == "TB":
            break
    return f"{value:.1f} {unit}"


def progress_text(verb: str, pid: str, done: int, total: int) -> str:
    percent = 100 if total <= 0 else min(100, int(done * 100 / total))
    return f"{verb} {pid}: {human(done)} of {human(total)} ({percent}%)"


class JobProgress:
    """A throttled reporter: ``reporter(verb, pid, done, total)``."""

    def __init__(
        self,
        client: SciCatClient,
        job_id: str,
        emit: Callable[[dict[str, Any]], None],
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client, self.job_id, self.emit = client, job_id, emit
        self.interval, self.clock = interval, clock
        self.last = -math.inf
        self.messages: list[str] = []

    def __call__(self, verb: str, pid: str, done: int, total: int) -> None:
        now = self.clock()
        if done < total and now - self.last < self.interval:
            return
        self.last = now
        text = progress_text(verb, pid, done, total)
        self.messages.append(text)
        try:
            self.emit({"dataset": pid, "done": done, "total": total, "result": text})
        except (OperationalError, OSError) as exc:
            logger.warning("[job %s] progress event not sent: %s", escape(self.job_id), exc)
        if self.client.generation != "next":
            return
        try:
            self.client.update_job(self.job_id, IN_PROGRESS, text)
        except SciCatError as exc:
            logger.warning("[job %s] progress not written: %s", escape(self.job_id), exc)
