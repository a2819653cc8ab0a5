"""``archiver emulator`` starts, serves and stops."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
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


def _login(url, username, password):
    answer = requests.post(
        url + "/api/v3/auth/login", json={"username": username, "password": password}
    )
    return {"Authorization": "Bearer " + answer.json()["access_token"]}


def _datablock_delete_status(url):
    """Seed a dataset with a DataBlock through the admin API; admin deletes it: the status."""
    pid = requests.post(url + "/emulator/datasets", json={}).json()["pid"]
    quoted = urllib.parse.quote(pid, safe="")
    files = [{"path": "a", "size": 1, "time": "2024-01-01T00:00:00Z"}]
    block = {
        "archiveId": f"/x/{pid}",
        "size": 1,
        "packedSize": 1,
        "version": "1",
        "dataFileList": files,
    }
    headers = _login(url, "admin", "2jf70TPNZsS")
    made = requests.post(f"{url}/api/v3/datasets/{quoted}/datablocks", json=block, headers=headers)
    path = f"{url}/api/v3/datasets/{quoted}/datablocks/{made.json()['_id']}"
    return requests.delete(path, headers=headers).status_code


def _run(*args):
    port = _free_port()
    proc = _start("--port", str(port), "--amqp-url", "none", *args)
    url = f"http://127.0.0.1:{port}"
    _wait(url, proc)
    return proc, url


def test_the_cli_serves_the_scicatlive_profile_by_default_and_says_so():
    proc, url = _run()
    try:
        line = proc.stdout.readline()
        assert "permissions scicatlive" in line and "DELETE_GROUPS=archivemanager" in line
        assert _datablock_delete_status(url) == 403
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


@pytest.mark.parametrize(
    "args,line_has",
    [(("--profile", "permissive"), "permissions permissive"),
     (("--group", "DELETE_GROUPS=admin,archivemanager"), "DELETE_GROUPS=admin,archivemanager")],
)  # fmt: skip
def test_the_cli_takes_a_profile_and_single_group_settings(args, line_has):
    proc, url = _run(*args)
    try:
        assert line_has in proc.stdout.readline()
        assert _datablock_delete_status(url) == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_the_cli_emulates_a_next_version():
    proc, url = _run("--flavour", "next-legacy", "--backend-version", "4.13")
    try:
        proc.stdout.readline()
        answer = requests.get(url + "/api/v3/Jobs", headers=_login(url, "admin", "2jf70TPNZsS"))
        assert answer.status_code == 403 and answer.json()["message"] == "Forbidden resource"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


@pytest.mark.parametrize(
    "args,words",
    [(("--group", "DELETE_GROUP=admin"), "DELETE_GROUPS"),
     (("--backend-version", "4.13"), "4.14 or later"),
     (("--flavour", "next-legacy", "--backend-version", "5.0"), "4.0 to 4.13"),
     (("--flavour", "loopback", "--backend-version", "3.0"), "not loopback")],
)  # fmt: skip
def test_bad_permission_or_version_options_stop_with_one_line_that_says_what_to_use(args, words):
    out = subprocess.run([str(ARCHIVER), "emulator", "--amqp-url", "none", *args],
                         capture_output=True, text=True, timeout=30)  # fmt: skip
    assert out.returncode == 2 and words in out.stderr
    assert "Traceback" not in out.stderr
