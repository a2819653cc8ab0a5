"""Helpers shared by the tests that run the pipeline (pipeline, faults, Flower, storage):
seeding datasets, submitting jobs, raw messages, worker processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

import amqp
from kombu.utils.url import parse_url

from archiver.scicat import DatasetRef, connect
from support.pipeline import Pipeline


def seed(pipe: Pipeline, count: int = 3, files: int = 3) -> list[str]:
    """``count`` archivable datasets with one OrigDatablock of ``files`` files each."""
    pids = []
    for i in range(count):
        pid = pipe.emulator.add_dataset(datasetName=f"ds{i}")
        pipe.emulator.add_origdatablock(
            pid,
            files=[
                {"path": f"raw/f{i}_{n}.dat", "size": 100 + n, "time": "2024-01-01T00:00:00Z"}
                for n in range(files)
            ],
        )
        pids.append(pid)
    return pids


def submit(pipe: Pipeline, job_type: str, pids: list[str]) -> str:
    """Create a job through SciCat's HTTP API (the emulator publishes it)."""
    with connect(pipe.settings) as client:
        job = client.create_job(
            job_type, [DatasetRef(p) for p in pids], contact_email="ops@example.org"
        )
    return job.id


def encoded(pid: str) -> str:
    return urllib.parse.quote(pid, safe="")


def publish_raw(pipe: Pipeline, body: bytes | str | dict[str, Any]) -> None:
    """Put a body on the job queue the way the backend does (persistent, no content type)."""
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    parts = parse_url(pipe.settings.broker)
    conn = amqp.Connection(
        host=f"{parts['hostname']}:{parts.get('port') or 5672}",
        userid=parts.get("userid") or "guest",
        password=parts.get("password") or "guest",
    )
    conn.connect()
    try:
        channel = conn.channel()
        channel.basic_publish(
            amqp.Message(body, delivery_mode=2),
            pipe.settings.job_exchange,
            pipe.settings.job_routing_key,
        )
    finally:
        conn.close()


def calls(pipe: Pipeline, method: str, fragment: str) -> int:
    """How many requests with ``method`` whose path contains ``fragment`` the emulator served."""
    return sum(1 for m, p, _ in pipe.emulator.request_log if m == method and fragment in p)


def worker_process(
    pipe: Pipeline, log: Path, concurrency: int = 2, **env_extra: str
) -> subprocess.Popen:
    """``celery -A archiver worker`` in its own process group, configured for ``pipe`` through
    the environment (as in production), with a worker name of its own (the remote-control
    queue of a worker name is exclusive)."""
    s = pipe.settings
    env = dict(os.environ)
    env.update(
        {
            "ARCHIVER_SCICAT_URL": s.scicat_url or "",
            "ARCHIVER_SCICAT_USER": s.scicat_user or "",
            "ARCHIVER_SCICAT_PASSWORD": s.scicat_password or "",
            "ARCHIVER_BROKER_URL": s.broker,
            "ARCHIVER_TASK_QUEUE": s.task_queue,
            "ARCHIVER_SIMULATED_SECONDS": str(s.simulated_seconds),
            "ARCHIVER_RETRY_BACKOFF_MAX": "1",
            **env_extra,
        }
    )
    command = [sys.executable, "-m", "celery", "-A", "archiver", "worker", "--pool", "prefork"]
    command += ["--concurrency", str(concurrency), "--loglevel", "INFO"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    command += ["--hostname", f"test-{uuid.uuid4().hex[:8]}@%h"]
    return subprocess.Popen(
        command, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the worker and its children at once."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)
