"""Error classification: what is worth retrying and what is not."""

from __future__ import annotations

import socket

import pytest

from archiver.errors import (
    AuthError,
    NotFoundError,
    PermanentSciCatError,
    TransientSciCatError,
)
from archiver.scicat import connect

from .conftest import settings_for


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_throttling_are_transient(emu, client, status):
    pid = emu.add_dataset()
    emu.inject_fault(r"atasets/", status=status, count=1, method="GET")
    with pytest.raises(TransientSciCatError) as info:
        client.get_dataset(pid)
    assert (info.value.status, info.value.operation) == (status, "get dataset")
    assert client.get_dataset(pid)["pid"] == pid, "the fault was used up; the call works again"


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, PermanentSciCatError), (403, AuthError), (404, NotFoundError),
     (409, PermanentSciCatError), (422, PermanentSciCatError)],
)  # fmt: skip
def test_client_errors_are_permanent_and_carry_the_server_message(emu, client, status, kind):
    job_id = emu.add_job("archive", [emu.add_dataset()])
    emu.inject_fault(r"(?i)jobs/", status=status, count=1, method=None)
    with pytest.raises(PermanentSciCatError) as info:
        client.update_job(job_id, "inProgress", "working")
    exc = info.value
    assert isinstance(exc, kind) and not isinstance(exc, TransientSciCatError)
    assert (exc.status, exc.operation) == (status, "update job")
    assert exc.message and exc.message != "(empty answer)"
    assert len(exc.body) <= 500


@pytest.mark.parametrize("flavour", ["next"])
def test_a_real_validation_error_keeps_the_server_message(emu, client):
    job_id = emu.add_job("archive", [emu.add_dataset()])
    with pytest.raises(PermanentSciCatError) as info:
        client.http.call("PATCH", f"/api/v4/jobs/{job_id}", "update job", json_body={"x": 1})
    assert info.value.status == 400 and info.value.message


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("flavour", ["loopback", "next-legacy", "next"])
def test_a_refused_connection_is_transient(flavour):
    class Server:
        url = f"http://127.0.0.1:{_closed_port()}"

    client = connect(settings_for(Server, flavour))
    with pytest.raises(TransientSciCatError) as info:
        client.get_dataset("PID.SAMPLE.PREFIX/x")
    assert info.value.status is None and info.value.operation == "login"
    client.close()


def test_a_timeout_is_transient(emu, make_client):
    client = make_client(emu, scicat_timeout=0.3)
    pid = emu.add_dataset()
    client.login()
    emu.inject_fault(r"atasets/", status=None, delay_s=2.0, count=1, method="GET")
    with pytest.raises(TransientSciCatError) as info:
        client.get_dataset(pid)
    assert "no answer within 0.3 s" in str(info.value)
    assert info.value.status is None


def test_a_duplicate_archive_id_is_a_permanent_conflict(emu, client):
    pid = emu.add_dataset()
    files = [{"path": "f", "size": 1, "time": "2024-01-01T00:00:00Z"}]
    block = {"archiveId": "/a/dup.tar", "size": 1, "packedSize": 1, "version": "1"}
    block["dataFileList"] = files
    client.create_datablock(pid, block)
    try:
        client.create_datablock(pid, block)
    except PermanentSciCatError as exc:
        assert exc.status in (400, 409, 422) and not isinstance(exc, TransientSciCatError)
    else:
        assert client.generation == "loopback", "LoopBack may accept duplicates"
