"""Helpers shared by the pipeline tests: seeding datasets, submitting jobs, raw messages."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import amqp
from kombu.utils.url import parse_url

from archiver.scicat import DatasetRef, connect

from .conftest import Pipeline


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
