"""The bridge and the worker when the broker is unreachable or refuses the login.

* ``archiver bridge`` stops on SIGTERM and on Ctrl-C (SIGINT) while it waits for a broker
  that does not answer (it used to ignore both in kombu's retry loop).
* A wrong broker password gives one log line per attempt, naming the settings to check,
  with no traceback; the bridge keeps retrying (with backoff) and still stops on SIGTERM.
* ``celery -A archiver worker`` with a wrong password exits with one clear line.

The broker that refuses is the real RabbitMQ on 127.0.0.1:5672 with a wrong password.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from kombu.utils.url import parse_url

#: Liveness bound for a stopped process to exit (it should take about a second).
EXIT_BOUND = 10.0
WRONG_PASSWORD = "wrong-pw-4711"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVER_", "RMQ_"))}
    env.update(extra)
    return env


def start_bridge(log: Path, **env: str) -> subprocess.Popen:
    command = [sys.executable, "-c", "from archiver.cli.main import main; main()", "bridge"]
    return subprocess.Popen(
        command, env=clean_env(**env), stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


def wait_for_lines(log: Path, fragment: str, count: int, timeout: float = 60.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in log.read_text().splitlines() if fragment in line]
        if len(lines) >= count:
            return lines
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {count} lines with {fragment!r}:\n{log.read_text()}")
        time.sleep(0.1)


def stop_within_bound(process: subprocess.Popen, sig: int) -> int:
    process.send_signal(sig)
    try:
        return process.wait(EXIT_BOUND)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
        pytest.fail(f"still running {EXIT_BOUND:.0f} s after signal {sig}")


def closed_port() -> int:
    """A local TCP port where nothing listens."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_bridge_stops_on_a_signal_while_the_broker_is_unreachable(tmp_path, sig):
    log = tmp_path / "bridge.log"
    bridge = start_bridge(log, ARCHIVER_BROKER_URL=f"127.0.0.1:{closed_port()}")
    wait_for_lines(log, "broker unreachable", 2)  # in the retry pause now
    assert stop_within_bound(bridge, sig) == 0
    assert "bridge stopped" in log.read_text()


def refused_env(broker_url: str) -> dict[str, str]:
    parts = parse_url(broker_url)
    return {
        "ARCHIVER_BROKER_URL": f"{parts['hostname']}:{parts.get('port') or 5672}",
        "ARCHIVER_BROKER_USER": parts.get("userid") or "guest",
        "ARCHIVER_BROKER_PASSWORD": WRONG_PASSWORD,
        "ARCHIVER_JOB_QUEUE": f"test.refused.{uuid.uuid4().hex[:8]}",
    }


def test_a_refused_login_gives_one_line_per_attempt_naming_the_settings(tmp_path, broker_url):
    log = tmp_path / "bridge.log"
    bridge = start_bridge(log, **refused_env(broker_url))
    refused = wait_for_lines(log, "refused the login", 2)
    assert stop_within_bound(bridge, signal.SIGTERM) == 0
    text = log.read_text()
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[-1].startswith("bridge stopped")
    assert [line for line in lines[:-1] if "refused the login" not in line] == [], text
    for line in refused:
        assert "ARCHIVER_BROKER_URL" in line and "ARCHIVER_BROKER_PASSWORD" in line
        assert "ACCESS_REFUSED" in line and "retrying in" in line
    assert "Traceback" not in text and "Connection to broker lost" not in text
    assert WRONG_PASSWORD not in text
    # backoff: the pause grows from one attempt to the next
    pauses = [float(line.rsplit("retrying in ", 1)[1].rstrip("s")) for line in refused]
    assert pauses[1] > pauses[0]


def test_the_worker_with_a_wrong_password_exits_with_one_clear_line(tmp_path, broker_url):
    env = clean_env(**refused_env(broker_url), ARCHIVER_TASK_QUEUE=f"test.{uuid.uuid4().hex}")
    command = [sys.executable, "-m", "celery", "-A", "archiver", "worker", "--pool", "solo"]
    command += ["-n", f"refused-{uuid.uuid4().hex[:8]}@%h", "--without-mingle"]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail("the worker with a wrong password was still running after 90 s")
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Traceback" not in output, output
    [line] = [line for line in output.splitlines() if "refused the login" in line]
    assert "ARCHIVER_BROKER_USER" in line and "ARCHIVER_BROKER_PASSWORD" in line
    assert WRONG_PASSWORD not in output
