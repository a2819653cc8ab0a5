"""A whole pipeline on the real RabbitMQ: emulator → queue → bridge → embedded worker.

``pipeline_factory(flavour=..., publish_on=..., bridge=True)`` starts the SciCat emulator
publishing to a per-test exchange and queue, configures the Celery app and the worker
runtime for it, starts an embedded worker (threads pool) and, unless ``bridge=False``, the
bridge in a thread. Everything stops at the end of the test. ``tests/conftest.py`` registers
this module as a plugin, so the fixture is there for every test (pipeline, faults, Flower,
storage).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker

from archiver import app, runtime
from archiver.configure import apply
from archiver.intake.bridge import Bridge
from archiver.settings import Settings

ADMIN = ("admin", "2jf70TPNZsS")
#: Upper bound for a job to finish in tests: a liveness bound, not a performance target.
JOB_TIMEOUT = 60.0


def wait_until(predicate: Callable[[], Any], timeout: float = JOB_TIMEOUT, what: str = "") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what or predicate}")
        time.sleep(0.05)


@dataclass
class Pipeline:
    emulator: Any
    settings: Settings
    bridge: Bridge | None = None
    threads: list[threading.Thread] = field(default_factory=list)

    def job_status(self, job_id: str) -> str:
        return self.emulator.job(job_id)["statusCode"]

    def wait_finished(self, job_id: str, timeout: float = JOB_TIMEOUT) -> dict[str, Any]:
        wait_until(lambda: self.job_status(job_id).startswith("finished"), timeout, f"job {job_id}")
        return self.emulator.job(job_id)

    def lifecycle(self, pid: str) -> dict[str, Any]:
        return self.emulator.dataset(pid)["datasetlifecycle"]


def make_settings(emulator: Any, broker_url: str, names: dict[str, str], **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "scicat_url": emulator.url,
        "scicat_user": ADMIN[0],
        "scicat_password": ADMIN[1],
        "scicat_api": "auto",
        "scicat_timeout": 5.0,
        "broker_url": broker_url,
        "job_exchange": names["exchange"],
        "job_queue": names["queue"],
        "job_routing_key": names["routing_key"],
        "quarantine_queue": names["quarantine"],
        "task_queue": names["task_queue"],
        "max_retries": 4,
        "retry_backoff_max": 1,
    }
    values.update(extra)
    return Settings(**values)


def configure_app(settings: Settings) -> None:
    """Point the global Celery app, the worker runtime and logging at ``settings``, the way
    every entry point does (:func:`archiver.configure.apply`)."""
    apply(settings, app)


@pytest.fixture
def pipeline_factory(
    broker_url: str, unique_names: dict[str, str], emulator_factory: Callable[..., Any]
) -> Iterator[Callable[..., Pipeline]]:
    stack: list[Any] = []
    started: list[Pipeline] = []

    def start(
        flavour: str = "next",
        publish_on: tuple[str, ...] = ("create",),
        bridge: bool = True,
        worker: bool = True,
        concurrency: int = 4,
        emulator_options: dict[str, Any] | None = None,
        **settings_extra: Any,
    ) -> Pipeline:
        emu = emulator_factory(
            **(emulator_options or {}),
            flavour=flavour,
            publish_on=publish_on,
            amqp_url=broker_url,
            exchange=unique_names["exchange"],
            queue=unique_names["queue"],
            routing_key=unique_names["routing_key"],
        )
        settings = make_settings(emu, broker_url, unique_names, **settings_extra)
        configure_app(settings)
        pipe = Pipeline(emu, settings)
        if worker:
            ctx = start_worker(
                app,
                pool="threads",
                concurrency=concurrency,
                perform_ping_check=False,
                loglevel="WARNING",
                shutdown_timeout=20,
            )
            ctx.__enter__()
            stack.append(ctx)
        if bridge:
            pipe.bridge = Bridge(app, settings)
            thread = threading.Thread(target=pipe.bridge.run, daemon=True, name="bridge")
            thread.start()
            pipe.threads.append(thread)
            wait_until(lambda: pipe.bridge.ready, 30, "the bridge to consume")
        started.append(pipe)
        return pipe

    yield start
    for pipe in started:
        if pipe.bridge is not None:
            pipe.bridge.should_stop = True
        for thread in pipe.threads:
            thread.join(10)
    for ctx in reversed(stack):
        ctx.__exit__(None, None, None)
    runtime.configure(None)
