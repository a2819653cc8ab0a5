"""Flower shows a job's steps: a real Flower on the test broker, a job through the pipeline.

Flower runs as ``celery -A archiver flower`` in a subprocess with basic auth. An archive
job goes through the real intake path (emulator -> RabbitMQ -> bridge -> embedded worker)
with the display options of :mod:`archiver.flower_names`. The test then checks, through
Flower's HTTP API and through the tasks page rendered by headless Chromium, that every step
of the job is listed under its step name with the job id, the dataset pids and its state, and
saves a screenshot to ``test-artifacts/flower-tasks.png``.

Chromium is Debian's ``chromium`` package (``.ci/run`` installs it); when it is missing
the test fails, it never skips.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import requests
from support.helpers import seed, submit
from support.pipeline import wait_until

from archiver.flower_names import TASKS_COLUMNS
from archiver.plan import STEPS

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = ROOT / "test-artifacts" / "flower-tasks.png"
CELERY = Path(sys.executable).parent / "celery"
AUTH = ("flower-test", "flower-test-pw")


def chromium_path() -> str:
    """Debian's chromium; the test fails (never skips) when it is not installed."""
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if not found:
        pytest.fail("Chromium is required (apt-get install chromium; .ci/run installs it)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def flower(broker_url: str, tmp_path: Path) -> Iterator[str]:
    """A Flower on a free port with basic auth; yields its base URL."""
    port = free_port()
    log = tmp_path / "flower.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVER_", "FLOWER_"))}
    env["ARCHIVER_BROKER_URL"] = broker_url
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                str(CELERY), "-A", "archiver", "flower", f"--port={port}",
                "--address=127.0.0.1", f"--basic-auth={AUTH[0]}:{AUTH[1]}",
                f"--tasks-columns={TASKS_COLUMNS}",
            ],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert proc.poll() is None, f"flower exited:\n{log.read_text()}"
        try:
            answer = requests.get(url + "/healthcheck", auth=AUTH, timeout=1)
        except requests.ConnectionError:
            return False
        # Flower logs "Connected to amqp://..." once its event receiver consumes.
        return answer.status_code == 200 and "Connected to" in log.read_text()

    try:
        wait_until(ready, 30, "flower to start")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def job_tasks(url: str, job_id: str) -> list[dict[str, Any]]:
    """The tasks Flower knows for ``job_id`` (found by the id in their args)."""
    answer = requests.get(url + "/api/tasks", auth=AUTH, timeout=5)
    answer.raise_for_status()
    return [t for t in answer.json().values() if f"job {job_id}" in str(t.get("args"))]


def table_rows(html: str) -> list[dict[str, str]]:
    """Name, args and state of each row of Flower's rendered tasks table."""
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    assert body, "the tasks page has no table body"
    rows = []
    for row in re.findall(r"<tr\b[^>]*>(.*?)</tr>", body.group(1), re.S):
        cells = [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<td\b[^>]*>(.*?)</td>", row, re.S)
        ]
        columns = TASKS_COLUMNS.split(",")
        if len(cells) == len(columns):
            rows.append({c: unescape(v) for c, v in zip(columns, cells, strict=True)})
    return rows


def chromium(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with a throw-away profile and no background traffic."""
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                chromium_path(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=1400,900",
                "--virtual-time-budget=8000", *args,
            ],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip


@pytest.mark.parametrize("path", ["/", "/tasks", "/api/tasks", "/metrics", "/healthcheck"])
def test_flower_without_credentials_is_refused_on_every_path(flower, path):
    assert requests.get(flower + path, timeout=5).status_code == 401
    wrong = requests.get(flower + path, auth=(AUTH[0], "wrong"), timeout=5)
    assert wrong.status_code == 401


def test_flower_with_credentials_answers_metrics_and_healthcheck(flower):
    assert requests.get(flower + "/healthcheck", auth=AUTH, timeout=5).text == "OK"
    metrics = requests.get(flower + "/metrics", auth=AUTH, timeout=5)
    assert metrics.status_code == 200 and "flower_" in metrics.text


def test_flower_lists_the_steps_of_a_job_with_their_states(flower, pipeline_factory):
    browser = chromium_path()  # fail early, before any work, when Chromium is missing
    pipe = pipeline_factory()
    pids = seed(pipe, count=2)
    job_id = submit(pipe, "archive", pids)
    job = pipe.wait_finished(job_id)
    assert job["statusCode"] == "finishedSuccessful", job

    steps = STEPS["archive"]
    expected = set(steps)
    label = f"archive job {job_id}; 2 datasets: {pids[0]}, {pids[1]}"

    def all_succeeded() -> list[dict[str, Any]] | None:
        tasks = job_tasks(flower, job_id)
        done = {t["name"] for t in tasks if t["state"] == "SUCCESS"}
        return tasks if expected <= done else None

    tasks = wait_until(all_succeeded, 30, f"flower to show the {len(steps)} steps as SUCCESS")
    assert len(tasks) == len(steps)
    for task in tasks:
        assert task["args"] == label

    # The tasks page as a browser renders it (the table is filled by JavaScript).
    page = f"http://{AUTH[0]}:{AUTH[1]}@{flower.removeprefix('http://')}/tasks"
    dom = chromium("--dump-dom", page)
    assert dom.returncode == 0, dom.stderr[-2000:]
    rows = table_rows(dom.stdout)
    shown = {row["name"]: row for row in rows if row["args"] == label}
    assert set(shown) == expected, f"rows of job {job_id} on the tasks page: {rows}"
    assert {row["state"] for row in shown.values()} == {"SUCCESS"}

    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.unlink(missing_ok=True)
    shot = chromium(f"--screenshot={ARTIFACT}", page)
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert ARTIFACT.exists() and ARTIFACT.stat().st_size > 10_000
    assert ARTIFACT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert browser
