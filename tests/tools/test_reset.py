"""``archiver reset``: DataBlocks removed, lifecycle back to the values of a new dataset."""

from __future__ import annotations

import pytest

from archiver.ingest.inprocess import run_job
from archiver.scicat import DatasetRef, connect
from archiver.settings import Settings
from archiver.steps.reset import RESET_LIFECYCLE
from archiver.storage import get_storage

from .conftest import ADMIN


def archived(emu, count=2):
    """``count`` datasets archived through the in-process chain."""
    settings = Settings(scicat_url=emu.url, scicat_user=ADMIN[0], scicat_password=ADMIN[1])
    pids = []
    for i in range(count):
        pid = emu.add_dataset(datasetName=f"ds{i}")
        emu.add_origdatablock(pid, files=[{"path": "a", "size": 3, "time": "2024-01-01T00:00:00Z"}])
        pids.append(pid)
    with connect(settings) as client:
        job = client.create_job("archive", [DatasetRef(p) for p in pids])
        assert run_job(client, get_storage(settings), job.id) == "finishedSuccessful"
    return pids


def assert_reset(emu, pid):
    dataset = emu.dataset(pid)
    life = dataset["datasetlifecycle"]
    assert {k: life[k] for k in RESET_LIFECYCLE} == RESET_LIFECYCLE
    assert emu.datablocks(pid) == []
    assert dataset["packedSize"] == 0
    assert len(emu.origdatablocks(pid)) == 1  # the files' record stays


@pytest.mark.parametrize("flavour", ["next", "next-legacy", "loopback"])
def test_reset_puts_archived_datasets_back_to_archivable(flavour, emulator_factory, archiver):
    # Removing DataBlocks needs DELETE_GROUPS; a deployment that runs resets grants it. The
    # refused case is tests/pipeline/test_cleanup_refused.py.
    emu = emulator_factory(flavour=flavour, delete_groups="admin,archivemanager")
    pids = archived(emu)
    assert all(emu.datablocks(p) for p in pids)
    result = archiver(emu, "reset", *pids)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("reset (1 DataBlock(s) removed)") == 2
    for pid in pids:
        assert_reset(emu, pid)


def test_reset_twice_changes_nothing_the_second_time(emulator_factory, archiver):
    # Removing DataBlocks needs DELETE_GROUPS; a deployment that runs resets grants it. The
    # refused case is tests/pipeline/test_cleanup_refused.py.
    emu = emulator_factory(flavour="next", delete_groups="admin,archivemanager")
    [pid] = archived(emu, 1)
    assert archiver(emu, "reset", pid).exit_code == 0
    writes_before = [r for r in emu.request_log if r[0] in ("PATCH", "PUT", "DELETE")]
    second = archiver(emu, "reset", pid)
    assert second.exit_code == 0 and "0 DataBlock(s) removed" in second.stdout
    assert [r for r in emu.request_log if r[0] in ("PATCH", "PUT", "DELETE")] == writes_before
    assert_reset(emu, pid)


def test_an_unknown_dataset_fails_the_exit_code_but_the_others_are_reset(
    emulator_factory, archiver
):
    # Removing DataBlocks needs DELETE_GROUPS; a deployment that runs resets grants it. The
    # refused case is tests/pipeline/test_cleanup_refused.py.
    emu = emulator_factory(flavour="next", delete_groups="admin,archivemanager")
    [pid] = archived(emu, 1)
    result = archiver(emu, "reset", "PID.SAMPLE.PREFIX/nope", pid)
    assert result.exit_code == 1
    assert "PID.SAMPLE.PREFIX/nope: no such dataset" in result.stderr
    assert_reset(emu, pid)


def test_the_archived_dataset_can_be_archived_again_after_a_reset(emulator_factory, archiver):
    # Removing DataBlocks needs DELETE_GROUPS; a deployment that runs resets grants it. The
    # refused case is tests/pipeline/test_cleanup_refused.py.
    emu = emulator_factory(flavour="next", delete_groups="admin,archivemanager")
    [pid] = archived(emu, 1)
    archiver(emu, "reset", pid)
    settings = Settings(scicat_url=emu.url, scicat_user=ADMIN[0], scicat_password=ADMIN[1])
    with connect(settings) as client:
        job = client.create_job("archive", [DatasetRef(pid)])
        assert run_job(client, get_storage(settings), job.id) == "finishedSuccessful"


def test_a_reset_job_runs_in_process_too(emulator_factory):
    # Removing DataBlocks needs DELETE_GROUPS; a deployment that runs resets grants it. The
    # refused case is tests/pipeline/test_cleanup_refused.py.
    emu = emulator_factory(flavour="next", delete_groups="admin,archivemanager")
    pids = archived(emu)
    settings = Settings(scicat_url=emu.url, scicat_user=ADMIN[0], scicat_password=ADMIN[1])
    with connect(settings) as client:
        job = client.create_job("reset", [DatasetRef(p) for p in pids])
        assert run_job(client, get_storage(settings), job.id) == "finishedSuccessful"
    doc = emu.job(job.id)
    assert doc["statusMessage"] == "2 of 2 datasets reset"
    for pid in pids:
        assert_reset(emu, pid)
