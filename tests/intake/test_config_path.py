"""One configuration path: what a command line or ARCHIVER_* says reaches every part.

* ``archiver --broker-url X --task-queue Y bridge`` publishes its chains to X, queue Y (the
  Celery app used to keep the environment's broker and queue while the bridge consumed
  from X).
* ``ARCHIVER_LOG_LEVEL`` sets the root logger's level of the ``archiver`` commands and of
  ``celery -A archiver worker`` (it used to stay INFO, and WARNING in the worker, whatever
  the setting said); the worker's own ``--loglevel`` still wins when given.

Every process here is a real one, started like an operator starts it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import kombu
import pytest

#: Liveness bound for a process to do what it was started for (seconds).
BOUND = 60.0
#: A broker address where nothing listens: the environment's value the flags must override.
NOWHERE = "127.0.0.1:1"
JOB = {
    "id": "",
    "type": "archive",
    "statusCode": "jobSubmitted",
    "statusMessage": "Job submitted.",
    "jobParams": {"username": "alice", "datasetList": [{"pid": "PID.X/ds1", "files": []}]},
    "jobResultObject": {},
}


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVER_", "RMQ_"))}
    env.update(extra)
    return env


def archiver(*args: str) -> list[str]:
    return [sys.executable, "-c", "from archiver.cli.main import main; main()", *args]


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def wait_for(what: str, found: object, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + BOUND
    while not found():  # type: ignore[operator]
        if process.poll() is not None:
            pytest.fail(f"exited with {process.returncode} before {what}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}:\n{log.read_text()}")
        time.sleep(0.2)


def queue_exists(broker_url: str, name: str) -> bool:
    with kombu.Connection(broker_url) as conn:
        try:
            conn.channel().queue_declare(name, passive=True)
        except Exception:  # noqa: BLE001 - not declared yet
            return False
    return True


def test_bridge_flags_reach_the_published_chain(broker_url, unique_names, tmp_path):
    names = unique_names
    task_queue = kombu.Queue(
        names["task_queue"], kombu.Exchange(names["task_queue"]), names["task_queue"]
    )
    with kombu.Connection(broker_url) as conn:
        task_queue(conn.channel()).declare()
    flags = [
        *("--broker-url", broker_url, "--task-queue", names["task_queue"]),
        *("--job-exchange", names["exchange"], "--job-queue", names["queue"]),
        *("--job-routing-key", names["routing_key"], "--quarantine-queue", names["quarantine"]),
    ]
    env = clean_env(ARCHIVER_BROKER_URL=NOWHERE, ARCHIVER_TASK_QUEUE="test.tasks.wrong")
    log = tmp_path / "bridge.log"
    bridge = subprocess.Popen(
        archiver(*flags, "bridge"),
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    job_id = f"job-{uuid.uuid4().hex[:8]}"
    try:
        wait_for("the job queue", lambda: queue_exists(broker_url, names["queue"]), bridge, log)
        with kombu.Connection(broker_url) as conn:
            conn.Producer().publish(
                json.dumps({**JOB, "id": job_id}),
                exchange=names["exchange"],
                routing_key=names["routing_key"],
            )
            queue = conn.SimpleQueue(task_queue)
            try:
                message = queue.get(timeout=BOUND)
            finally:
                queue.close()
            message.ack()
    finally:
        stop(bridge)
    assert message.headers["task"] == "archiver.job.in_progress"
    assert job_id in json.dumps(message.decode())


def root_level_of(command: str, **env: str) -> str:
    code = (
        "import logging\nfrom archiver.cli.main import cli\n"
        f"cli({command.split()!r}, standalone_mode=False)\n"
        "print(logging.getLevelName(logging.getLogger().level))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=clean_env(**env), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


@pytest.mark.parametrize("level", ["DEBUG", "WARNING"])
def test_log_level_setting_reaches_the_root_logger(level):
    assert root_level_of("config", ARCHIVER_LOG_LEVEL=level.lower()) == level


def test_log_level_flag_wins_over_the_environment():
    assert root_level_of("--log-level error config", ARCHIVER_LOG_LEVEL="DEBUG") == "ERROR"


def start_worker(
    broker_url: str, queue: str, log: Path, *args: str, **env: str
) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "archiver", "worker", "--pool", "solo"]
    command += ["--without-mingle", "--without-gossip", "--without-heartbeat", *args]
    return subprocess.Popen(
        command,
        env=clean_env(ARCHIVER_BROKER_URL=broker_url, ARCHIVER_TASK_QUEUE=queue, **env),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.mark.parametrize(
    ("args", "env"),
    [
        ((), {"ARCHIVER_LOG_LEVEL": "info"}),
        (("--loglevel", "INFO"), {"ARCHIVER_LOG_LEVEL": "error"}),
    ],
    ids=["setting", "worker-flag-wins"],
)
def test_worker_logs_at_the_configured_level(broker_url, tmp_path, args, env):
    """Celery's ``ready.`` line is logged at INFO: with the worker's default (WARNING) it
    was never shown, whatever ARCHIVER_LOG_LEVEL said."""
    queue = f"test.tasks.{uuid.uuid4().hex[:10]}"
    log = tmp_path / "worker.log"
    worker = start_worker(broker_url, queue, log, *args, **env)
    try:
        wait_for("the worker's ready line", lambda: re.search(r"@\S+ ready\.", log.read_text()),
                 worker, log)  # fmt: skip
    finally:
        stop(worker)
        with kombu.Connection(broker_url) as conn:
            conn.channel().queue_delete(queue)
            conn.channel().exchange_delete(queue)
