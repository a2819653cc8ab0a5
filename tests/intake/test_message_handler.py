""":class:`MessageHandler` on its own: the acknowledgement policy for one kombu message.

Real messages on the real RabbitMQ (a per-test job queue), a Celery app of the test's own:
a new job is acknowledged after its chain is queued, an echo or duplicate is acknowledged
without work, an unusable body is copied to the quarantine queue with the reason and then
acknowledged, and a message whose chain the broker refuses goes back to the job queue.
"""

from __future__ import annotations

import json
import time

import amqp
import kombu
import pytest
from celery import Celery

import celeryconfig
from archiver.intake.bridge import MessageHandler, job_queue
from archiver.intake.handler import REASON_HEADER, SOURCE_HEADER, JobIntake
from archiver.settings import Settings

#: Liveness bound for a published message to be routed to its queue (seconds).
ARRIVAL_BOUND = 10.0


def v4_job(job_id: str = "job-1", status: str = "jobSubmitted") -> str:
    doc = {"id": job_id, "type": "archive", "statusCode": status, "statusMessage": status}
    return json.dumps({**doc, "jobParams": {"datasetList": [{"pid": "PID/a", "files": []}]}})


def settings_for(broker_url: str, names: dict[str, str], **extra: str) -> Settings:
    return Settings(
        broker_url=extra.pop("broker_url", broker_url),
        job_exchange=names["exchange"],
        job_queue=names["queue"],
        job_routing_key=names["routing_key"],
        quarantine_queue=names["quarantine"],
        task_queue=names["task_queue"],
        scicat_api="auto",
    )


@pytest.fixture
def broker(broker_url, unique_names):
    """A connection with the job queue declared; ``deliver(body)`` returns it as a message."""
    settings = settings_for(broker_url, unique_names)
    with kombu.Connection(broker_url) as conn:
        queue = job_queue(settings)(conn.channel())
        queue.declare()

        def deliver(body: str | bytes) -> kombu.Message:
            conn.Producer().publish(
                body,
                exchange=settings.job_exchange,
                routing_key=settings.job_routing_key,
                serializer=None,
                content_type=None,
                content_encoding=None,
            )
            deadline = time.monotonic() + ARRIVAL_BOUND
            while (message := queue.get(no_ack=False)) is None:
                assert time.monotonic() < deadline, "the message did not arrive"
                time.sleep(0.05)
            return message

        yield settings, deliver


def depth(broker_url: str, name: str) -> int:
    """Messages waiting on ``name`` (fresh channel: unacknowledged ones count once released)."""
    with kombu.Connection(broker_url) as conn:
        return conn.channel().queue_declare(name, passive=True).message_count


def take(broker_url: str, name: str) -> list[kombu.Message]:
    """Every message on ``name``, taken off it (none when nothing ever declared it)."""
    found = []
    with kombu.Connection(broker_url) as conn:
        queue = kombu.Queue(name, no_declare=True)(conn.channel())
        try:
            while (message := queue.get(no_ack=True)) is not None:
                found.append(message)
        except amqp.exceptions.NotFound:
            return []
    return found


def handler_for(settings: Settings, app_settings: Settings | None = None) -> MessageHandler:
    app = Celery("handler-test", set_as_current=False)
    app.conf.update(celeryconfig.from_settings(app_settings or settings))
    return MessageHandler(JobIntake(app, settings), settings, kombu.Connection(settings.broker))


def test_a_new_job_is_acknowledged_after_its_chain_is_queued(broker, broker_url):
    settings, deliver = broker
    handler = handler_for(settings)
    message = deliver(v4_job())
    handler(message)
    assert message.acknowledged and handler.counts["started"] == 1
    [task] = take(broker_url, settings.task_queue)
    assert task.headers["task"] == "archiver.job.in_progress"
    assert depth(broker_url, settings.job_queue) == 0


@pytest.mark.parametrize("second", [v4_job(status="inProgress"), v4_job()], ids=["echo", "dup"])
def test_echoes_and_duplicates_are_acknowledged_without_work(broker, broker_url, second):
    settings, deliver = broker
    handler = handler_for(settings)
    handler(deliver(v4_job()))
    take(broker_url, settings.task_queue)
    message = deliver(second)
    handler(message)
    assert message.acknowledged and handler.counts["dropped"] == 1
    assert take(broker_url, settings.task_queue) == []


def test_an_unusable_body_is_quarantined_with_the_reason_then_acknowledged(broker, broker_url):
    settings, deliver = broker
    handler = handler_for(settings)
    message = deliver(b"\xff\xfe not json")
    handler(message)
    assert message.acknowledged and handler.counts["quarantine"] == 1
    [copy] = take(broker_url, settings.quarantine_queue)
    assert copy.body == b"\xff\xfe not json"
    assert copy.headers[REASON_HEADER] == "the body is not UTF-8 (byte 0)"
    assert copy.headers[SOURCE_HEADER] == settings.job_queue
    assert take(broker_url, settings.task_queue) == []


def test_a_chain_the_broker_refuses_sends_the_message_back_to_the_queue(broker, broker_url):
    settings, deliver = broker
    dead = settings.replace(broker_url="amqp://guest:guest@127.0.0.1:9//")
    handler = handler_for(settings, dead)
    handler.intake.app.conf.task_publish_retry_policy = {"max_retries": 0}
    handler.intake.app.conf.broker_connection_timeout = 1
    message = deliver(v4_job())
    handler(message)
    assert handler.counts["requeued"] == 1
    assert handler.counts["started"] == 0
    assert depth(broker_url, settings.job_queue) == 1  # back, for this or another bridge
