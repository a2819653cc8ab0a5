"""Following a job: a generator of readable change events until the job finishes.

``watch_job(client, job_id, interval)`` polls SciCat and yields an :class:`Event` for every
change of the job's status or message and of each dataset's lifecycle fields in
:data:`DATASET_FIELDS` (the first poll reports the starting values). It ends after the poll
that sees the job finished; :class:`WatchTimeout` is raised when ``timeout`` passes first.
A transient SciCat error is reported as an event and the next poll tries again.

Two more kinds of event show a job that seems stuck: ``retry`` (a step retried by Celery,
which SciCat never hears of; from ``retries``, e.g. :class:`archiver.watch_events.StepRetries`)
and ``quiet`` (nothing changed for ``quiet_after`` seconds: the status and how long it has
stood, repeated every ``quiet_after`` seconds).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from archiver.errors import NotFoundError, TransientSciCatError, WatchTimeout
from archiver.scicat.base import SciCatClient

#: Lifecycle fields reported per dataset.
DATASET_FIELDS = ("archiveStatusMessage", "retrieveStatusMessage", "archivable", "retrievable")


@dataclass(frozen=True)
class Event:
    """One observed change. ``kind`` is ``"job"``, ``"dataset"``, ``"warning"``,
    ``"retry"`` or ``"quiet"``."""

    kind: str
    subject: str
    field: str
    old: Any
    new: Any
    at: datetime

    def __str__(self) -> str:
        stamp = self.at.astimezone().strftime("%H:%M:%S")
        if self.kind == "warning":
            return f"{stamp} warning: {self.new}"
        if self.kind in ("retry", "quiet"):
            return f"{stamp} job {self.subject}: {self.new}"
        if self.old is None:
            return f"{stamp} {self.kind} {self.subject}: {self.field} = {self.new!r}"
        return f"{stamp} {self.kind} {self.subject}: {self.field} {self.old!r} -> {self.new!r}"


def _changes(
    kind: str, subject: str, before: dict[str, Any], after: dict[str, Any], now: datetime
) -> Iterator[Event]:
    for name, value in after.items():
        if name not in before or before[name] != value:
            yield Event(kind, subject, name, before.get(name), value, now)


def _dataset_state(client: SciCatClient, pid: str) -> dict[str, Any]:
    try:
        dataset = client.get_dataset(pid)
    except NotFoundError:
        return {"exists": False}
    life = dataset.get("datasetlifecycle") or {}
    return {name: life.get(name) for name in DATASET_FIELDS}


def since(seconds: float) -> str:
    """``"45s"``, ``"3m05s"``, ``"2h04m"``."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def watch_job(
    client: SciCatClient,
    job_id: str,
    interval: float = 2.0,
    timeout: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    retries: Callable[[], list[str]] | None = None,
    quiet_after: float | None = None,
) -> Iterator[Event]:
    """Yield change events of job ``job_id`` and its datasets until the job is finished.

    The last ``status`` event carries the final status (see :func:`final_status`). The job
    message is reported only where it says more than the status (v3 jobs repeat it).
    """
    deadline = None if timeout is None else clock() + timeout
    seen_job: dict[str, Any] = {}
    seen: dict[str, dict[str, Any]] = {}
    changed = told = clock()
    while True:
        now = datetime.now(UTC)
        try:
            job = client.get_job(job_id)
            state: dict[str, Any] = {"status": job.status}
            if job.message and job.message != job.status:
                state["message"] = job.message
            events = list(_changes("job", job_id, seen_job, state, now))
            seen_job = state
            for pid in job.pids:
                after = _dataset_state(client, pid)
                events += _changes("dataset", pid, seen.get(pid, {}), after, now)
                seen[pid] = after
            events += [Event("retry", job_id, "", None, text, now) for text in _take(retries)]
            if events:
                changed = told = clock()
            elif quiet_after is not None and clock() - told >= quiet_after:
                told = clock()
                text = f"no change for {since(told - changed)}; status {job.status!r}"
                if "message" in state:
                    text += f", message {state['message']!r}"
                events.append(Event("quiet", job_id, "", None, text, now))
            yield from events
            if job.finished:
                return
        except TransientSciCatError as exc:
            yield Event("warning", job_id, "", None, f"SciCat did not answer ({exc})", now)
        if deadline is not None and clock() >= deadline:
            raise WatchTimeout(f"job {job_id} did not finish within {timeout:g} s")
        sleep(interval)


def _take(retries: Callable[[], list[str]] | None) -> list[str]:
    return [] if retries is None else retries()


def final_status(events: list[Event]) -> str | None:
    """The last job status among ``events`` (``None`` if there is none)."""
    for event in reversed(events):
        if event.kind == "job" and event.field == "status":
            return str(event.new)
    return None
