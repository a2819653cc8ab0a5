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
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import check_all, seed_many, submit_many, wait_all, wait_until

pytestmark = pytest.mark.faults


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


@pytest.mark.xfail(
    reason="intermittent open bug: a chain can be lost when the broker stops mid-run "
    "(docs/reliability.md); passes on most runs",
    strict=False,
)
def test_a_broker_restart_during_a_run_loses_no_job(private_node, pipeline_factory):
    pipe = pipeline_factory(flavour="next", publish_on=("create", "update"),
                            simulated_seconds=0.2)  # fmt: skip
    pids = seed_many(pipe, 40)
    before = submit_many(pipe, pids[:20])
    wait_until(lambda: pipe.job_status(before[0]).startswith("finished"), 60, "a first job")
    private_node.stop_app()  # jobs are in flight: queued, half-way, being acknowledged
    time.sleep(5)
    private_node.start_app()
    wait_until(lambda: pipe.bridge.ready, 90, "the bridge to reconnect")
    after = submit_many(pipe, pids[20:])
    wait_all(pipe, before + after, timeout=60)
    check_all(pipe, before + after, pids, expect="finishedSuccessful")
