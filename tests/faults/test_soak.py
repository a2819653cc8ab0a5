"""A soak of 1 000 jobs with echoes (SciCat publishes on create and on every update) and
re-published copies of submitted jobs: exactly one chain per job, two job PATCHes per job,
one DataBlock per dataset."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from support.helpers import publish_raw

from .conftest import check_all, seed_many, submit_many, wait_all, wait_until

pytestmark = pytest.mark.faults

JOBS = 1000


def test_soak_with_duplicates_and_echoes_starts_one_chain_per_job(pipeline_factory):
    pipe = pipeline_factory(flavour="next", publish_on=("create", "update"), concurrency=8)
    pids = seed_many(pipe, JOBS)
    rng = random.Random(6)
    job_ids: list[str] = []
    copies = 0
    for start in range(0, JOBS, 50):
        batch = submit_many(pipe, pids[start : start + 50])
        job_ids += batch
        for job_id in rng.sample(job_ids, 10):  # copies of submitted jobs, late or not
            doc = dict(pipe.emulator.job(job_id), statusCode="jobSubmitted")
            publish_raw(pipe, doc)
            copies += 1
    wait_all(pipe, job_ids, timeout=240)
    check_all(pipe, job_ids, pids, expect="finishedSuccessful")

    def job_patches() -> Counter[str]:
        return Counter(
            p.rsplit("/", 1)[-1] for m, p, _ in pipe.emulator.request_log
            if m == "PATCH" and p.startswith("/api/v4/jobs/")
        )  # fmt: skip

    # the emulator logs a request after answering it: let the last entries land first
    wait_until(lambda: all(job_patches()[j] >= 2 for j in job_ids), 30, "the request log")
    patches = job_patches()
    assert all(patches[j] == 2 for j in job_ids), Counter(patches.values())
    posts = Counter(p for m, p, _ in pipe.emulator.request_log if m == "POST" and "datablocks" in p)
    assert sum(posts.values()) == JOBS and set(posts.values()) == {1}
    counts = pipe.bridge.handler.counts
    assert counts["quarantine"] == 0
    # chains started: one per job, plus at most the copies that arrived before a claim
    # (those stop at the claim step: no PATCH, no DataBlock, as checked above)
    assert JOBS <= counts["started"] <= JOBS + copies
