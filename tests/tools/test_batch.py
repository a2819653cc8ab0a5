"""``archiver batch``: many folders, one broken, skip-existing, in-process archiving."""

from __future__ import annotations

import pytest

from archiver.ingest.inprocess import STEP_FUNCTIONS
from archiver.plan import STEPS

from .conftest import TRANSFER, make_dataset


def three_folders(tmp_path):
    parent = tmp_path / "incoming"
    make_dataset(parent, "a-good")
    make_dataset(parent, "b-broken", transfer={**TRANSFER, "keywords": "not a list"})
    make_dataset(parent, "c-good", files={"x.bin": b"12345"})
    (parent / "not-a-dataset").mkdir()
    return parent


def test_one_broken_dataset_does_not_stop_the_batch_and_fails_the_exit_code(
    emulator_factory, archiver, tmp_path
):
    emu = emulator_factory(flavour="next")
    result = archiver(emu, "batch", str(three_folders(tmp_path)))
    assert result.exit_code == 1
    table = result.stdout
    rows = {line.split()[0]: line for line in table.splitlines()[1:-1]}
    assert sorted(rows) == ["a-good", "b-broken", "c-good"]
    assert " failed " in rows["b-broken"] and "keywords" in rows["b-broken"]
    assert " ingested " in rows["a-good"] and " ingested " in rows["c-good"]
    assert table.splitlines()[-1] == "2 ingested, 0 skipped, 1 failed"
    assert "datasets" in result.stderr  # the progress bar
    jobs = emu.jobs()
    assert len(jobs) == 2 and {j["type"] for j in jobs} == {"archive"}
    assert all(j["statusCode"] == "jobSubmitted" for j in jobs)
    assert len(emu._app.store.datasets) == 2


def test_skip_existing_run_twice_ingests_nothing_the_second_time(
    emulator_factory, archiver, tmp_path
):
    emu = emulator_factory(flavour="next")
    parent = tmp_path / "p"
    make_dataset(parent, "one")
    make_dataset(parent, "two")
    first = archiver(emu, "batch", "--skip-existing", str(parent))
    second = archiver(emu, "batch", "--skip-existing", str(parent))
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert first.stdout.splitlines()[-1] == "2 ingested, 0 skipped, 0 failed"
    assert second.stdout.splitlines()[-1] == "0 ingested, 2 skipped, 0 failed"
    assert len(emu._app.store.datasets) == 2 and len(emu.jobs()) == 2


@pytest.mark.parametrize("flavour", ["next", "loopback"])
def test_in_process_archives_each_dataset_without_rabbitmq(
    flavour, emulator_factory, archiver, tmp_path
):
    emu = emulator_factory(flavour=flavour)
    parent = tmp_path / "p"
    make_dataset(parent, "one")
    make_dataset(parent, "two", files={"big.bin": b"0" * 1000})
    result = archiver(emu, "batch", "--in-process", str(parent))
    assert result.exit_code == 0, result.output
    assert "finishedSuccessful" in result.stdout
    for pid in emu._app.store.datasets:
        life = emu.dataset(pid)["datasetlifecycle"]
        assert life["archiveStatusMessage"] == "datasetOnArchiveDisk"
        assert life["retrievable"] is True and life["archivable"] is False
        assert emu.datablocks(pid)
    assert {j["statusCode"] for j in emu.jobs()} == {"finishedSuccessful"}


def test_a_failing_archive_job_is_a_failed_row(emulator_factory, archiver, tmp_path):
    emu = emulator_factory(flavour="next")
    parent = tmp_path / "p"
    make_dataset(parent, "one")
    emu.inject_fault("/api/v4/jobs$", status=400, method="POST")
    result = archiver(emu, "batch", str(parent))
    assert result.exit_code == 1
    assert "ingested, but the archive job failed" in result.stdout
    assert "archiver job create --type archive" in result.stdout


def test_every_planned_step_has_an_in_process_function():
    assert {name for names in STEPS.values() for name in names} <= set(STEP_FUNCTIONS)


def test_a_parent_without_datasets_is_an_error(emulator_factory, archiver, tmp_path):
    emu = emulator_factory(flavour="next")
    result = archiver(emu, "batch", str(tmp_path))
    assert result.exit_code == 1 and "no subfolder" in result.stderr
