"""Tokens and passwords never appear in error texts or logs, on any generation."""

from __future__ import annotations

import logging

import pytest

from archiver.errors import SciCatError

PASSWORD = "2jf70TPNZsS"


def _client_log(caplog) -> str:
    """Captured log lines, without the emulator's own access log (that is the server side)."""
    lines = [r for r in caplog.records if not r.name.startswith("archiver.emulator")]
    return "\n".join(f"{r.name} {r.getMessage()}" for r in lines)


def _assert_clean(exc: BaseException, caplog, token: str) -> None:
    log_text = _client_log(caplog)
    assert "urllib3" in log_text, "debug logging of the HTTP client was captured"
    texts = [str(exc), repr(exc), log_text, repr(exc.__cause__), repr(exc.__context__)]
    if isinstance(exc, SciCatError):
        texts += [exc.body, exc.message]
    for text in texts:
        assert token not in text
        assert PASSWORD not in text


def test_a_failing_call_leaks_neither_token_nor_password(emu, client, caplog):
    caplog.set_level(logging.DEBUG)
    pid = emu.add_dataset()
    client.get_dataset(pid)
    token = client.http._grant.token
    emu.inject_fault(r"atasets/", status=503, count=1)
    with pytest.raises(SciCatError) as info:
        client.get_dataset(pid)
    _assert_clean(info.value, caplog, token)


def test_a_lost_connection_leaks_no_token_from_the_url(emu, client, caplog):
    caplog.set_level(logging.DEBUG)
    pid = emu.add_dataset()
    client.get_dataset(pid)
    token = client.http._grant.token
    emu.stop()
    with pytest.raises(SciCatError) as info:
        client.get_dataset(pid)
    assert "/api/v3/" in str(info.value), "the message still says which call failed"
    _assert_clean(info.value, caplog, token)


def test_a_refused_login_leaks_no_password(emu, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(emu, scicat_password=PASSWORD + "x")
    with pytest.raises(SciCatError) as info:
        client.login()
    _assert_clean(info.value, caplog, PASSWORD + "x")
