""":class:`JobIntake` on its own: one queue body in, one decision out, chains on the real
RabbitMQ (a Celery app of the test's own, publishing to a per-test task queue)."""

from __future__ import annotations

import json

import amqp
import kombu
import pytest
from celery import Celery

import celeryconfig
from archiver.intake.handler import JobIntake, JobsTaken
from archiver.settings import Settings


@pytest.fixture
def intake(broker_url, unique_names):
    settings = Settings(
        broker_url=broker_url, task_queue=unique_names["task_queue"], scicat_api="auto"
    )
    app = Celery("intake-test")
    app.conf.update(celeryconfig.from_settings(settings))
    yield JobIntake(app, settings), unique_names["task_queue"], broker_url
    app.close()


def queued(broker_url: str, queue: str) -> list[dict]:
    """Every task message on ``queue`` (taken off it); none when nothing declared it."""
    found = []
    with kombu.Connection(broker_url) as conn:
        channel = conn.channel()
        try:
            while (message := channel.basic_get(queue, no_ack=True)) is not None:
                found.append({"task": message.headers["task"], "id": message.headers["id"]})
        except amqp.exceptions.NotFound:
            return []
    return found


def v4_job(job_id: str = "job-1", status: str = "jobSubmitted", job_type: str = "archive"):
    return json.dumps(
        {
            "id": job_id,
            "_id": job_id,
            "type": job_type,
            "statusCode": status,
            "statusMessage": status,
            "jobParams": {"datasetList": [{"pid": "PID/a", "files": []}]},
        }
    )


def test_a_new_job_publishes_exactly_the_first_step_of_its_chain(intake):
    handler, queue, url = intake
    assert handler.handle_body(v4_job()) == ("started", "new job")
    [task] = queued(url, queue)
    assert task["task"] == "archiver.job.in_progress" and task["id"].startswith("job-1:")
    assert handler.started == 1


def test_the_same_job_twice_in_one_process_starts_one_chain(intake):
    handler, queue, url = intake
    handler.handle_body(v4_job())
    assert handler.handle_body(v4_job()) == ("dropped", "duplicate")
    assert len(queued(url, queue)) == 1


@pytest.mark.parametrize(
    ("body", "outcome"),
    [
        (v4_job(status="inProgress"), "dropped"),  # scicatlive echoes our own updates
        (v4_job(job_type="public"), "dropped"),  # other job types are left alone
        (b"\xff\xfe not json", "quarantine"),
        (json.dumps({"type": "archive"}), "quarantine"),  # no id
    ],
)
def test_echoes_other_types_and_unusable_bodies_start_nothing(intake, body, outcome):
    handler, queue, url = intake
    assert handler.handle_body(body)[0] == outcome
    assert queued(url, queue) == []


def test_the_generation_follows_the_message_shape_unless_configured(intake):
    handler, _queue, _url = intake
    from archiver.intake.messages import parse_job_message

    assert handler.api_for(parse_job_message(v4_job())) == "next"
    handler.settings = handler.settings.replace(scicat_api="next-legacy")
    assert handler.api_for(parse_job_message(v4_job())) == "next-legacy"


def test_a_broker_that_refuses_the_chain_raises_so_the_message_is_kept(unique_names):
    settings = Settings(broker_url="amqp://guest:guest@127.0.0.1:9//", task_queue="t")
    app = Celery("intake-dead-broker")
    app.conf.update(celeryconfig.from_settings(settings))
    app.conf.task_publish_retry_policy = {"max_retries": 0}
    app.conf.broker_connection_timeout = 1
    handler = JobIntake(app, settings)
    with pytest.raises(Exception):  # noqa: B017 - whatever kombu raises: not swallowed
        handler.handle_body(v4_job())
    assert "job-1" not in handler.taken and handler.started == 0


def test_the_memory_of_jobs_taken_is_bounded_and_forgets_the_oldest():
    taken = JobsTaken(capacity=2)
    for job_id in ("a", "b", "c"):
        taken.add(job_id)
    assert len(taken) == 2 and "a" not in taken and "c" in taken
