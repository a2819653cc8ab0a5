"""Fixtures and checks of the fault-injection suite (marker ``faults``).

The pipeline fixtures of ``tests/support`` are used (emulator → RabbitMQ → bridge →
worker); :func:`check_all` is the verdict every scenario ends with: every job finished,
no DataBlock duplicated, no dataset left ``started``, nothing lost.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from support.pipeline import Pipeline, wait_until  # noqa: F401 - wait_until: re-exported


def seed_many(pipe: Pipeline, count: int) -> list[str]:
    """``count`` archivable datasets with one OrigDatablock of two files each."""
    pids = []
    for i in range(count):
        pid = pipe.emulator.add_dataset(datasetName=f"fault{i}")
        files = [{"path": f"raw/{i}_{n}.dat", "size": 10 + n, "time": "2024-01-01T00:00:00Z"}
                 for n in range(2)]  # fmt: skip
        pipe.emulator.add_origdatablock(pid, files=files)
        pids.append(pid)
    return pids


def submit_many(pipe: Pipeline, pids: list[str]) -> list[str]:
    """One archive job per dataset, published like SciCat publishes a created job."""
    return [pipe.emulator.add_job("archive", [pid], publish=True) for pid in pids]


def unfinished(pipe: Pipeline, job_ids: list[str]) -> list[str]:
    return [j for j in job_ids if not pipe.job_status(j).startswith("finished")]


def wait_all(pipe: Pipeline, job_ids: list[str], timeout: float = 180.0) -> None:
    """Wait (liveness bound only) until every job is finished."""
    wait_until(lambda: not unfinished(pipe, job_ids), timeout, f"{len(job_ids)} jobs to finish")


def check_all(
    pipe: Pipeline, job_ids: list[str], pids: list[str], expect: str | None = None
) -> Counter[str]:
    """The verdict of every scenario; returns the count of final job statuses."""
    jobs = {j["id"]: j for j in pipe.emulator.jobs()}
    assert set(job_ids) <= set(jobs), "a job disappeared"
    statuses: Counter[str] = Counter(jobs[j]["statusCode"] for j in job_ids)
    assert all(s.startswith("finished") for s in statuses), statuses
    if expect is not None:
        assert statuses == Counter({expect: len(job_ids)}), statuses
    for pid in pids:
        life: dict[str, Any] = pipe.lifecycle(pid)
        assert life["archiveStatusMessage"] != "started", (pid, life)
        assert life["retrieveStatusMessage"] != "started", (pid, life)
        ids = Counter(b["archiveId"] for b in pipe.emulator.datablocks(pid))
        assert all(n == 1 for n in ids.values()), (pid, ids)
        if life["archiveStatusMessage"] == "datasetOnArchiveDisk":
            assert ids, f"{pid} archived without DataBlocks"
        else:
            assert not ids, f"{pid} not archived but has DataBlocks {ids}"
    return statuses


def through_an_outage(
    pipe: Pipeline, datasets: int, seconds: float, expect: str
) -> tuple[list[str], list[str]]:
    """One archive job per new dataset, submitted while every SciCat call answers 503 for
    ``seconds``: no job leaves ``jobSubmitted`` meanwhile; once SciCat is back every job ends
    ``expect`` and :func:`check_all` holds. Returns the job ids and the pids."""
    pids = seed_many(pipe, datasets)
    pipe.emulator.inject_fault("^/api/", status=503, count=10_000_000)
    job_ids = submit_many(pipe, pids)
    time.sleep(seconds)
    assert all(pipe.job_status(j) == "jobSubmitted" for j in job_ids)
    pipe.emulator.clear_faults()
    wait_all(pipe, job_ids, timeout=120)
    check_all(pipe, job_ids, pids, expect=expect)
    return job_ids, pids
