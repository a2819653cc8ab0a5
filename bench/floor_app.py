"""A Celery app with one no-op task, configured exactly like the archiver's (same
``celeryconfig.from_settings``): what :mod:`bench.celery_floor` runs chains of."""

from __future__ import annotations

import os

from celery import Celery

import celeryconfig
from archiver.settings import Settings

app = Celery("floor")
app.config_from_object(
    celeryconfig.from_settings(
        Settings(
            broker_url=os.environ.get("ARCHIVER_BENCH_BROKER", "amqp://guest:guest@127.0.0.1//"),
            task_queue=os.environ.get("FLOOR_QUEUE", "bench.floor"),
        )
    )
)


@app.task(name="bench.floor.step")
def step(value: int) -> int:
    """Does nothing: the cost measured is Celery's own."""
    return value
