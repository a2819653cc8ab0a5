"""Parsing queue bodies (v3 and v4 shapes, garbage) and the new-work decision."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.errors import MessageError
from archiver.intake.messages import decide, parse_job_message

V4 = {
    "_id": "j-1",
    "id": "j-1",
    "type": "archive",
    "statusCode": "jobSubmitted",
    "statusMessage": "Job submitted.",
    "jobParams": {"username": "alice", "datasetList": [{"pid": "PID.X/ds1", "files": []}]},
    "jobResultObject": {},
    "__v": 0,
}
V3 = {
    "id": "j-3",
    "type": "retrieve",
    "jobStatusMessage": "jobSubmitted",
    "datasetList": [{"pid": "PID.X/ds2", "files": [["a.dat", "b/c.dat"]]}],
    "jobParams": {"destinationPath": "/tmp"},
}


def body(doc):
    return json.dumps(doc).encode()


def test_v4_document_is_parsed():
    msg = parse_job_message(body(V4))
    assert msg.shape == "v4"
    assert (msg.job.id, msg.job.type, msg.job.status) == ("j-1", "archive", "jobSubmitted")
    assert msg.job.pids == ["PID.X/ds1"]
    assert decide(msg).start


def test_v3_document_is_parsed_and_nested_file_lists_are_flattened():
    msg = parse_job_message(body(V3))
    assert msg.shape == "v3"
    assert msg.job.datasets[0].files == ("a.dat", "b/c.dat")
    assert msg.job.params == {"destinationPath": "/tmp"}
    assert decide(msg).start


def test_v3_document_without_status_counts_as_submitted():
    doc = dict(V3)
    del doc["jobStatusMessage"]
    assert decide(parse_job_message(body(doc))).start


def test_echo_of_an_update_is_not_new_work():
    doc = dict(V4, statusCode="inProgress", statusMessage="Archiving")
    decision = decide(parse_job_message(body(doc)))
    assert not decision.start and "inProgress" in decision.reason


@pytest.mark.parametrize("job_type", ["public", "somethingElse"])
def test_other_job_types_are_left_alone(job_type):
    decision = decide(parse_job_message(body(dict(V4, type=job_type))))
    assert not decision.start and job_type in decision.reason


def test_duplicate_pids_in_one_job_are_listed_once():
    doc = dict(V4, jobParams={"datasetList": [{"pid": "a", "files": []}, {"pid": "a"}]})
    assert parse_job_message(body(doc)).job.pids == ["a"]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe not utf8", "not UTF-8"),
        (b"not json", "not JSON"),
        (b"[1, 2]", "not an object"),
        (b'"text"', "not an object"),
        (body({"type": "archive", "statusCode": "jobSubmitted"}), "no id"),
        (body({"id": "", "type": "archive", "statusCode": "jobSubmitted"}), "no id"),
        (body({"id": 7, "type": "archive", "statusCode": "jobSubmitted"}), "no id"),
        (body({"id": "x", "statusCode": "jobSubmitted"}), "no job type"),
        (body({"id": "x", "type": "archive"}), "unknown job shape"),
        (body(dict(V4, jobParams={"datasetList": "pid"})), "not a list"),
        (body(dict(V4, jobParams={"datasetList": [{"files": []}]})), "no usable pid"),
        (body(dict(V4, jobParams={"datasetList": [{"pid": "a", "files": [3]}]})), "non-string"),
        (body(dict(V4, statusCode=5)), "statusCode is not a string"),
        (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
        (b" " * (1024 * 1024 + 1), "more than"),
    ],
)
def test_unusable_bodies_raise_message_error_with_a_reason(raw, reason):
    with pytest.raises(MessageError, match=reason):
        parse_job_message(raw)


#: Any JSON value, bounded (short texts, few leaves): large values only cost time, the
#: parser's checks are about types and keys.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_either_parse_or_raise_message_error(raw):
    try:
        parse_job_message(raw)
    except MessageError:
        pass


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "id",
                "_id",
                "type",
                "statusCode",
                "jobStatusMessage",
                "datasetList",
                "jobParams",
                "jobResultObject",
                "statusMessage",
            ]
        ),
        json_values,
    )
)
def test_arbitrary_job_like_objects_either_parse_or_raise_message_error(doc):
    try:
        msg = parse_job_message(body(doc))
    except MessageError:
        return
    assert isinstance(msg.job.id, str) and msg.job.id
    decide(msg)


def test_a_job_v3_helper_body_is_read_as_v3_with_its_status():
    """backend-next's job_v3 template helper keeps jobParams.datasetList next to the v3
    fields: the status is jobStatusMessage, so an update echo stays an echo."""
    body = {
        "id": "j3",
        "type": "archive",
        "jobParams": {"datasetList": [{"pid": "p/1", "files": []}], "username": "alice"},
        "jobStatusMessage": "inProgress",
        "datasetList": [{"pid": "p/1", "files": []}],
    }
    message = parse_job_message(json.dumps(body))
    assert message.shape == "v3" and message.job.status == "inProgress"
    assert list(message.job.pids) == ["p/1"] and not decide(message).start
