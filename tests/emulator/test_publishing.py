"""Job messages on the real RabbitMQ, read back from the queue."""

import json
import time

import amqp
import pytest
from kombu.utils.url import parse_url

from .helpers import Client

pytestmark = pytest.mark.rabbitmq


def _channel(broker_url):
    parts = parse_url(broker_url)
    conn = amqp.Connection(
        host=f"{parts['hostname']}:{parts.get('port') or 5672}",
        userid=parts["userid"],
        password=parts["password"],
        virtual_host=parts.get("virtual_host") or "/",
    )
    conn.connect()
    return conn, conn.channel()


def _drain(broker_url, queue, expected, timeout=5.0):
    conn, channel = _channel(broker_url)
    messages = []
    deadline = time.monotonic() + timeout
    try:
        while len(messages) < expected and time.monotonic() < deadline:
            message = channel.basic_get(queue, no_ack=True)
            if message is None:
                time.sleep(0.05)
            else:
                messages.append(message)
        time.sleep(0.2)
        while (message := channel.basic_get(queue, no_ack=True)) is not None:
            messages.append(message)
    finally:
        conn.close()
    return messages


def _emulator(client_factory, broker_url, names, flavour="next", **kwargs):
    return client_factory(
        flavour,
        amqp_url=broker_url,
        exchange=names["exchange"],
        queue=names["queue"],
        routing_key=names["routing_key"],
        **kwargs,
    )


def _v4_job(client: Client, pid):
    body = {"type": "archive", "jobParams": {"datasetList": [{"pid": pid, "files": []}]},
            "contactEmail": "admin@example.org"}  # fmt: skip
    return client.post("/api/v4/jobs", body).json()


def test_next_publishes_the_whole_v4_job_persistently_without_content_type(
    client_factory, broker_url, unique_names
):
    client = _emulator(client_factory, broker_url, unique_names)
    job = _v4_job(client, client.emu.add_dataset())
    (message,) = _drain(broker_url, unique_names["queue"], 1)
    assert json.loads(message.body) == job
    assert message.properties == {"delivery_mode": 2}
    assert client.emu.published == 1
    client.patch(f"/api/v4/jobs/{job['id']}", {"statusCode": "inProgress", "statusMessage": "x"})
    assert _drain(broker_url, unique_names["queue"], 0, timeout=0.3) == []


def test_the_topology_is_a_durable_queue_without_arguments_on_a_durable_topic_exchange(
    client_factory, broker_url, unique_names
):
    client = _emulator(client_factory, broker_url, unique_names)
    _v4_job(client, client.emu.add_dataset())
    queue, exchange = unique_names["queue"], unique_names["exchange"]
    conn, channel = _channel(broker_url)
    try:
        channel.queue_declare(queue, durable=True, auto_delete=False)
        channel.exchange_declare(exchange, "topic", durable=True, auto_delete=False)
        with pytest.raises(amqp.exceptions.PreconditionFailed):
            channel.queue_declare(queue, durable=False, auto_delete=False)
        channel = conn.channel()
        with pytest.raises(amqp.exceptions.PreconditionFailed):
            channel.queue_declare(queue, durable=True, arguments={"x-max-length": 10})
        channel = conn.channel()
        with pytest.raises(amqp.exceptions.PreconditionFailed):
            channel.exchange_declare(exchange, "direct", durable=True, auto_delete=False)
    finally:
        conn.close()


def test_with_publish_on_update_every_patch_publishes_the_updated_job(
    client_factory, broker_url, unique_names
):
    client = _emulator(client_factory, broker_url, unique_names, publish_on=("create", "update"))
    job = _v4_job(client, client.emu.add_dataset())
    client.patch(f"/api/v4/jobs/{job['id']}", {"statusCode": "inProgress", "statusMessage": "x"})
    client.patch(f"/jobs/{job['id']}", {"jobStatusMessage": "finishedSuccessful"})
    bodies = [json.loads(m.body) for m in _drain(broker_url, unique_names["queue"], 3)]
    assert [b["statusCode"] for b in bodies] == ["jobSubmitted", "inProgress", "finishedSuccessful"]
    assert bodies[-1] == client.emu.job(job["id"])


def test_jobs_created_through_the_v3_shim_are_published_in_the_v4_shape(
    client_factory, broker_url, unique_names
):
    client = _emulator(client_factory, broker_url, unique_names)
    pid = client.emu.add_dataset()
    v3 = client.post("/jobs", {"type": "retrieve", "datasetList": [{"pid": pid, "files": []}]})
    (message,) = _drain(broker_url, unique_names["queue"], 1)
    body = json.loads(message.body)
    assert body["_id"] == body["id"] == v3.json()["id"] and "jobStatusMessage" not in body


def test_loopback_publishes_the_v3_job_as_json_on_create_only(
    client_factory, broker_url, unique_names
):
    client = _emulator(client_factory, broker_url, unique_names, flavour="loopback",
                       publish_on=("create", "update"))  # fmt: skip
    pid = client.emu.add_dataset()
    job = client.post("/Jobs", {"type": "archive", "datasetList": [{"pid": pid, "files": []}]})
    client.put(f"/Jobs/{job.json()['id']}", {"jobStatusMessage": "jobForwarded"})
    (message,) = _drain(broker_url, unique_names["queue"], 1)
    assert json.loads(message.body) == job.json()
    props = message.properties
    assert props["content_type"] == "application/json" and props["content_encoding"] == "utf8"
    assert props["delivery_mode"] == 2 and props["type"] == "jobqueue"
    assert abs(props["timestamp"] - time.time() * 1000) < 60_000


def test_next_legacy_publishes_nothing(client_factory, broker_url, unique_names):
    client = _emulator(client_factory, broker_url, unique_names, flavour="next-legacy",
                       publish_on=("create", "update"))  # fmt: skip
    body = {"type": "archive", "emailJobInitiator": "a@b.org",
            "datasetList": [{"pid": client.emu.add_dataset(), "files": []}]}  # fmt: skip
    assert client.post("/Jobs", body).status_code == 201
    assert client.emu.published == 0


def test_a_seeded_job_can_be_published_like_a_create(client_factory, broker_url, unique_names):
    client = _emulator(client_factory, broker_url, unique_names)
    job_id = client.emu.add_job("archive", [client.emu.add_dataset()], publish=True)
    (message,) = _drain(broker_url, unique_names["queue"], 1)
    assert json.loads(message.body) == client.emu.job(job_id)


def test_publishing_reconnects_after_the_connection_broke(client_factory, broker_url, unique_names):
    client = _emulator(client_factory, broker_url, unique_names)
    pid = client.emu.add_dataset()
    _v4_job(client, pid)
    client.emu._app.publisher._conn.transport.close()
    _v4_job(client, pid)
    assert len(_drain(broker_url, unique_names["queue"], 2)) == 2


def test_when_the_broker_is_unreachable_the_job_is_stored_and_the_answer_is_400(
    client_factory,
):
    client = client_factory("next", amqp_url="amqp://guest:guest@127.0.0.1:1//")
    pid = client.emu.add_dataset()
    body = {"type": "archive", "jobParams": {"datasetList": [{"pid": pid, "files": []}]},
            "contactEmail": "admin@example.org"}  # fmt: skip
    answer = client.post("/api/v4/jobs", body)
    assert answer.status_code == 400 and "unable to perform action 'rabbitmq'" in answer.text
    assert len(client.emu.jobs()) == 1 and client.emu.published == 0
