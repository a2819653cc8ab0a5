"""Issue #16, case 9: ids are data. Job ids ``.``/``..`` and a job id with a newline, and
pids of that kind, published by SciCat or listed by the poller: the bridge quarantines them
with a reason naming the id escaped, the poller fails them honestly in SciCat, no log line
is forged, and a good job beside them finishes."""

from __future__ import annotations

import logging
from typing import Any

import kombu
import pytest

from archiver.celery_app import app
from archiver.emulator import seed
from archiver.intake.handler import REASON_HEADER
from archiver.intake.poller import Poller
from archiver.scicat import connect

from .conftest import check_all, seed_many, submit_many, wait_all, wait_until

pytestmark = pytest.mark.faults

FORGED = "evil\n[job forged] archive chain started"
BAD_JOB_IDS = [".", "..", FORGED]


def add_job_with_id(pipe: Any, job_id: str, pids: list[str], publish: bool) -> str:
    """A submitted archive job stored under ``job_id`` (published like a create)."""
    app = pipe.emulator._app
    doc = seed.job(app.store, "archive", pids)
    with app.store.lock:
        app.store.jobs.pop(doc["id"])
    doc["id"] = doc["_id"] = job_id
    app.store.put_job(doc)
    if publish:
        app.publish(doc, "create")
    return job_id


def quarantined(pipe: Any) -> list[str]:
    reasons = []
    with kombu.Connection(pipe.settings.broker) as conn:
        channel = conn.channel()
        while message := channel.basic_get(pipe.settings.quarantine_queue, no_ack=True):
            reasons.append(str(message.headers.get(REASON_HEADER)))
    return reasons


def forged_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    lines = [line for r in caplog.records for line in r.getMessage().splitlines()]
    return [line for line in lines if line.startswith("[job forged]")]


def test_the_bridge_quarantines_dot_and_newline_ids_and_forges_no_log_line(
    pipeline_factory, caplog
):
    caplog.set_level(logging.INFO)
    pipe = pipeline_factory(flavour="next")
    pids = seed_many(pipe, 2)
    for job_id in BAD_JOB_IDS:
        add_job_with_id(pipe, job_id, [pids[0]], publish=True)
    dot_pid = add_job_with_id(pipe, "job-with-dot-pid", [".."], publish=True)
    good = submit_many(pipe, [pids[1]])
    counts = pipe.bridge.handler.counts
    wait_until(lambda: counts["quarantine"] >= 4, 60, f"4 quarantined messages ({counts})")
    wait_all(pipe, good)
    check_all(pipe, good, [pids[1]], expect="finishedSuccessful")
    reasons = quarantined(pipe)
    assert sorted(reasons) == sorted(
        [
            "the job id '.' is or contains a '.' or '..' path segment: such a job cannot be "
            "processed",
            "the job id '..' is or contains a '.' or '..' path segment: such a job cannot be "
            "processed",
            "the job id 'evil\\n[job forged] archive chain started' contains the control "
            "character \\n: such a job cannot be processed",
            f"job {dot_pid}: datasetList[0]: the pid '..' is or contains a '.' or '..' path "
            "segment",
        ]
    )
    assert pipe.lifecycle(pids[0])["archiveStatusMessage"] != "started"
    assert not pipe.emulator.datablocks(pids[0]), "a refused job archived something"
    assert forged_lines(caplog) == []


def test_the_poller_fails_jobs_with_unusable_ids_in_scicat(pipeline_factory, caplog):
    caplog.set_level(logging.INFO)
    pipe = pipeline_factory(flavour="next-legacy", publish_on=(), bridge=False)
    pids = seed_many(pipe, 2)
    bad = [add_job_with_id(pipe, job_id, [pids[0]], publish=False) for job_id in BAD_JOB_IDS]
    bad.append(add_job_with_id(pipe, "job-with-dot-pid", ["a/../b"], publish=False))
    good = submit_many(pipe, [pids[1]])

    with connect(pipe.settings) as client:
        poller = Poller(app, pipe.settings, client)
        assert poller.poll_once() == 1
        assert poller.poll_once() == 0, "refused jobs are not listed again"
    wait_all(pipe, good)
    check_all(pipe, good, [pids[1]], expect="finishedSuccessful")
    for job_id in bad:
        job = pipe.emulator.job(job_id)
        assert job["statusCode"] == "finishedUnsuccessful", job
        [error] = job["jobResultObject"]["errors"]  # backend-next <= 4.13: no statusMessage
        assert error["code"] == "invalidId" and "\n" not in error["message"]
    [error] = pipe.emulator.job(FORGED)["jobResultObject"]["errors"]
    assert "contains the control character \\n" in error["message"]
    assert not pipe.emulator.datablocks(pids[0])
    assert forged_lines(caplog) == []


def test_a_refused_failure_of_one_bad_job_does_not_hold_up_the_others(pipeline_factory):
    pipe = pipeline_factory(flavour="next-legacy", publish_on=(), bridge=False)
    pids = seed_many(pipe, 1)
    bad = add_job_with_id(pipe, "..", [pids[0]], publish=False)
    good = submit_many(pipe, pids)
    pipe.emulator.inject_fault(r"/Jobs/(%2E|\.)(%2E|\.)$", 400, count=1, method="PATCH")
    with connect(pipe.settings) as client:
        poller = Poller(app, pipe.settings, client)
        assert poller.poll_once() == 1, "the good job listed after the bad one is taken"
        assert pipe.emulator.job(bad)["statusCode"] == "jobSubmitted"
        assert poller.poll_once() == 0  # next round: the bad job is failed this time
    assert pipe.emulator.job(bad)["statusCode"] == "finishedUnsuccessful"
    wait_all(pipe, good)
