"""Shared fixtures: the real RabbitMQ broker, unique queue names, the SciCat emulator.

Tests that need RabbitMQ use the ``broker_url`` fixture. When the broker does not answer,
those tests *fail* (never skip): CI must notice a missing broker.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import kombu
import pytest

#: The shared helpers' fixtures (``pipeline_factory``), for every test.
pytest_plugins = ["support.pipeline"]

BROKER_URL = os.environ.get("ARCHIVER_TEST_BROKER", "amqp://guest:guest@127.0.0.1:5672//")


@pytest.fixture(scope="session")
def broker_url() -> str:
    """URL of the real RabbitMQ; fails the test when the broker does not answer."""
    try:
        with kombu.Connection(BROKER_URL, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=2, interval_start=0.5)
    except Exception as exc:  # noqa: BLE001 - any failure means the broker is unusable
        pytest.fail(f"RabbitMQ is required at {BROKER_URL} and does not answer: {exc}")
    return BROKER_URL


@pytest.fixture
def unique_names(broker_url: str) -> Iterator[dict[str, str]]:
    """Exchange, queue and routing key names unique to this test; deleted afterwards."""
    tag = uuid.uuid4().hex[:10]
    names = {
        "exchange": f"test.jobs.{tag}",
        "queue": f"test.client.jobs.{tag}",
        "routing_key": f"jobqueue.{tag}",
        "quarantine": f"test.quarantine.{tag}",
        "task_queue": f"test.tasks.{tag}",
    }
    yield names
    with kombu.Connection(broker_url) as conn:
        channel = conn.channel()
        for key in ("queue", "quarantine", "task_queue"):
            try:
                channel.queue_delete(names[key])
            except Exception:  # noqa: BLE001 - queue may not exist
                channel = conn.channel()
        for key in ("exchange", "task_queue"):  # Celery names a queue's exchange like it
            try:
                channel.exchange_delete(names[key])
            except Exception:  # noqa: BLE001 - exchange may not exist
                channel = conn.channel()


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., object]]:
    """Start emulators with ``emulator_factory(flavour=..., ...)``; all stop after the test."""
    from archiver.emulator import Emulator

    started: list[Emulator] = []

    def start(**kwargs: object) -> Emulator:
        emu = Emulator(**kwargs)
        emu.start()
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()


#: Fixtures that mean a test needs RabbitMQ: the shared broker, or a private node of its own.
BROKER_FIXTURES = frozenset({"broker_url", "private_node"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that needs RabbitMQ (directly or through another fixture, e.g. the
    pipeline) carries the ``rabbitmq`` marker, so ``-m 'not rabbitmq'`` is a reliable
    broker-free subset."""
    for item in items:
        if BROKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.rabbitmq)
