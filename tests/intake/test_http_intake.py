"""The HTTP intake on its own: what each request gets, and what reaches the real RabbitMQ
(a Celery app of the test's own, publishing to a per-test task queue)."""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery

import celeryconfig
from archiver.errors import ConfigError
from archiver.intake.basic_auth import credentials, parse_basic
from archiver.intake.http_intake import IntakeServer
from archiver.settings import Settings

from .test_job_intake import queued, v4_job

USER, PASSWORD = "scicat", "s3cret:with-colon"
#: A port nothing listens on: a broker that is down.
DEAD_BROKER = "amqp://guest:guest@127.0.0.1:9//"


def basic(user: str = USER, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def start_server(broker_url: str, task_queue: str, **extra: Any) -> tuple[IntakeServer, Celery]:
    values: dict[str, Any] = {
        "broker_url": broker_url,
        "task_queue": task_queue,
        "serve_user": USER,
        "serve_password": PASSWORD,
    }
    values.update(extra)
    settings = Settings(**values)
    app = Celery("http-intake-test")
    app.conf.update(celeryconfig.from_settings(settings))
    return IntakeServer(app, settings, host="127.0.0.1", port=0).start(), app


@pytest.fixture
def served(broker_url: str, unique_names: dict[str, str]) -> Iterator[tuple[IntakeServer, str]]:
    server, app = start_server(broker_url, unique_names["task_queue"])
    yield server, unique_names["task_queue"]
    server.stop()
    app.close()


def call(
    server: IntakeServer,
    method: str,
    path: str,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(str(host), port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        answer = conn.getresponse()
        data = answer.read()
        return answer.status, json.loads(data), {k.lower(): v for k, v in answer.getheaders()}
    finally:
        conn.close()


def post_job(server: IntakeServer, body: bytes | str, auth: str | None = None):
    headers = {"Authorization": auth or basic(), "Content-Type": "text/plain;charset=UTF-8"}
    return call(server, "POST", "/jobs", body, headers)


def test_a_new_job_is_answered_202_once_its_first_step_is_on_the_task_queue(served, broker_url):
    server, queue = served
    status, answer, _ = post_job(server, v4_job("job-http-1"))
    assert (status, answer) == (202, {"outcome": "started", "reason": "new job"})
    [task] = queued(broker_url, queue)
    assert task["task"] == "archiver.job.in_progress" and task["id"].startswith("job-http-1:")


def test_echoes_other_job_types_and_duplicates_are_answered_200_without_a_chain(served, broker_url):
    server, queue = served
    assert post_job(server, v4_job("job-a"))[0] == 202
    assert len(queued(broker_url, queue)) == 1
    status, answer, _ = post_job(server, v4_job("job-a"))
    assert (status, answer["outcome"], answer["reason"]) == (200, "dropped", "duplicate")
    status, answer, _ = post_job(server, v4_job("job-b", status="inProgress"))
    assert status == 200 and "update echo" in answer["reason"]
    status, answer, _ = post_job(server, v4_job("job-c", job_type="public"))
    assert status == 200 and "'public' is not handled" in answer["reason"]
    assert queued(broker_url, queue) == []
    assert server.counts == {"started": 1, "dropped": 3, "refused": 0, "unavailable": 0}


@pytest.mark.parametrize(
    ("auth", "why"),
    [
        (None, "no header"),
        (basic(PASSWORD, USER), "swapped"),
        (basic(USER, "wrong"), "wrong password"),
        ("Bearer " + PASSWORD, "another scheme"),
        ("Basic not-base64!", "not base64"),
    ],
)
def test_a_post_without_the_right_credentials_gets_401_with_a_challenge_and_starts_nothing(
    served, broker_url, auth, why
):
    server, queue = served
    headers = {} if auth is None else {"Authorization": auth}
    status, answer, got = call(server, "POST", "/jobs", v4_job("job-x"), headers)
    assert status == 401, why
    assert got["www-authenticate"].startswith('Basic realm="scicat-archiver"')
    assert "ARCHIVER_SERVE_USER" in answer["error"] and PASSWORD not in json.dumps(answer)
    assert queued(broker_url, queue) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe", "not UTF-8"),
        ("{not json", "not JSON"),
        ("[1, 2]", "JSON list, not an object"),
        ('{"type": "archive", "statusCode": "jobSubmitted"}', "no id"),
        ('{"id": "j", "type": "archive"}', "unknown job shape"),
    ],
)
def test_an_unusable_body_gets_400_with_the_reason(served, broker_url, body, reason):
    server, queue = served
    status, answer, _ = post_job(server, body)
    assert status == 400
    assert answer["error"].startswith("unusable job: ") and reason in answer["error"]
    assert "\n" not in answer["error"]
    assert queued(broker_url, queue) == []


def test_a_body_too_large_or_without_length_is_refused(served):
    server, _ = served
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(str(host), port, timeout=30)
    conn.putrequest("POST", "/jobs")
    conn.putheader("Authorization", basic())
    conn.putheader("Content-Length", str(2 * 1024 * 1024))
    conn.endheaders()
    answer = conn.getresponse()
    assert answer.status == 413 and b"more than" in answer.read()
    conn.close()
    conn = http.client.HTTPConnection(str(host), port, timeout=30)
    conn.putrequest("POST", "/jobs")
    conn.putheader("Authorization", basic())
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    answer = conn.getresponse()
    assert answer.status == 411 and b"Content-Length" in answer.read()
    conn.close()


def test_unknown_paths_and_wrong_methods_get_404_and_405(served):
    server, _ = served
    assert call(server, "POST", "/other", "{}", {"Authorization": basic()})[0] == 404
    status, _, headers = call(server, "GET", "/jobs")
    assert (status, headers["allow"]) == (405, "POST")
    status, _, headers = call(server, "POST", "/health", "")
    assert (status, headers["allow"]) == (405, "GET")


def test_health_answers_200_while_the_broker_is_reachable(served):
    server, _ = served
    status, answer, _ = call(server, "GET", "/health")
    assert (status, answer) == (200, {"status": "ok", "broker": "reachable"})


def test_with_the_broker_down_a_job_gets_503_with_retry_after_and_health_says_so(
    broker_url, unique_names
):
    server, app = start_server(DEAD_BROKER, unique_names["task_queue"])
    try:
        status, answer, headers = post_job(server, v4_job("job-down"))
        assert status == 503 and headers["retry-after"] == "30"
        assert "the broker did not accept the job's chain" in answer["error"]
        assert "send the job again" in answer["error"]
        assert "guest" not in answer["error"]
        status, answer, _ = call(server, "GET", "/health")
        assert status == 503 and answer["status"] == "unavailable"
        # Nothing was remembered: the same job is taken once the broker is back.
        assert "job-down" not in server.intake.taken
    finally:
        server.stop()
        app.close()


def test_the_credentials_come_from_the_environment_or_a_file_and_are_checked(tmp_path):
    assert credentials(Settings(serve_user="u", serve_password="p")).password == "p"
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    found = credentials(Settings(serve_user="u", serve_password_file=str(secret)))
    assert found.password == "from-file" and "from-file" not in repr(found)
    with pytest.raises(ConfigError, match="ARCHIVER_SERVE_USER and ARCHIVER_SERVE_PASSWORD"):
        credentials(Settings(serve_user="u"))
    with pytest.raises(ConfigError, match="keep one"):
        credentials(Settings(serve_user="u", serve_password="p", serve_password_file=str(secret)))
    with pytest.raises(ConfigError, match="cannot read"):
        credentials(Settings(serve_user="u", serve_password_file=str(tmp_path / "none")))
    with pytest.raises(ConfigError, match="must not contain ':'"):
        credentials(Settings(serve_user="a:b", serve_password="p"))


def test_basic_headers_are_parsed_strictly():
    assert parse_basic(basic("u", "p:q")) == ("u", "p:q")
    assert parse_basic("basic " + base64.b64encode(b"u:").decode()) == ("u", "")
    assert parse_basic("Basic " + base64.b64encode(b"no-colon").decode()) is None
    assert parse_basic("") is None and parse_basic(None) is None


def _serve_env(broker_url: str, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
    env.update(ARCHIVER_BROKER_URL=broker_url, ARCHIVER_SERVE_PORT=str(port), **extra)
    return env


def test_archiver_serve_without_credentials_stops_with_one_line_naming_the_settings(broker_url):
    done = subprocess.run(
        [sys.executable, "-c", "from archiver.cli.main import main; main()", "serve"],
        env=_serve_env(broker_url, 8090),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 78, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "ARCHIVER_SERVE_USER and ARCHIVER_SERVE_PASSWORD" in line


def test_archiver_serve_answers_health_and_stops_on_sigterm(broker_url, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    secret = tmp_path / "password"
    secret.write_text(PASSWORD)
    env = _serve_env(
        broker_url, port, ARCHIVER_SERVE_USER=USER, ARCHIVER_SERVE_PASSWORD_FILE=str(secret)
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", "from archiver.cli.main import main; main()", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        while "HTTP intake on" not in (line := proc.stderr.readline()):
            assert line, "archiver serve ended before listening"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/health")
        assert conn.getresponse().status == 200
        conn.close()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "HTTP intake stopped" in out and PASSWORD not in out + err


@pytest.mark.parametrize("problem", ["no credentials", "port in use"])
def test_a_worker_with_serve_that_cannot_start_the_intake_stops_with_one_line(broker_url, problem):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        extra = {"ARCHIVER_TASK_QUEUE": f"test.serve.{uuid.uuid4().hex}"}
        if problem == "port in use":
            extra.update(ARCHIVER_SERVE_USER=USER, ARCHIVER_SERVE_PASSWORD=PASSWORD)
        command = [sys.executable, "-m", "celery", "-A", "archiver", "worker", "--pool", "solo"]
        command += ["--with-serve", "-n", f"serve-{uuid.uuid4().hex[:8]}@%h"]
        done = subprocess.run(
            command, env=_serve_env(broker_url, port, **extra), capture_output=True, text=True,
            timeout=90,
        )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "Traceback" not in output, output
    [line] = [line for line in output.splitlines() if "HTTP intake (--with-serve)" in line]
    words = "ARCHIVER_SERVE_USER" if problem == "no credentials" else "cannot listen on"
    assert words in line and PASSWORD not in output
