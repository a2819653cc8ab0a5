"""Login, renewal on 401, proactive renewal before expiry, fixed tokens."""

from __future__ import annotations

import time

import pytest
import requests

from archiver.errors import AuthError

from .conftest import ADMIN, logins


def _statuses(emu) -> list[int]:
    return [s for (_m, _p, s) in emu.request_log]


def test_an_explicit_login_gets_a_token(emu, client):
    client.login()
    assert logins(emu) == 1
    client.get_dataset(emu.add_dataset())
    assert logins(emu) == 1


def test_an_expired_token_is_renewed_once_and_the_call_repeated(emu, client):
    pid = emu.add_dataset()
    client.get_dataset(pid)
    emu.expire_tokens()
    assert client.get_dataset(pid)["pid"] == pid
    assert logins(emu) == 2
    assert _statuses(emu).count(401) == 1


def test_a_short_lived_token_is_renewed_before_it_expires_without_a_401(
    emulator_factory, make_client, flavour
):
    emu = emulator_factory(flavour=flavour, token_ttl=2)
    client = make_client(emu)
    pid = emu.add_dataset()
    client.get_dataset(pid)
    time.sleep(2.2)
    client.get_dataset(pid)
    assert logins(emu) == 2
    assert 401 not in _statuses(emu)


def test_a_refused_login_is_an_auth_error_naming_the_user(emu, make_client):
    client = make_client(emu, scicat_password="wrong-password")
    with pytest.raises(AuthError) as info:
        client.get_dataset(emu.add_dataset())
    assert info.value.operation == "login"
    assert "admin" in str(info.value) and "wrong-password" not in str(info.value)


def _raw_token(emu, flavour: str) -> str:
    if flavour == "loopback":
        url, field = f"{emu.url}/api/v3/Users/login", "id"
    else:
        url, field = f"{emu.url}/api/v3/auth/login", "access_token"
    answer = requests.post(url, json={"username": ADMIN[0], "password": ADMIN[1]}, timeout=5)
    return answer.json()[field]


def test_a_given_token_is_used_without_login(emu, make_client, flavour):
    client = make_client(
        emu, scicat_token=_raw_token(emu, flavour), scicat_user=None, scicat_password=None
    )
    before = logins(emu)
    pid = emu.add_dataset()
    assert client.get_dataset(pid)["pid"] == pid
    assert logins(emu) == before


def test_a_refused_given_token_names_the_setting_and_is_not_renewed(emu, make_client, flavour):
    client = make_client(
        emu, scicat_token=_raw_token(emu, flavour), scicat_user=None, scicat_password=None
    )
    emu.expire_tokens()
    before = logins(emu)
    with pytest.raises(AuthError) as info:
        client.get_dataset(emu.add_dataset())
    assert "ARCHIVER_SCICAT_TOKEN" in str(info.value)
    assert logins(emu) == before


def test_a_second_401_after_a_fresh_login_is_an_auth_error(emu, client):
    pid = emu.add_dataset()
    client.get_dataset(pid)
    emu.inject_fault(r"atasets/", status=401, count=2, method="GET")
    with pytest.raises(AuthError) as info:
        client.get_dataset(pid)
    assert info.value.status == 401
    assert logins(emu) == 2
