"""The README's first command: ``archiver demo`` archives and retrieves the examples, with
the real RabbitMQ when it answers and with an embedded broker when none does."""

from __future__ import annotations

import os
import subprocess
import sys

import kombu

DEMO = [sys.executable, "-c", "from archiver.cli.main import main; main()", "demo", "--pause", "0"]


def run_demo(broker: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVER_", "RMQ_", "SCI_"))}
    env["ARCHIVER_BROKER_URL"] = broker
    return subprocess.run(DEMO, env=env, capture_output=True, text=True, timeout=300)


def test_demo_runs_on_the_configured_rabbitmq_and_cleans_up(broker_url):
    done = run_demo(broker_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "broker:  RabbitMQ at amqp://guest:***@" in done.stdout
    assert "guest:guest" not in done.stdout + done.stderr
    assert done.stdout.count("-> 'finishedSuccessful'") == 2
    assert "Both jobs finished successfully." in done.stdout
    queue = next(
        line.split()[-1] for line in done.stdout.splitlines() if "bridge consuming" in line
    )
    tag = queue.split(".")[2]  # archiver.demo.<tag>.jobs
    assert not declared(broker_url, "queue", queue)
    # its exchanges too: the job exchange and the task queue's exchange of the same name
    for exchange in (f"archiver.demo.{tag}", f"archiver.demo.{tag}.tasks"):
        assert not declared(broker_url, "exchange", exchange), exchange
    assert_summary_aligned(done.stdout)


def declared(broker_url: str, kind: str, name: str) -> bool:
    with kombu.Connection(broker_url) as conn:
        channel = conn.channel()
        try:
            if kind == "queue":
                channel.queue_declare(name, passive=True)
            else:
                channel.exchange_declare(name, "direct", passive=True)
            return True
        except Exception:  # noqa: BLE001 - NOT_FOUND: deleted, as it should be
            return False


def assert_summary_aligned(stdout: str) -> None:
    lines = stdout.splitlines()
    start = lines.index("4. Summary (what SciCat now holds)") + 1
    header, rows = lines[start], [line for line in lines[start + 1 :] if "PID" in line][:3]
    assert rows, stdout
    for title, value in (("archive status", "datasetOnArchiveDisk"), ("blocks", "1")):
        for row in rows:
            column = header.index(title)
            assert row[column:].startswith(value), f"{title!r} misaligned:\n{header}\n{row}"
            assert row[column - 1] == " " and row[column - 2] == " "


def test_demo_runs_without_rabbitmq_on_an_embedded_broker():
    done = run_demo("127.0.0.1:1")  # nothing listens there
    assert done.returncode == 0, done.stdout + done.stderr
    assert "embedded in-memory broker" in done.stdout
    assert done.stdout.count("-> 'finishedSuccessful'") == 2
    assert "datasetRetrieved" in done.stdout
