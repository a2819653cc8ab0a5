"""RabbitMQ is stopped and started again during a run: the bridge and the worker reconnect
by themselves and every job finishes, with no duplicate DataBlock and nothing stuck.

The shared broker on 5672 is never touched: this module starts a private RabbitMQ node on
free ports (its own config, data and log folders) and stops/starts its application. It
needs ``rabbitmq-server`` and ``rabbitmqctl``; without them the test fails, never skips.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from kombu import Connection
from support.helpers import worker_process

import celeryconfig
from archiver.settings import Settings

from .conftest import check_all, seed_many, submit_many, wait_all, wait_until

pytestmark = pytest.mark.faults

JOBS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class PrivateNode:
    """A RabbitMQ node of this test only."""

    def __init__(self) -> None:
        for tool in ("rabbitmq-server", "rabbitmqctl"):
            if shutil.which(tool) is None:
                pytest.fail(f"{tool} is required for the broker-restart scenario")
        self.name = f"archiver-faults-{uuid.uuid4().hex[:8]}@localhost"
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="archiver-rmq-"))
        for sub in ("mnesia", "log"):
            (self.folder / sub).mkdir()
        (self.folder / "plugins").write_text("")
        (self.folder / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
        )
        self._give_to_rabbitmq()
        self.env = dict(
            os.environ,
            RABBITMQ_NODENAME=self.name,
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(free_port()),
            RABBITMQ_CONFIG_FILE=str(self.folder / "rabbitmq.conf"),
            RABBITMQ_MNESIA_BASE=str(self.folder / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.folder / "log"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.folder / "plugins"),
            RABBITMQ_PID_FILE=str(self.folder / "pid"),
        )

    def _give_to_rabbitmq(self) -> None:
        """The server drops to the rabbitmq user when started as root."""
        try:
            user = pwd.getpwnam("rabbitmq")
        except KeyError:
            return
        self.folder.chmod(0o755)
        for path in [self.folder, *self.folder.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def ctl(self, *args: str) -> None:
        subprocess.run(["rabbitmqctl", "-n", self.name, *args], env=self.env, check=True,
                       capture_output=True, timeout=60)  # fmt: skip

    def start(self) -> None:
        subprocess.run(["rabbitmq-server", "-detached"], env=self.env, check=True, timeout=60)
        wait_until(lambda: port_open(self.port), 60, f"RabbitMQ node {self.name}")

    def stop_app(self) -> None:
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        wait_until(lambda: port_open(self.port), 60, "RabbitMQ to accept connections again")

    def stop(self) -> None:
        try:
            self.ctl("stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def private_node() -> Iterator[PrivateNode]:
    node = PrivateNode()
    node.start()
    yield node
    node.stop()


@pytest.fixture
def broker_url(private_node: PrivateNode) -> str:
    """Every fixture of this module (pipeline, queue names) uses the private node."""
    return private_node.url


def test_a_broker_restart_during_a_run_loses_no_job(private_node, pipeline_factory, tmp_path):
    # the production worker (prefork, in its own process) and the bridge both lose the broker
    pipe = pipeline_factory(flavour="next", publish_on=("create", "update"), worker=False,
                            simulated_seconds=0.05)  # fmt: skip
    pids = seed_many(pipe, JOBS)
    log = tmp_path / "worker.log"
    worker = worker_process(pipe, log, concurrency=4)
    try:
        before = submit_many(pipe, pids[: JOBS // 2])
        served = len(pipe.emulator.request_log)
        wait_until(lambda: len(pipe.emulator.request_log) > served + 100, 60, "work in flight")
        private_node.stop_app()  # jobs are in flight: queued, half-way, being acknowledged
        time.sleep(10)  # longer than Celery's default publish retries
        private_node.start_app()
        wait_until(lambda: pipe.bridge.ready, 90, "the bridge to reconnect")
        after = submit_many(pipe, pids[JOBS // 2 :])
        wait_all(pipe, before + after, timeout=120)
    finally:
        worker.terminate()
        worker.wait(30)
    check_all(pipe, before + after, pids, expect="finishedSuccessful")


def test_a_publish_waits_for_a_broker_that_comes_back(private_node):
    """While RabbitMQ is down, a task publish (the bridge's chain, a step's next step) keeps
    retrying and lands once the broker is back, instead of giving up after a second or two
    and dropping the step."""
    queue = f"test.publish.{uuid.uuid4().hex[:8]}"
    settings = Settings(broker_url=private_node.url, task_queue=queue)
    publisher = Celery("publish-test", set_as_current=False)
    publisher.config_from_object(celeryconfig.from_settings(settings))
    publisher.send_task("archiver.job.in_progress", args=["declare the queue"])
    outcome: list[BaseException | str] = []

    def publish() -> None:
        try:
            publisher.send_task("archiver.job.in_progress", args=["during the outage"])
            outcome.append("published")
        except BaseException as exc:  # noqa: BLE001 - the verdict is below
            outcome.append(exc)

    private_node.stop_app()
    thread = threading.Thread(target=publish, daemon=True)
    thread.start()
    time.sleep(8)  # longer than Celery's default publish retry (3 tries, about 1 s)
    private_node.start_app()
    thread.join(90)
    assert outcome == ["published"]
    with Connection(private_node.url) as conn:
        bodies = []
        with conn.SimpleQueue(queue, no_ack=True) as simple:
            while True:
                try:
                    bodies.append(simple.get(timeout=2).payload)
                except simple.Empty:
                    break
    assert [args for args, _kwargs, _embed in bodies] == [
        ["declare the queue"],
        ["during the outage"],
    ]
