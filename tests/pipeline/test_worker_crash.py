"""Killing the worker (SIGKILL, whole process group) in the middle of a chain loses
nothing: the unacknowledged step is redelivered to a new worker, which finishes the job
without creating a DataBlock twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

from .conftest import Pipeline, wait_until
from .helpers import seed, submit


def start_worker_process(pipe: Pipeline, log: Path) -> subprocess.Popen:
    s = pipe.settings
    env = dict(os.environ)
    env.update(
        {
            "ARCHIVER_SCICAT_URL": s.scicat_url,
            "ARCHIVER_SCICAT_USER": s.scicat_user,
            "ARCHIVER_SCICAT_PASSWORD": s.scicat_password,
            "ARCHIVER_BROKER_URL": s.broker,
            "ARCHIVER_TASK_QUEUE": s.task_queue,
            "ARCHIVER_SIMULATED_SECONDS": str(s.simulated_seconds),
            "ARCHIVER_RETRY_BACKOFF_MAX": "1",
        }
    )
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "archiver",
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        "2",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        # a name of its own: the remote-control queue of a worker name is exclusive
        "--hostname",
        f"crash-test-{uuid.uuid4().hex[:8]}@%h",
    ]
    return subprocess.Popen(
        command,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill_group(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)


def test_a_killed_worker_is_replaced_and_the_job_finishes_without_duplicates(
    pipeline_factory, tmp_path
):
    pipe = pipeline_factory(flavour="next", worker=False, simulated_seconds=1.0)
    pids = seed(pipe, 3)
    log = tmp_path / "worker.log"
    first = start_worker_process(pipe, log)
    try:
        job_id = submit(pipe, "archive", pids)
        # kill while add_datablocks is half way: first dataset done, last not yet
        wait_until(
            lambda: pipe.emulator.datablocks(pids[0]) and not pipe.emulator.datablocks(pids[2]),
            what="add_datablocks to be half way",
        )
    finally:
        kill_group(first)
    assert not pipe.job_status(job_id).startswith("finished")
    second = start_worker_process(pipe, log)
    try:
        job = pipe.wait_finished(job_id)
    finally:
        second.terminate()
        second.wait(30)
    assert job["statusCode"] == "finishedSuccessful", log.read_text()[-3000:]
    for pid in pids:
        ids = Counter(b["archiveId"] for b in pipe.emulator.datablocks(pid))
        assert list(ids.values()) == [1], ids
        assert pipe.lifecycle(pid)["archiveStatusMessage"] == "datasetOnArchiveDisk"
