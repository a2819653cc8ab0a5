"""Throughput and latency of archive jobs through the real path, and the sequential baseline.

Pipeline: emulator process publishes each job to RabbitMQ → ``archiver bridge`` process →
Celery chain → ``celery -A archiver worker`` (default settings) → emulator. Times are taken
on the emulator's clock: a job's ``createdAt`` (publish) to its ``updatedAt`` when finished.

Baseline: one ``requests.Session`` in this process making exactly the minimal SciCat calls
of an archive job (:mod:`bench.minimal`: job in progress, read the OrigDatablocks, dataset
started, DataBlock, dataset archived, job finished), one job after the other, no broker.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

import requests

from bench.minimal import Call, archive_job, calls_per_job
from bench.stack import ADMIN, Stack, wait_jobs

#: SciCat calls the baseline makes per one-dataset archive job.
BASELINE_CALLS = calls_per_job(1)
_ID = re.compile(r"/(?:jobs|datasets)/[^/]+")


def parse_time(value: str) -> float:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0-100) of ``values``."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _job_times(state: dict[str, Any], ids: list[str]) -> tuple[list[float], float, float]:
    jobs = {j["id"]: j for j in state["jobs"]}
    rows = [(parse_time(jobs[i]["createdAt"]), parse_time(jobs[i]["updatedAt"])) for i in ids]
    latencies = [(end - start) * 1000 for start, end in rows]
    return latencies, min(s for s, _ in rows), max(e for _, e in rows)


def call_profile(log: list[tuple[str, str, int]]) -> dict[str, int]:
    """Requests per route (ids replaced by ``{id}``), excluding the harness's own polling."""
    counts: collections.Counter[str] = collections.Counter()
    for method, path, _status in log:
        counts[f"{method} {_ID.sub(lambda m: '/' + m.group(0).split('/')[1] + '/{id}', path)}"] += 1
    return dict(counts.most_common())


def _unfinished(stack: Stack, token: str) -> int:
    where = {"statusCode": {"$in": ["jobSubmitted", "inProgress"]}}
    query = {"where": where, "limits": {"limit": 100000}}
    answer = stack.http.get(
        f"{stack.url}/api/v4/jobs",
        params={"filter": json.dumps(query)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    answer.raise_for_status()
    return len(answer.json())


def login(session: requests.Session, url: str) -> str:
    body = {"username": ADMIN[0], "password": ADMIN[1]}
    answer = session.post(f"{url}/api/v3/auth/login", json=body, timeout=30)
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def wait_all(stack: Stack, token: str, timeout: float, interval: float) -> None:
    deadline = time.monotonic() + timeout
    while _unfinished(stack, token):
        if time.monotonic() > deadline:
            raise TimeoutError("jobs did not finish in time")
        time.sleep(interval)


def run_pipeline(
    latency_ms: float, jobs: int, idle_jobs: int, workdir: Path, worker_args: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Idle latency (one job at a time) and backlog throughput (``jobs`` at once)."""
    with Stack(latency_ms, workdir, worker_args) as stack:
        stack.start_emulator()
        pids = [stack.seed_dataset(1) for _ in range(jobs + idle_jobs + 1)]
        stack.start_pipeline()
        # warm-up: proves emulator, broker, bridge and worker are all up
        warm = stack.submit([pids.pop()])
        wait_jobs(stack, {warm}, timeout=120, interval=0.2)
        token = login(stack.http, stack.url)
        idle_ids = []
        for _ in range(idle_jobs):
            idle_ids.append(stack.submit([pids.pop()]))
            wait_all(stack, token, 60, 0.02)
        log_before = len(stack.request_log())
        cpu_before = stack.cpu()
        started = time.monotonic()
        burst = [stack.submit([pids.pop()]) for _ in range(jobs)]
        submitted = time.monotonic() - started
        wait_all(stack, token, 600, 0.25)
        cpu_after = stack.cpu()
        state = stack.state()
        log = stack.request_log()[log_before:]
        rss = stack.peak_rss()
    idle_lat, _, _ = _job_times(state, idle_ids)
    lat, first, last = _job_times(state, burst)
    statuses = collections.Counter(j["statusCode"] for j in state["jobs"] if j["id"] in burst)
    mine = {"GET /api/v4/jobs", "POST /api/v3/auth/login"}
    profile = {k: v for k, v in call_profile(log).items() if k not in mine}
    calls = sum(profile.values()) / jobs
    idle_p50 = statistics.median(idle_lat)
    return {
        "latency_ms": latency_ms,
        "jobs": jobs,
        "jobs_per_s": round(jobs / (last - first), 2),
        "publish_s": round(submitted, 2),
        "drain_s": round(last - first, 2),
        "latency_p50_ms": round(percentile(lat, 50), 1),
        "latency_p95_ms": round(percentile(lat, 95), 1),
        "latency_p99_ms": round(percentile(lat, 99), 1),
        "idle_jobs": idle_jobs,
        "idle_latency_p50_ms": round(idle_p50, 1),
        "idle_latency_max_ms": round(max(idle_lat), 1),
        "calls_per_job": round(calls, 2),
        "idle_overhead_ms": round(idle_p50 - calls * latency_ms, 1),
        "call_profile": profile,
        "statuses": dict(statuses),
        "peak_rss_mb": rss,
        # CPU per job during the backlog (harness polling of the emulator included)
        "cpu_ms_per_job": {
            name: round((cpu_after[name] - cpu_before[name]) / jobs * 1000, 1) for name in cpu_after
        },
    }


def run_baseline(latency_ms: float, jobs: int, workdir: Path) -> dict[str, Any]:
    """The sequential loop with the minimal calls, on its own emulator (no broker)."""
    with Stack(latency_ms, workdir) as stack:
        stack.start_emulator(amqp=False)
        work = [(pid, stack.submit([pid], publish=False)) for pid in
                (stack.seed_dataset(1) for _ in range(jobs))]  # fmt: skip
        session = requests.Session()
        url = stack.url
        token = login(session, url)
        session.headers["Authorization"] = f"Bearer {token}"
        call = session_call(session, url)
        started = time.perf_counter()
        for pid, job_id in work:
            archive_job(call, job_id, [pid])
        elapsed = time.perf_counter() - started
        session.close()
        statuses = collections.Counter(j["statusCode"] for j in stack.state()["jobs"])
    return {
        "latency_ms": latency_ms,
        "jobs": jobs,
        "jobs_per_s": round(jobs / elapsed, 2),
        "per_job_ms": round(elapsed / jobs * 1000, 2),
        "calls_per_job": BASELINE_CALLS,
        "statuses": dict(statuses),
    }


def session_call(session: requests.Session, url: str) -> Call:
    """A :data:`bench.minimal.Call` through ``session`` (raises on an HTTP error)."""

    def call(method: str, path: str, body: Any = None) -> Any:
        answer = session.request(method, url + path, json=body, timeout=30)
        answer.raise_for_status()
        return answer.json() if answer.content else None

    return call
