"""The batched dataset read: one request per page of pids, relations included, per flavour."""

from __future__ import annotations

import pytest

from archiver.scicat.base import PAGE_PIDS

FILES = [{"path": "raw/a.tif", "size": 10, "time": "2024-06-29T10:00:00Z"}]


def test_the_datasets_of_a_job_come_in_one_request_with_their_files(emu, client):
    with_files, without = emu.add_dataset(), emu.add_dataset()
    emu.add_origdatablock(with_files, files=FILES)
    before = len(emu.request_log)
    found = client.datasets([with_files, without, with_files], ("origdatablocks", "datablocks"))
    assert set(found) == {with_files, without}
    assert [b["dataFileList"] for b in found[with_files]["origdatablocks"]] == [FILES]
    assert found[without]["origdatablocks"] == [] and found[without]["datablocks"] == []
    reads = [p for m, p, _ in emu.request_log[before:] if m == "GET"]
    assert len(reads) == 1 and "origdatablocks" not in reads[0]


def test_an_absent_dataset_is_left_out_after_a_read_of_its_own(emu, client):
    pid = emu.add_dataset()
    found = client.datasets([pid, "PID.SAMPLE.PREFIX/absent"])
    assert list(found) == [pid]


def test_a_page_holds_at_most_page_pids(emu, client):
    pids = [emu.add_dataset() for _ in range(PAGE_PIDS + 5)]
    before = len(emu.request_log)
    assert set(client.datasets(pids)) == set(pids)
    assert len([1 for m, _, _ in emu.request_log[before:] if m == "GET"]) == 2


@pytest.mark.parametrize("flavour", ["next"])
def test_by_default_next_reads_the_job_and_its_datasets_apart(emu, client):
    # a real v5.2.1 answered the joined read in 332 ms, the two reads in 21 + 14-99 ms
    pid = emu.add_dataset()
    job_id = emu.add_job("archive", [pid])
    before = len(emu.request_log)
    job, docs = client.job_with_datasets(job_id, [pid], ("datablocks",))
    assert job.id == job_id and docs[pid]["datablocks"] == []
    calls = [(m, p) for m, p, _ in emu.request_log[before:] if not p.endswith("/login")]
    assert calls == [("GET", f"/api/v4/jobs/{job_id}"), ("GET", "/api/v3/datasets")]


@pytest.mark.parametrize("flavour", ["next"])
def test_next_reads_a_job_with_its_datasets_in_one_request(emu, make_client):
    client = make_client(emu, scicat_job_join=True)
    pid = emu.add_dataset()
    emu.add_origdatablock(pid, files=FILES)
    job_id = emu.add_job("archive", [pid])
    before = len(emu.request_log)
    job, docs = client.job_with_datasets(job_id, [pid], ("origdatablocks", "datablocks"))
    assert job.id == job_id and job.status == "jobSubmitted"
    assert [b["dataFileList"] for b in docs[pid]["origdatablocks"]] == [FILES]
    assert docs[pid]["datablocks"] == []
    calls = [(m, p) for m, p, _ in emu.request_log[before:] if not p.endswith("/login")]
    assert calls == [("GET", f"/api/v4/jobs/{job_id}")]


@pytest.mark.parametrize("flavour", ["next"])
def test_a_server_that_refuses_the_join_is_read_apart_and_remembered(emu, make_client):
    client = make_client(emu, scicat_job_join=True)
    pid = emu.add_dataset()
    job_id = emu.add_job("archive", [pid])
    emu.inject_fault(f"/api/v4/jobs/{job_id}$", status=400, count=1, method="GET")
    job, docs = client.job_with_datasets(job_id, [pid], ("origdatablocks",))
    assert job.id == job_id and docs[pid]["origdatablocks"] == []
    assert client.job_details is False
    before = len(emu.request_log)
    client.job_with_datasets(job_id, [pid])
    assert [m for m, _, _ in emu.request_log[before:]] == ["GET", "GET"]  # job, datasets
