"""The backend-bound rows: pipeline vs the sequential minimal script on one saturated SciCat.

One row = one site (:mod:`bench.sites`) and one job shape (``per_job`` datasets a job):

1. *Minimal script*: ``jobs`` archive jobs are created, then :func:`bench.minimal.archive_job`
   runs them one after the other from this process; jobs/s = jobs / wall time of that loop.
   The job messages SciCat published meanwhile are purged from the job queue afterwards.
2. *Pipeline*: bridge and worker start; one warm-up job goes through; the bridge stops; the
   same number of fresh jobs is created (their messages wait in the job queue); the bridge
   starts again and the clock runs from the moment RabbitMQ shows it consuming the job queue
   (this host's clock) to the last job's ``updatedAt`` (SciCat's clock: both must agree,
   e.g. the same host or NTP).

Calls per job come from the emulator's request log (logins excluded) during each phase; an
external SciCat keeps no such log, so there only the minimal script's fixed count is shown.
"""

from __future__ import annotations

import collections
import time
from typing import Any

from bench.minimal import archive_job, calls_per_job
from bench.sites import Site, wait_finished
from bench.throughput import call_profile, parse_time


def run_row(site: Site, per_job: int, jobs: int, timeout: float = 3600) -> dict[str, Any]:
    """Both phases of one row on ``site`` (entered); the result as plain data."""
    minimal = run_minimal(site, per_job, jobs)
    purged = site.stack.purge_job_queue()
    pipeline = run_pipeline(site, per_job, jobs, timeout)
    ratio = round(pipeline["jobs_per_s"] / minimal["jobs_per_s"], 2)
    return {"site": site.describe(), "datasets_per_job": per_job, "jobs": jobs,
            "minimal": minimal, "pipeline": pipeline, "ratio": ratio,
            "minimal_messages_purged": purged}  # fmt: skip


Calls = list[tuple[str, str]] | None


def _calls_since(site: Site, before: Calls) -> Calls:
    after = site.calls()
    return None if after is None or before is None else after[len(before) :]


def _per_job(calls: Calls, jobs: int) -> float | None:
    return None if calls is None else round(len(calls) / jobs, 2)


def run_minimal(site: Site, per_job: int, jobs: int) -> dict[str, Any]:
    """The naive archiver over ``jobs`` fresh jobs, sequentially."""
    work = site.make_jobs(jobs, per_job)
    call = site.minimal_call()
    before = site.calls()
    started = time.perf_counter()
    for job_id, pids in work:
        archive_job(call, job_id, pids)
    elapsed = time.perf_counter() - started
    calls = _calls_since(site, before)
    statuses = collections.Counter(
        j["statusCode"] for j in site.jobs([i for i, _ in work]).values()
    )
    return {
        "jobs_per_s": round(jobs / elapsed, 3),
        "seconds": round(elapsed, 2),
        "calls_per_job": _per_job(calls, jobs) or calls_per_job(per_job),
        "statuses": dict(statuses),
    }


def run_pipeline(site: Site, per_job: int, jobs: int, timeout: float) -> dict[str, Any]:
    """The pipeline draining a backlog of ``jobs`` fresh jobs (bridge started last)."""
    stack = site.stack
    stack.start_pipeline()
    warm = [job_id for job_id, _ in site.make_jobs(1, 1)]
    wait_finished(site, warm, timeout=300)
    stack.stop_bridge()
    work = [job_id for job_id, _ in site.make_jobs(jobs, per_job)]
    before = site.calls()
    stack.start_bridge()
    started = stack.wait_consumer()
    wait_finished(site, work, timeout)
    calls = _calls_since(site, before)
    found = site.jobs(work)
    last = max(parse_time(j["updatedAt"]) for j in found.values())
    if last <= started:
        raise RuntimeError("SciCat's clock is behind this host's: run the bench on its host")
    statuses = collections.Counter(j["statusCode"] for j in found.values())
    return {
        "jobs_per_s": round(jobs / (last - started), 3),
        "seconds": round(last - started, 2),
        "calls_per_job": _per_job(calls, jobs),
        "call_profile": None if calls is None else call_profile([(m, p, 0) for m, p in calls]),
        "statuses": dict(statuses),
    }


HEAD = ["site", "ds/job", "jobs", "minimal j/s", "pipeline j/s", "ratio", "minimal calls/job",
        "pipeline calls/job", "pipeline statuses"]  # fmt: skip


def format_rows(rows: list[dict[str, Any]]) -> list[list[Any]]:
    """Table cells of the backend-bound rows, minimal script and pipeline side by side."""
    return [
        [r["site"], r["datasets_per_job"], r["jobs"], r["minimal"]["jobs_per_s"],
         r["pipeline"]["jobs_per_s"], r["ratio"], r["minimal"]["calls_per_job"],
         r["pipeline"]["calls_per_job"] or "n/a",
         ",".join(f"{k}:{v}" for k, v in sorted(r["pipeline"]["statuses"].items()))]
        for r in rows
    ]  # fmt: skip
