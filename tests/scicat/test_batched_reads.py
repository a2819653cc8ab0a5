"""The batched dataset read: one request per page of pids, relations included, per flavour."""

from __future__ import annotations

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
