"""``archiver emulator`` starts, serves and stops."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ARCHIVER = Path(sys.executable).parent / "archiver"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(*args):
    env = {**os.environ, "ARCHIVER_BROKER_PASSWORD": "s3cret-pw"}
    return subprocess.Popen(
        [str(ARCHIVER), "emulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait(url, proc):
    for _ in range(100):
        try:
            return requests.get(url + "/api/v3/health", timeout=1)
        except requests.exceptions.ConnectionError:
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.1)
    raise AssertionError("emulator did not start")


def test_the_cli_serves_until_terminated_and_masks_the_broker_password():
    port = _free_port()
    proc = _start("--port", str(port), "--flavour", "next", "--seed-examples", "2")
    try:
        url = f"http://127.0.0.1:{port}"
        assert _wait(url, proc).status_code == 200
        line = proc.stdout.readline()
        assert f"listening on {url}" in line and "(next)" in line
        assert "s3cret-pw" not in line and "***" in line
        pids = [proc.stdout.readline().strip() for _ in range(2)]
        assert all(p.startswith("PID.SAMPLE.PREFIX/") for p in pids)
        login = {"username": "admin", "password": "2jf70TPNZsS"}
        assert requests.post(url + "/api/v3/auth/login", json=login).status_code == 201
        state = requests.get(url + "/emulator/state").json()
        assert len(state["datasets"]) == 2 and len(state["origdatablocks"]) == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_the_cli_can_run_the_loopback_flavour_without_publishing():
    port = _free_port()
    proc = _start("--port", str(port), "--flavour", "loopback", "--amqp-url", "none")
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(url + "/api/v3/Datasets", timeout=1)
                break
            except requests.exceptions.ConnectionError:
                time.sleep(0.1)
        line = proc.stdout.readline()
        assert "(loopback)" in line and "publishes nothing" in line
        login = {"username": "admin", "password": "2jf70TPNZsS"}
        assert requests.post(url + "/api/v3/Users/login", json=login).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


def test_the_help_text_documents_the_admin_api():
    out = subprocess.run([str(ARCHIVER), "emulator", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for word in ("/emulator/state", "/emulator/faults", "--no-lifecycle-route", "--seed-examples"):
        assert word in out.stdout
