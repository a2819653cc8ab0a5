"""``archiver job create`` and ``archiver job watch`` (and the reusable watch generator)."""

from __future__ import annotations

import threading
import time

import pytest

from archiver.ingest.inprocess import run_job
from archiver.scicat import DatasetRef, connect
from archiver.settings import Settings
from archiver.storage import get_storage
from archiver.watch import Event, WatchTimeout, watch_job

from .conftest import ADMIN


def seed(emu, count=2):
    pids = []
    for i in range(count):
        pid = emu.add_dataset(datasetName=f"ds{i}")
        emu.add_origdatablock(pid, files=[
            {"path": f"f{i}.dat", "size": 10, "time": "2024-01-01T00:00:00Z"},
            {"path": f"g{i}.dat", "size": 5, "time": "2024-01-01T00:00:00Z"},
        ])  # fmt: skip
        pids.append(pid)
    return pids


def settings_for(emu) -> Settings:
    return Settings(scicat_url=emu.url, scicat_user=ADMIN[0], scicat_password=ADMIN[1])


@pytest.mark.parametrize("flavour", ["next", "loopback"])
def test_job_create_makes_one_job_for_several_datasets_and_prints_its_id(
    flavour, emulator_factory, archiver
):
    emu = emulator_factory(flavour=flavour)
    pids = seed(emu)
    result = archiver(emu, "job", "create", "--type", "archive", *pids)
    assert result.exit_code == 0, result.output
    job = emu.job(result.stdout.strip())
    assert job["type"] == "archive"
    assert [d["pid"] for d in job["jobParams"]["datasetList"]] == pids


def test_job_create_passes_files_and_params_through(emulator_factory, archiver):
    emu = emulator_factory(flavour="next")
    pids = seed(emu)
    result = archiver(
        emu, "job", "create", "--type", "retrieve", *pids,
        "--files", f"{pids[0]}=f0.dat", "--param", "destinationPath=/data/back",
        "--param", "verify=true",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    params = emu.job(result.stdout.strip())["jobParams"]
    assert params["destinationPath"] == "/data/back" and params["verify"] is True
    assert params["datasetList"] == [
        {"pid": pids[0], "files": ["f0.dat"]},
        {"pid": pids[1], "files": []},
    ]


def test_job_create_rejects_files_of_a_dataset_not_in_the_job(emulator_factory, archiver):
    emu = emulator_factory(flavour="next")
    pids = seed(emu, 1)
    result = archiver(emu, "job", "create", "--type", "archive", pids[0], "--files", "x=a")
    assert result.exit_code == 2 and "--files" in result.output
    assert not emu.jobs()


def test_watch_reports_job_and_lifecycle_changes_until_the_job_finishes(emulator_factory):
    emu = emulator_factory(flavour="next")
    pids = seed(emu)
    settings = settings_for(emu)
    with connect(settings) as client:
        job = client.create_job("archive", [DatasetRef(p) for p in pids])
        runner = threading.Timer(0.3, run_job, (connect(settings), get_storage(settings), job.id))
        runner.start()
        events = list(watch_job(client, job.id, interval=0.05, timeout=30))
        runner.join()
    text = [str(e) for e in events]
    assert any("status = 'jobSubmitted'" in t for t in text)
    assert events[-1].kind in ("job", "dataset")
    statuses = [e.new for e in events if e.kind == "job" and e.field == "status"]
    assert statuses[0] == "jobSubmitted" and statuses[-1] == "finishedSuccessful"
    for pid in pids:
        words = [e.new for e in events if e.subject == pid and e.field == "archiveStatusMessage"]
        assert words[0] == "datasetCreated" and words[-1] == "datasetOnArchiveDisk"
        assert any(t.endswith("retrievable False -> True") and pid in t for t in text)


def test_watch_gives_up_after_the_timeout(emulator_factory):
    emu = emulator_factory(flavour="next")
    job_id = emu.add_job("archive", seed(emu, 1))
    with connect(settings_for(emu)) as client:
        events: list[Event] = []
        with pytest.raises(WatchTimeout):
            for event in watch_job(client, job_id, interval=0.05, timeout=0.2):
                events.append(event)
    # Only the first poll reports anything (the starting values); nothing changed later.
    assert all(e.old is None for e in events)
    assert len({(e.subject, e.field) for e in events}) == len(events) == 6


@pytest.mark.parametrize(
    ("status", "code"), [("finishedSuccessful", 0), ("finishedWithDatasetErrors", 1)]
)
def test_job_watch_exits_zero_only_for_finished_successful(
    status, code, emulator_factory, archiver
):
    emu = emulator_factory(flavour="next")
    job_id = emu.add_job("archive", seed(emu, 1), status=status)
    result = archiver(emu, "job", "watch", "--interval", "0.05", job_id)
    assert result.exit_code == code, result.output
    assert f"status = '{status}'" in result.stdout
    assert f"finished: {status}" in result.stderr


def test_job_watch_times_out_with_exit_code_124(emulator_factory, archiver):
    emu = emulator_factory(flavour="next")
    job_id = emu.add_job("archive", seed(emu, 1))
    started = time.monotonic()
    result = archiver(emu, "job", "watch", "--interval", "0.05", "--timeout", "0.3", job_id)
    assert result.exit_code == 124 and "did not finish" in result.stderr
    assert time.monotonic() - started < 10
