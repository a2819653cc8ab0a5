"""Archive then retrieve a multi-dataset job through the real intake path, per generation.

The job is created through the emulator's HTTP API, the emulator publishes it to RabbitMQ
(or, for next-legacy, the poller finds it), the bridge starts the chain, the embedded worker
runs it; the final SciCat state is checked field by field.
"""

from __future__ import annotations

import threading

import pytest

from archiver import app
from archiver.intake.poller import Poller
from archiver.scicat import connect
from archiver.storage.mock import mock_archive_id

from .conftest import Pipeline, wait_until
from .helpers import seed, submit


def check_archived(pipe: Pipeline, job_id: str, pids: list[str]) -> None:
    job = pipe.wait_finished(job_id)
    assert job["statusCode"] == "finishedSuccessful", job
    if pipe.emulator.flavour == "next":
        # v4 jobs carry a readable message; v3 backends only know the status word.
        assert job["statusMessage"] == f"{len(pids)} of {len(pids)} datasets archived"
    assert sorted(d["pid"] for d in job["jobResultObject"]["datasets"]) == sorted(pids)
    for pid in pids:
        life = pipe.lifecycle(pid)
        assert life["archivable"] is False
        assert life["retrievable"] is True
        assert life["archiveStatusMessage"] == "datasetOnArchiveDisk"
        assert life["archiveReturnMessage"]["jobId"] == job_id
        blocks = pipe.emulator.datablocks(pid)
        assert [b["archiveId"] for b in blocks] == [mock_archive_id(pid, 0)]
        assert blocks[0]["size"] == 303 and blocks[0]["packedSize"] == 303
        assert len(blocks[0]["dataFileList"]) == 3
        assert pipe.emulator.dataset(pid)["packedSize"] == 303


def check_retrieved(pipe: Pipeline, job_id: str, pids: list[str]) -> None:
    job = pipe.wait_finished(job_id)
    assert job["statusCode"] == "finishedSuccessful", job
    entries = job["jobResultObject"]["result"]
    assert sorted(e["datasetId"] for e in entries) == sorted(pids)
    for entry in entries:
        assert entry["archiveId"] == mock_archive_id(entry["datasetId"], 0)
        assert entry["size"] == 303
        assert entry["location"].endswith(entry["datasetId"])
    for pid in pids:
        life = pipe.lifecycle(pid)
        assert life["retrieveStatusMessage"] == "datasetRetrieved"
        assert life["retrievable"] is True
        assert life["archiveStatusMessage"] == "datasetOnArchiveDisk"


@pytest.mark.parametrize(
    ("flavour", "publish_on"),
    [("next", ("create",)), ("next", ("create", "update")), ("loopback", ("create",))],
    ids=["next-publish-on-create", "next-publish-on-create-and-update", "loopback"],
)
def test_archive_then_retrieve_through_the_queue(pipeline_factory, flavour, publish_on):
    pipe = pipeline_factory(flavour=flavour, publish_on=publish_on)
    pids = seed(pipe)
    archive_id = submit(pipe, "archive", pids)
    check_archived(pipe, archive_id, pids)
    retrieve_id = submit(pipe, "retrieve", pids)
    check_retrieved(pipe, retrieve_id, pids)
    assert pipe.bridge.handler.counts["started"] == 2
    assert pipe.bridge.handler.counts["quarantine"] == 0


def test_archive_then_retrieve_on_next_legacy_by_polling(pipeline_factory):
    pipe = pipeline_factory(flavour="next-legacy", publish_on=(), bridge=False)
    with connect(pipe.settings) as client:
        poller = Poller(app, pipe.settings.replace(poll_interval=0.2), client)
        thread = threading.Thread(target=poller.run, daemon=True)
        thread.start()
        try:
            pids = seed(pipe)
            archive_id = submit(pipe, "archive", pids)
            check_archived(pipe, archive_id, pids)
            retrieve_id = submit(pipe, "retrieve", pids)
            check_retrieved(pipe, retrieve_id, pids)
        finally:
            poller.stop()
            thread.join(10)
    assert poller.intake.started == 2


def test_a_job_of_another_type_is_left_alone(pipeline_factory):
    pipe = pipeline_factory(flavour="next")
    pid = seed(pipe, 1)[0]
    job_id = pipe.emulator.add_job("public", [pid], publish=True)
    wait_until(lambda: pipe.bridge.handler.counts["dropped"] >= 1, what="the message")
    assert pipe.emulator.job(job_id)["statusCode"] == "jobSubmitted"
    assert not any(m == "PATCH" and job_id in p for m, p, _ in pipe.emulator.request_log)
