"""Which jobs have a live chain right now: the tasks the workers hold (Celery inspect).

Every step's task id is ``<job id>:<step>:<run>`` (:func:`archiver.plan.task_id`), so the
tasks a worker is running (``active``), has taken from the queue (``reserved``) or keeps for
a later retry (``scheduled``: a step waiting out a SciCat outage or a refused login) name
their job. A step message still waiting in the queue, behind others no worker took yet, is
not seen: the reconciler's time limits cover that. Only workers that consume our task
queue count; if one of them does not answer, no answer is given at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from celery import Celery

logger = logging.getLogger("archiver.reconcile")

#: Seconds to wait for the workers' answers to one inspect broadcast.
INSPECT_TIMEOUT = 2.0


def job_of_task(task_id: object) -> str | None:
    """The job id in a step's task id ``<job id>:<step>:<run>``, else ``None``."""
    if not isinstance(task_id, str):
        return None
    parts = task_id.rsplit(":", 2)
    return parts[0] if len(parts) == 3 and parts[0] else None


def _job_ids(replies: Mapping[str, Any]) -> Iterable[str]:
    for tasks in replies.values():
        for entry in tasks if isinstance(tasks, list) else ():
            if not isinstance(entry, Mapping):
                continue
            request = entry.get("request", entry)  # scheduled entries wrap the request
            job_id = job_of_task(request.get("id") if isinstance(request, Mapping) else None)
            if job_id:
                yield job_id


def our_workers(app: Celery, queue: str, timeout: float = INSPECT_TIMEOUT) -> list[str]:
    """Names of the workers that consume ``queue`` (other Celery apps on the same vhost
    answer broadcasts too)."""
    replies = app.control.inspect(timeout=timeout).active_queues() or {}
    return sorted(
        name
        for name, queues in replies.items()
        if any(isinstance(q, Mapping) and q.get("name") == queue for q in queues or ())
    )


def live_job_ids(app: Celery, queue: str, timeout: float = INSPECT_TIMEOUT) -> set[str] | None:
    """Ids of the jobs one of our workers holds a task of; ``None`` when none of the workers
    consuming the task queue answered (then nothing can be said about any chain). Raises if
    the broker cannot be reached."""
    workers = our_workers(app, queue, timeout)
    if not workers:
        logger.warning("no worker of queue %s answered within %.0fs", queue, timeout)
        return None
    # Addressed to those workers and limited to their number: returns once all answered.
    inspect = app.control.inspect(destination=workers, timeout=timeout, limit=len(workers))
    ids: set[str] = set()
    for ask in (inspect.active, inspect.reserved, inspect.scheduled):
        replies = ask() or {}
        if set(replies) != set(workers):
            missing = sorted(set(workers) - set(replies))
            logger.warning("worker(s) %s did not answer; no chain judged lost", missing)
            return None
        ids.update(_job_ids(replies))
    return ids
