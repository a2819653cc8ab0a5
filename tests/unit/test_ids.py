"""Ids are data: which job ids and pids intake accepts, and how ids appear in log lines."""

from __future__ import annotations

import json
import logging

import pytest

from archiver.errors import MessageError
from archiver.ids import check_job_id, check_pid, escape
from archiver.intake.messages import parse_job_message
from archiver.steps.marks import job_log


def v4(job_id: str, pid: str = "20.500.12269/ds-1") -> str:
    return json.dumps(
        {
            "id": job_id,
            "type": "archive",
            "statusCode": "jobSubmitted",
            "jobParams": {"datasetList": [{"pid": pid, "files": []}]},
        }
    )


@pytest.mark.parametrize(
    ("job_id", "reason"),
    [
        (".", "'.' or '..'"),
        ("..", "'.' or '..'"),
        ("job\nforged", "control character \\\\n"),
        ("job\r", "control character \\\\r"),
        ("a\x00b", "control character \\\\x00"),
        ("a\x1b[31m", "control character \\\\x1b"),
        ("a\u2028b", "control character \\\\u2028"),
        ("x" * 513, "513 characters long, more than 512"),
        ("   ", "no id"),
    ],
)
def test_unusable_job_ids_are_refused_with_the_id_escaped(job_id, reason):
    with pytest.raises(MessageError, match=reason) as caught:
        parse_job_message(v4(job_id))
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message and "\x1b" not in message
    assert len(message) < 300  # an absurd id is cut, not quoted in full


@pytest.mark.parametrize(
    "pid", [".", "..", "a/../b", "../etc", "a/.", "p\nq", "p\tq", "p" * 600, " "]
)
def test_unusable_pids_are_refused_naming_the_job_and_the_entry(pid):
    with pytest.raises(MessageError, match=r"job job-1: datasetList\[0\]") as caught:
        parse_job_message(v4("job-1", pid))
    assert "\n" not in str(caught.value) and "\t" not in str(caught.value)


@pytest.mark.parametrize(
    "pid", ["20.500.12269/ds-0042", "PID.a.b", "x/y/z", "10.1/ä-ü", "a..b", ".hidden"]
)
def test_real_pids_are_accepted(pid):
    assert check_pid(pid, "here") == pid
    assert parse_job_message(v4("job-1", pid)).job.datasets[0].pid == pid


def test_ordinary_job_ids_are_accepted():
    for job_id in ("0b5c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d", "job.1", "a..b", "job-1"):
        assert check_job_id(job_id) == job_id


def test_escape_makes_control_characters_and_backslashes_visible():
    assert escape("a\nb\\c\x1b\u2028") == "a\\nb\\\\c\\x1b\\u2028"
    assert escape("plain ä/ü") == "plain ä/ü"


def test_a_newline_in_a_job_id_or_pid_cannot_forge_a_job_log_line(caplog):
    caplog.set_level(logging.INFO, "archiver.test")
    log = job_log("archiver.test", "evil\n[job forged] archive chain started")
    log.info("archive started")
    log.for_dataset("p\r\nq").error("failed: %s", "disk\nfull")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "[job evil\\n[job forged] archive chain started] archive started",
        "[job evil\\n[job forged] archive chain started dataset p\\r\\nq] failed: disk\\nfull",
    ]


def test_progress_warnings_log_the_job_id_escaped(caplog):
    from types import SimpleNamespace

    from archiver.storage.progress import JobProgress

    def emit(_event):
        raise OSError("broker gone")

    client = SimpleNamespace(generation="loopback")
    JobProgress(client, "j\n[job forged] x", emit)("Archiving", "p", 1, 1)  # type: ignore[arg-type]
    [line] = [r.getMessage() for r in caplog.records]
    assert line == "[job j\\n[job forged] x] progress event not sent: broker gone"
