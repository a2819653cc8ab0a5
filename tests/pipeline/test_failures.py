"""Failure semantics on the real broker: duplicates, echoes, transient and permanent
errors, exhausted retries, user errors on some datasets, unusable messages."""

from __future__ import annotations

from collections import Counter

import kombu

from archiver import app
from archiver.intake.bridge import Bridge

from .conftest import Pipeline, wait_until
from .helpers import calls, encoded, publish_raw, seed, submit


def assert_nothing_stuck(pipe: Pipeline, pids: list[str]) -> None:
    for pid in pids:
        life = pipe.lifecycle(pid)
        assert life["archiveStatusMessage"] != "started", (pid, life)
        assert life["retrieveStatusMessage"] != "started", (pid, life)


def assert_no_duplicate_blocks(pipe: Pipeline, pids: list[str]) -> None:
    for pid in pids:
        ids = Counter(b["archiveId"] for b in pipe.emulator.datablocks(pid))
        assert all(n == 1 for n in ids.values()), ids


def test_echoes_and_a_duplicated_message_start_one_chain(pipeline_factory):
    pipe = pipeline_factory(flavour="next", publish_on=("create", "update"))
    pids = seed(pipe, 2)
    job_id = submit(pipe, "archive", pids)
    publish_raw(pipe, pipe.emulator.job(job_id))  # the same submitted job, delivered again
    assert pipe.wait_finished(job_id)["statusCode"] == "finishedSuccessful"
    wait_until(lambda: pipe.bridge.handler.counts["dropped"] >= 3, what="echoes")
    assert pipe.bridge.handler.counts["started"] == 1
    assert calls(pipe, "PATCH", f"/jobs/{job_id}") == 2  # in progress, finished
    assert_no_duplicate_blocks(pipe, pids)


def test_a_late_duplicate_seen_by_a_fresh_bridge_does_no_work(pipeline_factory):
    pipe = pipeline_factory(flavour="next")
    pids = seed(pipe, 1)
    job_id = submit(pipe, "archive", pids)
    submitted = pipe.emulator.job(job_id)
    assert pipe.wait_finished(job_id)["statusCode"] == "finishedSuccessful"
    pipe.bridge.should_stop = True
    pipe.threads[0].join(10)
    fresh = Bridge(app, pipe.settings)  # no memory of the job
    patches = calls(pipe, "PATCH", f"/jobs/{job_id}")
    publish_raw(pipe, submitted)
    for _ in fresh.consume(limit=1, timeout=30):
        pass
    assert fresh.handler.counts["started"] == 1  # a chain is started ...
    wait_until(lambda: calls(pipe, "GET", f"/jobs/{job_id}") >= 3, what="the claim step")
    assert calls(pipe, "PATCH", f"/jobs/{job_id}") == patches  # ... and stops at its claim
    assert_no_duplicate_blocks(pipe, pids)


def test_a_503_burst_is_retried_and_the_job_succeeds(pipeline_factory):
    pipe = pipeline_factory(flavour="next")
    pids = seed(pipe, 2)
    pipe.emulator.inject_fault("/datablocks", status=503, count=3)
    pipe.emulator.inject_fault("/datasetlifecycle", status=503, count=2)
    job_id = submit(pipe, "archive", pids)
    job = pipe.wait_finished(job_id)
    assert job["statusCode"] == "finishedSuccessful", job
    assert_no_duplicate_blocks(pipe, pids)
    assert all(len(pipe.emulator.datablocks(p)) == 1 for p in pids)


def test_a_permanent_error_on_one_dataset_fails_it_and_the_others_complete(pipeline_factory):
    pipe = pipeline_factory(flavour="next")
    bad, good = seed(pipe, 2)
    pipe.emulator.inject_fault(
        f"/datasets/{encoded(bad)}/datablocks$", status=400, count=100, method="POST"
    )
    job_id = submit(pipe, "archive", [bad, good])
    job = pipe.wait_finished(job_id)
    assert job["statusCode"] == "finishedUnsuccessful"
    assert job["statusMessage"].startswith("1 of 2 datasets archived; 1 failed")
    [error] = job["jobResultObject"]["errors"]
    assert error["pid"] == bad and error["code"] == "scheduleArchiveJobFailed"
    assert "HTTP 400" in error["message"]
    bad_life = pipe.lifecycle(bad)
    assert bad_life["archiveStatusMessage"] == "scheduleArchiveJobFailed"
    assert (bad_life["archivable"], bad_life["retrievable"]) == (False, False)
    assert "HTTP 400" in bad_life["archiveReturnMessage"]["message"]
    assert pipe.emulator.datablocks(bad) == []
    assert pipe.lifecycle(good)["archiveStatusMessage"] == "datasetOnArchiveDisk"


def test_a_permanent_error_on_the_job_ends_it_unsuccessful(pipeline_factory):
    pipe = pipeline_factory(flavour="next")
    pids = seed(pipe, 1)
    job_id = submit(pipe, "archive", pids)
    # the claim's PATCH is refused once; the failure path's PATCH goes through
    pipe.emulator.inject_fault(f"/jobs/{job_id}$", status=403, count=1, method="PATCH")
    job = pipe.wait_finished(job_id)
    assert job["statusCode"] == "finishedUnsuccessful"
    assert "in_progress failed" in job["statusMessage"] and "403" in job["statusMessage"]
    assert pipe.lifecycle(pids[0])["archiveStatusMessage"] == "datasetCreated"


def test_retries_exhausted_mid_job_end_it_unsuccessful_with_nothing_stuck(pipeline_factory):
    pipe = pipeline_factory(flavour="next", max_retries=2)
    pids = seed(pipe, 2)
    pipe.emulator.inject_fault("/datablocks$", status=503, count=3, method="POST")
    job_id = submit(pipe, "archive", pids)
    job = pipe.wait_finished(job_id)
    assert job["statusCode"] == "finishedUnsuccessful"
    assert "add_datablocks failed" in job["statusMessage"] and "503" in job["statusMessage"]
    assert_nothing_stuck(pipe, pids)
    for pid in pids:
        life = pipe.lifecycle(pid)
        assert life["archiveStatusMessage"] == "scheduleArchiveJobFailed"
        assert life["archiveReturnMessage"]["jobId"] == job_id
        assert pipe.emulator.datablocks(pid) == []
    assert {e["pid"] for e in job["jobResultObject"]["errors"]} == set(pids)


def test_user_errors_on_some_datasets_give_finished_with_dataset_errors(pipeline_factory):
    pipe = pipeline_factory(flavour="next")
    good = seed(pipe, 1)[0]
    no_files = pipe.emulator.add_dataset(datasetName="empty")
    archived = seed(pipe, 1)[0]
    first = submit(pipe, "archive", [archived])
    pipe.wait_finished(first)
    missing = "PID.SAMPLE.PREFIX/does-not-exist"
    job_id = pipe.emulator.add_job("archive", [good, no_files, archived, missing], publish=True)
    job = pipe.wait_finished(job_id)
    assert job["statusCode"] == "finishedWithDatasetErrors"
    assert job["statusMessage"].startswith("1 of 4 datasets archived; 3 failed")
    codes = {e["pid"]: e["code"] for e in job["jobResultObject"]["errors"]}
    assert codes == {
        no_files: "missingFilesError",
        archived: "notArchivable",
        missing: "datasetNotFound",
    }
    assert pipe.lifecycle(good)["archiveStatusMessage"] == "datasetOnArchiveDisk"
    empty = pipe.lifecycle(no_files)
    assert empty["archiveStatusMessage"] == "missingFilesError"
    assert empty["archiveReturnMessage"]["message"]
    # the already archived dataset belongs to the first job and is left as it was
    assert pipe.lifecycle(archived)["archiveReturnMessage"]["jobId"] == first
    assert pipe.lifecycle(archived)["archiveStatusMessage"] == "datasetOnArchiveDisk"


def test_retrieving_a_dataset_that_is_not_retrievable_is_a_user_error(pipeline_factory):
    pipe = pipeline_factory(flavour="next")
    archived, fresh = seed(pipe, 2)
    pipe.wait_finished(submit(pipe, "archive", [archived]))
    job_id = submit(pipe, "retrieve", [archived, fresh])
    job = pipe.wait_finished(job_id)
    assert job["statusCode"] == "finishedWithDatasetErrors"
    assert [e["code"] for e in job["jobResultObject"]["errors"]] == ["notRetrievable"]
    assert [r["datasetId"] for r in job["jobResultObject"]["result"]] == [archived]
    assert pipe.lifecycle(fresh)["retrieveStatusMessage"] == ""


def test_unusable_messages_are_quarantined_with_a_reason_and_the_bridge_stays_up(
    pipeline_factory,
):
    pipe = pipeline_factory(flavour="next")
    bodies = [b"\xff\xfe", b"not json", b"[1,2,3]", b'{"type":"archive"}', b'{"id":"x"}']
    for body in bodies:
        publish_raw(pipe, body)
    pids = seed(pipe, 1)
    job_id = submit(pipe, "archive", pids)
    assert pipe.wait_finished(job_id)["statusCode"] == "finishedSuccessful"
    wait_until(lambda: pipe.bridge.handler.counts["quarantine"] == len(bodies), what="quarantine")
    with kombu.Connection(pipe.settings.broker) as conn:
        queue = conn.SimpleQueue(kombu.Queue(pipe.settings.quarantine_queue, durable=True))
        seen = []
        for _ in bodies:
            message = queue.get(timeout=5)
            seen.append((message.body, message.headers["x-archiver-reason"]))
            message.ack()
        queue.close()
    assert sorted(body for body, _ in seen) == sorted(bodies)
    reasons = dict(seen)
    assert "not UTF-8" in reasons[b"\xff\xfe"]
    assert "not JSON" in reasons[b"not json"]
    assert "not an object" in reasons[b"[1,2,3]"]
    assert "no id" in reasons[b'{"type":"archive"}']
    assert pipe.bridge.ready


def test_a_failed_quarantine_copy_returns_the_message_and_the_bridge_goes_on(
    pipeline_factory, monkeypatch
):
    import archiver.intake.bridge as bridge_module

    real = bridge_module.quarantine
    failures = []

    def flaky(*args, **kwargs):
        if not failures:
            failures.append(1)
            raise RuntimeError("quarantine queue unavailable")
        return real(*args, **kwargs)

    monkeypatch.setattr(bridge_module, "quarantine", flaky)
    monkeypatch.setattr(bridge_module, "REQUEUE_PAUSE", 0.0)
    pipe = pipeline_factory(flavour="next")
    publish_raw(pipe, b"not json")
    wait_until(lambda: pipe.bridge.handler.counts["quarantine"] == 1, what="the second attempt")
    assert pipe.bridge.handler.counts["requeued"] == 1
    pids = seed(pipe, 1)
    assert pipe.wait_finished(submit(pipe, "archive", pids))["statusCode"] == "finishedSuccessful"
