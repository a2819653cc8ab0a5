"""How the archive step classifies storage failures: user (missing files) vs system."""

from __future__ import annotations

import logging

import pytest

from archiver.errors import PermanentStorageError
from archiver.plan import JobContext
from archiver.scicat import connect
from archiver.settings import Settings
from archiver.steps import archive, job
from archiver.steps.marks import JobLog
from archiver.storage.base import Storage
from archiver.storage.work import UserStorageError


class FailingStorage(Storage):
    name = "failing"

    def __init__(self, error: Exception) -> None:
        self.error = error

    def archive(self, dataset, origdatablocks):
        raise self.error
        yield  # pragma: no cover - makes this a generator like real backends

    def retrieve(self, dataset, datablocks, destination):
        raise self.error


@pytest.mark.parametrize(
    ("error", "word", "kind"),
    [
        (UserStorageError("2 files missing: a.dat, b.dat"), "missingFilesError", "user"),
        (PermanentStorageError("archive disk is read-only"), "scheduleArchiveJobFailed", "system"),
    ],
)
def test_a_storage_failure_is_written_with_the_right_word(emulator_factory, error, word, kind):
    emu = emulator_factory(flavour="next")
    pid = emu.add_dataset()
    emu.add_origdatablock(pid, files=[{"path": "a.dat", "size": 1, "time": "2024-01-01T00:00:00Z"}])
    settings = Settings(
        scicat_url=emu.url, scicat_user="admin", scicat_password="2jf70TPNZsS", scicat_api="next"
    )
    ctx = JobContext(emu.add_job("archive", [pid]), "archive", (pid,), "next")
    log = JobLog(logging.getLogger("test"), {"job_id": ctx.job_id})
    with connect(settings) as client:
        job.in_progress(client, ctx, log)
        archive.datasets_started(client, ctx, log)
        archive.add_datablocks(client, FailingStorage(error), ctx, log)
    life = emu.dataset(pid)["datasetlifecycle"]
    assert life["archiveStatusMessage"] == word
    assert life["archiveReturnMessage"]["error"] == kind
    assert str(error) in life["archiveReturnMessage"]["message"]
    assert (life["archivable"], life["retrievable"]) == (False, False)
