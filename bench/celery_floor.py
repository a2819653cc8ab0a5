"""What a five-step Celery chain costs by itself, with the archiver's Celery settings.

``python -m bench.celery_floor [--chains N]`` starts ``celery -A bench.floor_app worker``
(prefork, the project's default concurrency, task events on, publisher confirms), queues
N chains of five no-op tasks and reports the CPU the worker and RabbitMQ spent per chain.
This is the floor under the pipeline's per-job cost before any SciCat call is made
(docs/performance.md).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from celery import chain

from bench.stack import broker_pids, cpu_seconds

ROOT = Path(__file__).resolve().parent.parent


def _queue_empty(app: Any, queue: str) -> bool:
    with app.connection_for_write() as conn:
        return conn.default_channel.queue_declare(queue, passive=True).message_count == 0


def run(chains: int = 500) -> dict[str, float]:
    queue = f"bench.floor.{uuid.uuid4().hex[:8]}"
    os.environ["FLOOR_QUEUE"] = queue
    from bench.floor_app import app, step  # reads FLOOR_QUEUE

    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "bench.floor_app", "worker", "--loglevel",
         "WARNING", "--hostname", f"{queue}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        chain(*[step.si(0) for _ in range(5)]).apply_async()  # warm-up, declares the queue
        time.sleep(5)
        worker_before = cpu_seconds(worker.pid)
        broker_before = sum(cpu_seconds(pid) for pid in broker_pids())
        started = time.monotonic()
        for n in range(chains):
            chain(*[step.si(n) for _ in range(5)]).apply_async()
        while not _queue_empty(app, queue):
            time.sleep(0.1)
        drained = time.monotonic() - started
        time.sleep(1.5)  # the last steps of the last chains finish
        worker_ms = (cpu_seconds(worker.pid) - worker_before) / chains * 1000
        broker_ms = (sum(cpu_seconds(pid) for pid in broker_pids()) - broker_before) / chains * 1000
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
    return {
        "chains": chains,
        "worker_cpu_ms_per_chain": round(worker_ms, 1),
        "rabbitmq_cpu_ms_per_chain": round(broker_ms, 1),
        "drain_s": round(drained, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=500, help="chains of five no-op tasks")
    figures = run(parser.parse_args(argv).chains)
    print(
        f"{figures['chains']} chains of 5 no-op tasks: worker {figures['worker_cpu_ms_per_chain']}"
        f" ms CPU per chain, RabbitMQ {figures['rabbitmq_cpu_ms_per_chain']} ms"
        f" (queue drained in {figures['drain_s']} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
