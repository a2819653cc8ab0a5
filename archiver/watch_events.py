"""What ``archiver job watch`` learns from the broker: retries of the job's steps.

SciCat never hears of a step that Celery retries after a transient error (the job stays
``inProgress`` with the same message). The workers send Celery's monitoring events
(``worker_send_task_events``), the same ones Flower shows. :class:`StepRetries` listens to
them on a queue of its own (auto-deleted when it disconnects): it recognises the job's steps
by their ``args`` label (``archive job <id>; ...``, see :mod:`archiver.flower_names`) and
keeps a line for every ``task-retried`` of one of them. A retry of a step whose first
events came before the listener started is recognised when the step is sent again (a retry
keeps the task id and the args).
"""

from __future__ import annotations

import threading
from typing import Any

import kombu

from archiver.flower_names import step_label


class StepRetries:
    """Collects retries of ``job_id``'s steps from the broker's task events, in a thread."""

    def __init__(self, broker_url: str, job_id: str) -> None:
        self.marker = f" job {job_id};"
        self.steps: dict[str, str] = {}  # task uuid -> step name
        self.retries: list[str] = []
        self.unknown: dict[str, str] = {}  # task uuid -> retry reason, step not yet known
        self.ready = threading.Event()
        self._lock = threading.Lock()
        self.connection = kombu.Connection(broker_url, connect_timeout=5)
        self.receiver: Any = None
        self.thread = threading.Thread(target=self._run, daemon=True, name="step-retries")
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            self.receiver.capture(wakeup=False)
        except Exception as exc:  # noqa: BLE001 - reported by start() / the watcher
            self.error = exc
            self.ready.set()

    def start(self, timeout: float = 10.0) -> None:
        """Connect and start listening; raises what made the connection fail."""
        from archiver import app

        self.connection.ensure_connection(max_retries=1, timeout=timeout)
        handlers = {
            "task-sent": self._task,
            "task-received": self._task,
            "task-retried": self._retried,
        }
        self.receiver = app.events.Receiver(self.connection, handlers=handlers)
        self.receiver.on_consume_ready = lambda *a, **kw: self.ready.set()
        self.thread.start()
        if not self.ready.wait(timeout):
            raise TimeoutError(f"no event queue after {timeout:g} s")
        if self.error is not None:
            raise self.error

    def _task(self, event: dict[str, Any]) -> None:
        uuid = str(event.get("uuid") or "")
        if uuid and self.marker in f" {event.get('args') or ''}":
            with self._lock:
                step = self.steps[uuid] = step_label(str(event.get("name") or "step"))
                if uuid in self.unknown:
                    self.retries.append(f"step {step} retried after {self.unknown.pop(uuid)}")

    def _retried(self, event: dict[str, Any]) -> None:
        uuid = str(event.get("uuid") or "")
        reason = str(event.get("exception") or "a transient error")
        with self._lock:
            step = self.steps.get(uuid)
            if step is not None:
                self.retries.append(f"step {step} retried after {reason}")
            elif len(self.unknown) < 10_000:  # other jobs' steps are never looked up
                self.unknown[uuid] = reason

    def take(self) -> list[str]:
        """The retries seen since the last call."""
        with self._lock:
            found, self.retries = self.retries, []
        return found

    def close(self) -> None:
        if self.receiver is not None:
            self.receiver.should_stop = True
        if self.thread.is_alive():
            self.thread.join(5)
        self.connection.release()
