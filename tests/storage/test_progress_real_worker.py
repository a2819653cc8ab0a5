"""Progress from a real prefork worker reaches SciCat and Flower.

A ``celery -A archiver worker`` process archives and retrieves a dataset with filesystem
storage. Every HTTP request the emulator serves is watched, so the progress PATCHes of the
job (``statusMessage`` "Archiving ...", "Retrieving ...") are counted as SciCat received
them; an event receiver on the broker (what Flower runs) counts the ``task-progress`` events.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from kombu.exceptions import OperationalError
from support.helpers import kill_group, worker_process
from support.pipeline import wait_until

from archiver import app
from archiver.scicat import DatasetRef, connect
from archiver.storage import work
from archiver.storage.progress import JobProgress

from .conftest import make_dataset


class ProgressEvents:
    """A Celery event receiver (as Flower runs one) in a thread, keeping every
    ``task-progress`` event."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.ready = threading.Event()
        self.connection = app.connection_for_read()
        self.receiver = app.events.Receiver(
            self.connection, handlers={"task-progress": self.events.append}
        )
        self.receiver.on_consume_ready = lambda *a, **kw: self.ready.set()
        self.thread = threading.Thread(target=self.receiver.capture, daemon=True)

    def close(self) -> None:
        self.receiver.should_stop = True
        self.thread.join(10)
        self.connection.release()


def job_patches(emulator: Any) -> list[dict[str, Any]]:
    """Record the body of every PATCH of a job the emulator answers."""
    seen: list[dict[str, Any]] = []
    real = emulator._app.handle

    def handle(method: str, target: str, headers: dict[str, str], body: bytes) -> Any:
        if method == "PATCH" and "/jobs/" in target and body:
            seen.append(json.loads(body))
        return real(method, target, headers, body)

    emulator._app.handle = handle
    return seen


def test_a_real_worker_reports_progress_to_scicat_and_as_events(
    pipeline_factory, roots: dict[str, Path], tmp_path: Path
) -> None:
    pipe = pipeline_factory(worker=False)
    progress_events = ProgressEvents()
    progress_events.thread.start()
    patches = job_patches(pipe.emulator)
    paths = make_dataset(roots["data"] / "ds")
    pid = pipe.emulator.add_dataset(datasetName="ds", sourceFolder="/scicat/data/ds")
    files = [{"path": p, "size": 1, "time": "2024-01-01T00:00:00Z"} for p in paths]
    pipe.emulator.add_origdatablock(pid, files=files)
    assert progress_events.ready.wait(30), "the event receiver did not start"
    worker = worker_process(
        pipe,
        tmp_path / "worker.log",
        ARCHIVER_STORAGE="filesystem",
        ARCHIVER_ARCHIVE_ROOT=str(roots["archive"]),
        ARCHIVER_RETRIEVE_ROOT=str(roots["retrieve"]),
        ARCHIVER_SOURCE_PATH_MAP=f"/scicat/data={roots['data']}",
        ARCHIVER_TAR_MAX_BYTES="200000",
    )
    try:
        with connect(pipe.settings) as client:
            archive = client.create_job("archive", [DatasetRef(pid)]).id
            job = pipe.wait_finished(archive, 90)
            assert job["statusCode"] == "finishedSuccessful", job
            retrieve = client.create_job("retrieve", [DatasetRef(pid)]).id
            job = pipe.wait_finished(retrieve, 90)
            assert job["statusCode"] == "finishedSuccessful", job
        wait_until(
            lambda: any(e["result"].startswith("Retrieving") for e in progress_events.events),
            30,
            "the retrieve progress events",
        )
    finally:
        kill_group(worker)
        progress_events.close()
    messages = [p.get("statusMessage", "") for p in patches]
    archiving = [m for m in messages if m.startswith(f"Archiving {pid}:")]
    retrieving = [m for m in messages if m.startswith(f"Retrieving {pid}:")]
    assert archiving and archiving[-1].endswith("(100%)"), messages
    assert retrieving and retrieving[-1].endswith("(100%)"), messages
    shown = [e for e in progress_events.events if e.get("dataset") == pid]
    assert {e["result"] for e in shown} >= {archiving[-1], retrieving[-1]}
    assert all(e["total"] > 0 and e["uuid"] for e in shown)
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert "Traceback" not in log, log


class NextClient:
    generation = "next"

    def __init__(self) -> None:
        self.updates: list[str] = []

    def update_job(self, job_id: str, status: str, message: str) -> None:
        self.updates.append(message)


def test_a_bug_in_the_reporter_reaches_the_step() -> None:
    def broken(verb: str, pid: str, done: int, total: int) -> None:
        raise TypeError("send_event() got multiple values for keyword argument 'pid'")

    with work.step_run(reporter=broken), pytest.raises(TypeError):
        work.report("Archiving", "p", 1, 2)


def test_an_event_the_broker_does_not_take_is_logged_and_scicat_still_updated(caplog) -> None:
    def refused(meta: dict[str, Any]) -> None:
        raise OperationalError("[Errno 111] Connection refused")

    client = NextClient()
    JobProgress(client, "j1", refused)("Archiving", "p", 1, 2)
    assert client.updates == ["Archiving p: 1 B of 2 B (50%)"]
    assert "progress event not sent" in caplog.text
