"""The worker process group is SIGKILLed again and again while 200 jobs run; each time a
new worker starts. Every job still finishes, with no DataBlock created twice."""

from __future__ import annotations

import random
import time

import pytest
from support.helpers import kill_group, worker_process

from .conftest import check_all, seed_many, submit_many, unfinished, wait_all, wait_until

pytestmark = pytest.mark.faults

JOBS = 200
KILLS = 4


def test_repeatedly_killed_worker_loses_nothing(pipeline_factory, tmp_path):
    pipe = pipeline_factory(flavour="next", worker=False, simulated_seconds=0.15)
    pids = seed_many(pipe, JOBS)
    log = tmp_path / "worker.log"
    job_ids = submit_many(pipe, pids)
    kills = 0
    for _ in range(KILLS):
        worker = worker_process(pipe, log)
        # kill in the middle of work: once this worker has made some SciCat calls
        served = len(pipe.emulator.request_log)
        wait_until(lambda s=served: len(pipe.emulator.request_log) > s + 40, 60, "progress")
        time.sleep(random.uniform(0.2, 1.5))
        kill_group(worker)
        kills += 1
    assert unfinished(pipe, job_ids), "all jobs finished before the last kill: kill sooner"
    worker = worker_process(pipe, log)
    try:
        wait_all(pipe, job_ids, timeout=240)
    finally:
        worker.terminate()
        worker.wait(30)
    assert kills == KILLS
    check_all(pipe, job_ids, pids, expect="finishedSuccessful")
