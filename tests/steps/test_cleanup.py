"""Best-effort clean-up at step level: a refused DELETE or read is named, never fatal."""

from __future__ import annotations

import logging

from archiver.errors import PermanentStorageError
from archiver.plan import JobContext
from archiver.scicat import connect
from archiver.settings import Settings
from archiver.steps import archive, job
from archiver.steps.marks import JobLog
from archiver.steps.reset import reset_dataset
from archiver.storage.base import Storage
from archiver.storage.mock import MockStorage

ADMIN = ("admin", "2jf70TPNZsS")
FILES = [{"path": f"f{n}.dat", "size": 1, "time": "2024-01-01T00:00:00Z"} for n in range(2)]


class OneBlockThenFail(Storage):
    """Yields the first block of the mock storage, then fails for good."""

    name = "one-block-then-fail"

    def archive(self, dataset, origdatablocks):
        yield next(iter(MockStorage(Settings(block_max_files=1)).archive(dataset, origdatablocks)))
        raise PermanentStorageError("archive disk broke after the first tar")

    def retrieve(self, dataset, datablocks, destination):
        raise NotImplementedError


def client_for(emu):
    settings = Settings(
        scicat_url=emu.url, scicat_user=ADMIN[0], scicat_password=ADMIN[1], scicat_api="next"
    )
    return connect(settings)


def log() -> JobLog:
    return JobLog(logging.getLogger("test"), {"job_id": "job-1"})


def test_a_dataset_failing_after_its_first_block_names_the_block_it_could_not_remove(
    emulator_factory,
):
    emu = emulator_factory(flavour="next")
    pid = emu.add_dataset()
    emu.add_origdatablock(pid, files=FILES)
    emu.inject_fault(r"/datablocks/[^/]+$", status=403, count=100, method="DELETE")
    ctx = JobContext(emu.add_job("archive", [pid]), "archive", (pid,), "next")
    with client_for(emu) as client:
        job.in_progress(client, ctx, log())
        archive.datasets_started(client, ctx, log())
        archive.add_datablocks(client, OneBlockThenFail(), ctx, log())
    [block] = emu.datablocks(pid)
    life = emu.dataset(pid)["datasetlifecycle"]
    assert life["archiveStatusMessage"] == "scheduleArchiveJobFailed"
    message = life["archiveReturnMessage"]["message"]
    assert message.startswith("archive disk broke after the first tar")
    assert f"DataBlock {block['_id']} not removed" in message and "DELETE_GROUPS" in message


def test_the_fail_path_records_a_dataset_it_may_not_read_and_still_finishes_the_job(
    emulator_factory,
):
    emu = emulator_factory(flavour="next")
    readable, hidden = emu.add_dataset(), emu.add_dataset()
    job_id = emu.add_job("archive", [readable, hidden])
    ctx = JobContext(job_id, "archive", (readable, hidden), "next")
    with client_for(emu) as client:
        job.in_progress(client, ctx, log())
        archive.datasets_started(client, ctx, log())  # both have no files: missingFilesError
        # the batched read is refused too, so the fail path reads each dataset on its own
        emu.inject_fault(r"/api/v3/datasets$", status=403, count=100, method="GET")
        emu.inject_fault(f"/datasets/{hidden.replace('/', '%2F')}$", status=403, count=100)
        job.fail(client, ctx, "step add_datablocks failed: boom", log())
    doc = emu.job(job_id)
    assert doc["statusCode"] == "finishedUnsuccessful"
    assert "ADMIN_GROUPS" in doc["statusMessage"]
    [error] = doc["jobResultObject"]["errors"]
    assert error["pid"] == hidden and "not cleaned up" in error["message"]


def test_reset_dataset_resets_the_lifecycle_when_a_delete_is_refused(emulator_factory):
    emu = emulator_factory(flavour="next")
    pid = emu.add_dataset()
    emu.add_origdatablock(pid, files=FILES)
    ctx = JobContext(emu.add_job("archive", [pid]), "archive", (pid,), "next")
    with client_for(emu) as client:
        job.in_progress(client, ctx, log())
        archive.datasets_started(client, ctx, log())
        archive.add_datablocks(client, MockStorage(Settings()), ctx, log())
        archive.datasets_archived(client, ctx, log())
        emu.inject_fault(r"/datablocks/[^/]+$", status=403, count=100, method="DELETE")
        cleanup = reset_dataset(client, pid)
    [block] = emu.datablocks(pid)
    assert cleanup.removed == 0 and block["_id"] in cleanup.note()
    life = emu.dataset(pid)["datasetlifecycle"]
    assert (life["archivable"], life["archiveStatusMessage"]) == (True, "datasetCreated")
    assert "DELETE_GROUPS" in life["archiveReturnMessage"]["message"]
