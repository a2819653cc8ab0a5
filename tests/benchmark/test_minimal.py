"""The bench's sequential minimal script: exactly its calls, and a job SciCat sees done."""

from __future__ import annotations

import requests

from bench.minimal import archive_job, calls_per_job
from bench.throughput import login, session_call

FILES = [{"path": "raw/a.dat", "size": 10, "time": "2024-01-01T00:00:00.000Z"},
         {"path": "raw/b.dat", "size": 32, "time": "2024-01-01T00:00:00.000Z"}]  # fmt: skip


def _run(emu, pids):
    job_id = emu.add_job("archive", pids)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {login(session, emu.url)}"
    before = len(emu.request_log)
    archive_job(session_call(session, emu.url), job_id, pids)
    session.close()
    return job_id, emu.request_log[before:]


def test_a_one_dataset_job_takes_the_six_minimal_calls_and_ends_archived(emulator_factory):
    emu = emulator_factory(flavour="next")
    pid = emu.add_dataset()
    emu.add_origdatablock(pid, files=FILES)
    job_id, log = _run(emu, [pid])
    assert [(m, p.rsplit("/", 1)[-1]) for m, p, _ in log] == [
        ("PATCH", job_id), ("GET", "origdatablocks"), ("PATCH", "datasetlifecycle"),
        ("POST", "datablocks"), ("PATCH", "datasetlifecycle"), ("PATCH", job_id),
    ]  # fmt: skip
    assert all(status < 300 for _, _, status in log)
    assert len(log) == calls_per_job(1) == 6
    assert emu.job(job_id)["statusCode"] == "finishedSuccessful"
    lifecycle = emu.dataset(pid)["datasetlifecycle"]
    assert lifecycle["archiveStatusMessage"] == "datasetOnArchiveDisk" and lifecycle["retrievable"]
    (block,) = emu.datablocks(pid)
    assert block["size"] == 42 and [f["path"] for f in block["dataFileList"]] == [
        "raw/a.dat",
        "raw/b.dat",
    ]


def test_a_job_over_n_datasets_takes_two_plus_four_n_calls(emulator_factory):
    emu = emulator_factory(flavour="next")
    pids = [emu.add_dataset() for _ in range(3)]
    for pid in pids:
        emu.add_origdatablock(pid, files=FILES[:1])
    job_id, log = _run(emu, pids)
    assert len(log) == calls_per_job(3) == 14
    job = emu.job(job_id)
    assert job["statusCode"] == "finishedSuccessful"
    assert [d["pid"] for d in job["jobResultObject"]["datasets"]] == pids
    assert all(len(emu.datablocks(pid)) == 1 for pid in pids)
