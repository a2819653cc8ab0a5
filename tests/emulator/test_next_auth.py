"""Login, tokens and the health route of the ``next`` flavour."""

import base64
import json

import requests

from .helpers import ADMIN


def _login(emu, body=None, form=False):
    url = emu.url + "/api/v3/auth/login"
    return requests.post(url, data=body, timeout=5) if form else requests.post(url, json=body)


def test_login_with_scicatlive_admin_answers_201_and_a_jwt(emulator_factory):
    emu = emulator_factory()
    answer = _login(emu, ADMIN)
    assert answer.status_code == 201
    body = answer.json()
    assert body["access_token"] == body["id"]
    assert body["expires_in"] == 3600 and body["ttl"] == 3600
    assert body["user"]["username"] == "admin" and body["userId"]
    header, payload, signature = body["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["exp"] - claims["iat"] == 3600 and signature


def test_login_accepts_a_form_encoded_body(emulator_factory):
    emu = emulator_factory()
    assert _login(emu, {"username": "ingestor", "password": "aman"}, form=True).status_code == 201


def test_login_with_a_wrong_password_answers_401(emulator_factory):
    emu = emulator_factory()
    answer = _login(emu, {"username": "admin", "password": "nope"})
    assert answer.status_code == 401
    assert answer.json()["statusCode"] == 401 and answer.json()["error"] == "Unauthorized"


def test_custom_accounts_replace_the_default_ones(emulator_factory):
    emu = emulator_factory(accounts={"bob": "pw"})
    assert _login(emu, {"username": "bob", "password": "pw"}).status_code == 201
    assert _login(emu, ADMIN).status_code == 401


def test_deprecated_users_login_answers_201_with_an_empty_body(emulator_factory):
    emu = emulator_factory()
    for path in ("/api/v3/Users/login", "/api/v3/users/login"):
        answer = requests.post(emu.url + path, json=ADMIN)
        assert answer.status_code == 201 and answer.content == b""


def test_health_answers_200_without_a_token(emulator_factory):
    emu = emulator_factory()
    assert requests.get(emu.url + "/api/v3/health").status_code == 200


def test_a_missing_or_unknown_token_answers_403(nxt):
    url = nxt.url("/datasets")
    assert requests.get(url).status_code == 403
    answer = requests.get(url, headers={"Authorization": "Bearer not.a.token"})
    assert answer.status_code == 403


def test_an_expired_token_answers_401_session_expired(nxt):
    assert nxt.get("/datasets").status_code == 200
    nxt.emu.expire_tokens()
    answer = nxt.get("/datasets")
    assert answer.status_code == 401 and answer.json()["message"] == "SESSION_EXPIRED"
    fresh = requests.post(nxt.url("/auth/login"), json=ADMIN).json()["access_token"]
    auth = {"Authorization": f"Bearer {fresh}"}
    assert requests.get(nxt.url("/datasets"), headers=auth).status_code == 200


def test_a_token_expires_after_its_ttl(client_factory):
    import time

    client = client_factory("next", token_ttl=0.3)
    assert client.get("/datasets").status_code == 200
    time.sleep(0.4)
    assert client.get("/datasets").status_code == 401


def test_errors_have_the_nestjs_shape(nxt):
    answer = nxt.get("/api/v4/nothing")
    assert answer.status_code == 404
    assert set(answer.json()) == {"statusCode", "message", "error"}
