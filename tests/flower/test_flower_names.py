"""archiver.flower_names: what Flower shows for each step of a chain."""

from __future__ import annotations

from celery import Celery

from archiver.flower_names import (
    MAX_LENGTH,
    TASKS_COLUMNS,
    args_label,
    shadow_name,
    step_label,
    step_options,
)
from archiver.plan import JobContext


def test_step_label_and_shadow_name():
    assert step_label("archiver.archive.add_datablocks") == "add_datablocks"
    assert step_label("plain") == "plain"
    assert shadow_name("archive", "1234", "archiver.job.finish") == "archive job 1234: finish"


def test_args_label_lists_up_to_three_pids():
    assert args_label("archive", "j1", ["a"]) == "archive job j1; 1 dataset: a"
    assert args_label("retrieve", "j1", []) == "retrieve job j1; 0 datasets"
    five = args_label("archive", "j1", ["p1", "p2", "p3", "p4", "p5"])
    assert five == "archive job j1; 5 datasets: p1, p2, p3 (+2 more)"


def test_labels_are_one_short_line():
    label = args_label("archive", "j\n1", ["x" * 400])
    assert "\n" not in label and len(label) == MAX_LENGTH and label.endswith("...")


def test_step_options_from_a_job_context():
    ctx = JobContext("64f0c0ffee", "archive", ("PID/a", "PID/b"), "next")
    options = step_options("archiver.archive.add_datablocks", ctx.to_dict())
    assert options == {"argsrepr": "archive job 64f0c0ffee; 2 datasets: PID/a, PID/b"}


def test_step_options_tolerate_a_partial_payload():
    assert step_options("t", {}) == {"argsrepr": "job ?; 0 datasets"}
    assert step_options("t", {"job_id": 7, "type": "reset", "pids": "one"}) == {
        "argsrepr": "reset job 7; 1 dataset: one"
    }


def test_options_reach_the_task_message_headers():
    """Signature options are apply_async options: argsrepr lands in the message headers."""
    app = Celery("t", broker="memory://", set_as_current=False)
    app.conf.task_always_eager = False
    payload = JobContext("j9", "retrieve", ("p",), "next").to_dict()
    sig = app.signature("archiver.job.finish", args=(payload,), immutable=True)
    sig.options.update(step_options(sig.task, payload))
    message = app.amqp.as_task_v2("id-1", sig.task, args=sig.args, **sig.options)
    assert message.headers["argsrepr"] == "retrieve job j9; 1 dataset: p"
    assert message.sent_event is None or message.sent_event["args"] == message.headers["argsrepr"]


def test_tasks_columns_show_the_args():
    columns = TASKS_COLUMNS.split(",")
    assert columns[:3] == ["name", "args", "state"]
    assert "uuid" in columns and len(columns) == len(set(columns))
