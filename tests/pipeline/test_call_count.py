"""SciCat calls per job on the happy path, counted in the emulator's request log.

A one-dataset archive job costs at most 8 calls and a retrieve job at most 7 on
backend-next >= 4.14 (the script the archiver replaces makes 6), 7 and 6 with
ARCHIVER_SCICAT_JOB_JOIN (the job read with its datasets); reads are batched per job,
so a job of many datasets costs about three writes per dataset plus a constant. Logins and
the job creation itself are not counted. The bounds of the other generations are what
their APIs allow (docs/performance.md, "SciCat calls per job").
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from archiver import app
from archiver.intake.poller import Poller
from archiver.scicat import connect

from .conftest import Pipeline
from .helpers import seed, submit

#: (archive, retrieve) calls allowed for a one-dataset job, per generation. LoopBack
#: redelivers every job message (the backend hands it back), so the claim reads the job
#: first; next-legacy (4.0-4.13) has no merging lifecycle route and its v3 jobs route is
#: polled, so each lifecycle mark is a read-modify-write and the claim reads the job first.
BOUNDS = {"next": (8, 7), "next-join": (7, 6), "loopback": (8, 7), "next-legacy": (9, 7)}


def api_calls(pipe: Pipeline, since: int) -> list[tuple[str, str]]:
    """The requests after the job's creation (the one at or after ``since``), logins left
    out (a token's life is not a job's cost)."""
    log = pipe.emulator.request_log
    created = next(
        i for i in range(since, len(log))
        if log[i][0] == "POST" and log[i][1].rstrip("/").lower().endswith("/jobs")
    )  # fmt: skip
    return [(m, p) for m, p, _ in log[created + 1 :] if not p.endswith(("/login", "/Users/login"))]


@contextmanager
def intake(pipe: Pipeline) -> Iterator[None]:
    """The bridge is already running, except on next-legacy, which is polled."""
    if pipe.emulator.flavour != "next-legacy":
        yield
        return
    with connect(pipe.settings) as client:
        poller = Poller(app, pipe.settings.replace(poll_interval=0.2), client)
        thread = threading.Thread(target=poller.run, daemon=True)
        thread.start()
        try:
            yield
        finally:
            poller.stop()
            thread.join(10)


def run_counted(pipe: Pipeline, job_type: str, pids: list[str]) -> list[tuple[str, str]]:
    """Submit one job, wait for it; the SciCat calls the pipeline made for it."""
    before = len(pipe.emulator.request_log)
    job_id = submit(pipe, job_type, pids)
    job = pipe.wait_finished(job_id)
    assert job["statusCode"] == "finishedSuccessful", job
    polls = pipe.emulator.flavour == "next-legacy"
    return [
        c
        for c in api_calls(pipe, before)
        if not (polls and c[0] == "GET" and c[1].endswith("/Jobs"))
    ]


@pytest.mark.parametrize("case", ["next", "next-join", "loopback", "next-legacy"])
def test_a_one_dataset_job_stays_within_its_call_budget(pipeline_factory, case):
    # next-join: ARCHIVER_SCICAT_JOB_JOIN, the job read with its datasets in one request
    flavour = case.removesuffix("-join")
    pipe = pipeline_factory(
        flavour=flavour,
        publish_on=() if flavour == "next-legacy" else ("create",),
        bridge=flavour != "next-legacy",
        scicat_job_join=case == "next-join",
    )
    archive_bound, retrieve_bound = BOUNDS[case]
    [pid] = seed(pipe, 1)
    with intake(pipe):
        archived = run_counted(pipe, "archive", [pid])
        retrieved = run_counted(pipe, "retrieve", [pid])
    assert len(archived) <= archive_bound, archived
    assert len(retrieved) <= retrieve_bound, retrieved
    # reads are batched: no per-dataset GET on the happy path
    assert not [c for c in archived + retrieved if c[0] == "GET" and "origdatablocks" in c[1]]


def test_reads_are_batched_per_job_not_per_dataset(pipeline_factory):
    pipe = pipeline_factory(flavour="next")
    pids = seed(pipe, 20)
    archived = run_counted(pipe, "archive", pids)
    # 3 writes per dataset (started, DataBlock, archived) plus a constant
    assert len(archived) <= 3 * len(pids) + 5, archived
    reads = [c for c in archived if c[0] == "GET"]
    assert len(reads) <= 3, reads  # the job at the claim, the job and its datasets after
