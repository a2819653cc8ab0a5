"""2 000 malformed or hostile bodies (generated with hypothesis) interleaved with good jobs:
every good job finishes, every unusable body is quarantined with a reason, other job types
are dropped without work, and the bridge never dies."""

from __future__ import annotations

import json

import amqp
import kombu
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.helpers import publish_raw

from archiver.errors import MessageError
from archiver.intake.handler import REASON_HEADER
from archiver.intake.messages import HANDLED_TYPES, parse_job_message

from .conftest import check_all, seed_many, submit_many, wait_all, wait_until

pytestmark = pytest.mark.faults

BATCHES = 200
PER_BATCH = 10

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
job_like = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "_id": json_values,
        "type": st.sampled_from(["archive", "retrieve", "public", "", "ARCHIVE"]) | json_values,
        "statusCode": json_values,
        "jobStatusMessage": json_values,
        "jobParams": json_values | st.fixed_dictionaries({"datasetList": json_values}),
        "datasetList": json_values,
    },
).map(lambda d: json.dumps(d).encode())
unknown_type = st.builds(
    lambda job_id, kind: json.dumps(
        {"id": job_id, "type": kind, "statusCode": "jobSubmitted", "jobParams": {"datasetList": []}}
    ).encode(),  # fmt: skip
    st.uuids().map(str),
    st.text(min_size=1, max_size=30).filter(lambda t: t not in HANDLED_TYPES),
)
hostile = st.one_of(
    st.binary(max_size=200),  # random bytes, mostly invalid UTF-8
    st.binary(max_size=50).map(lambda b: b"\xff\xfe" + b),  # never UTF-8
    st.text(max_size=200).map(lambda t: t.encode()),  # not JSON
    json_values.map(lambda v: json.dumps(v).encode()),  # JSON, rarely an object
    st.integers(1, 5).map(lambda n: b'{"id": "' + b"x" * (n * 300_000) + b'"}'),  # huge
    st.integers(2_000, 200_000).map(lambda n: b"[" * n + b"]" * n),  # deep nesting
    job_like,  # almost a job: wrong types, missing ids
    unknown_type,  # a well-formed job of a type the archiver leaves alone
)


def expected_outcome(body: bytes) -> str:
    try:
        message = parse_job_message(body)
    except MessageError:
        return "quarantine"
    job = message.job
    return "started" if job.type in HANDLED_TYPES and job.status == "jobSubmitted" else "dropped"


def test_hostile_bodies_are_quarantined_and_good_jobs_finish(pipeline_factory):
    pipe = pipeline_factory(flavour="next")
    pids = seed_many(pipe, BATCHES // 10)
    bodies: list[bytes] = []
    good: list[str] = []
    conn = kombu.Connection(pipe.settings.broker)
    channel = conn.channel()

    @settings(max_examples=BATCHES, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(st.lists(hostile, min_size=PER_BATCH, max_size=PER_BATCH))
    def send(batch: list[bytes]) -> None:
        for body in batch:
            channel.basic_publish(
                amqp.Message(body, delivery_mode=2),
                exchange=pipe.settings.job_exchange,
                routing_key=pipe.settings.job_routing_key,
            )
            bodies.append(body)
        if len(bodies) % 100 == 0 and len(good) < len(pids):  # a good job now and then
            good.extend(submit_many(pipe, [pids[len(good)]]))

    try:
        send()
    finally:
        conn.release()
    good.extend(submit_many(pipe, pids[len(good) :]))
    assert len(bodies) == BATCHES * PER_BATCH
    publish_raw(pipe, b"")  # and an empty body
    bodies.append(b"")
    outcomes = [expected_outcome(b) for b in bodies]
    bad = outcomes.count("quarantine")
    counts = pipe.bridge.handler.counts
    wait_until(
        lambda: counts["quarantine"] + counts["dropped"] >= bad + outcomes.count("dropped"),
        60,
        f"the bridge to see every body ({bad} to quarantine, {outcomes.count('dropped')} to "
        f"drop, {len(good)} good; seen {counts})",
    )
    wait_all(pipe, good, timeout=120)
    assert pipe.threads[0].is_alive() and pipe.bridge.ready
    assert counts["quarantine"] == bad
    check_all(pipe, good, pids, expect="finishedSuccessful")
    reasons = []
    with kombu.Connection(pipe.settings.broker) as conn:
        channel = conn.channel()
        _, waiting, _ = channel.queue_declare(pipe.settings.quarantine_queue, passive=True)
        assert waiting == bad
        while message := channel.basic_get(pipe.settings.quarantine_queue, no_ack=True):
            reasons.append(message.headers.get(REASON_HEADER))
    assert len(reasons) == bad and all(reasons), reasons[:5]
