"""Two ``celery -A archiver worker`` started the README's way (no ``-n``) on one host.

Celery's default node name ``celery@<host>`` owns an exclusive remote-control queue, so a
second worker of that name died at start with ``RESOURCE_LOCKED``. The archiver's worker
names itself ``archiver-<pid>@<host>``: both workers start and stay up.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

#: Liveness bound for a worker to report ready.
READY_BOUND = 60.0


def start_worker(broker_url: str, queue: str, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVER_", "RMQ_"))}
    env.update({"ARCHIVER_BROKER_URL": broker_url, "ARCHIVER_TASK_QUEUE": queue})
    command = [sys.executable, "-m", "celery", "-A", "archiver", "worker", "--pool", "solo"]
    command += ["--loglevel", "INFO", "--without-mingle", "--without-gossip"]
    return subprocess.Popen(
        command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def ready_name(process: subprocess.Popen, log: Path) -> str:
    deadline = time.monotonic() + READY_BOUND
    while True:
        found = re.search(r"(\S+@\S+) ready\.", log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            pytest.fail(f"the worker exited with {process.returncode}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for the worker to be ready:\n{log.read_text()}")
        time.sleep(0.2)


def test_two_workers_without_a_name_start_side_by_side(broker_url, tmp_path):
    queue = f"test.tasks.{uuid.uuid4().hex[:10]}"
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    workers = []
    try:
        workers.append(start_worker(broker_url, queue, logs[0]))
        first = ready_name(workers[0], logs[0])
        workers.append(start_worker(broker_url, queue, logs[1]))
        second = ready_name(workers[1], logs[1])
        assert first != second
        for name, worker in zip((first, second), workers, strict=True):
            assert name == f"archiver-{worker.pid}@{name.split('@')[1]}"
            assert worker.poll() is None
        assert "RESOURCE_LOCKED" not in logs[0].read_text() + logs[1].read_text()
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(10)
        import kombu

        with kombu.Connection(broker_url) as conn:
            channel = conn.channel()
            channel.queue_delete(queue)
            channel.exchange_delete(queue)
