"""Pure helpers of the HTTP funnel: scrubbing, token lifetimes, error classification."""

from __future__ import annotations

import base64
import json
import logging
import time

import pytest

from archiver.errors import (
    AuthError,
    NotFoundError,
    PermanentSciCatError,
    TransientSciCatError,
)
from archiver.scicat.auth import grant_from_login, jwt_expiry, scrub
from archiver.scicat.http import (
    classify,
    segment,
    server_message,
)


def _jwt(payload: dict) -> str:
    def enc(doc: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")

    return f"{enc({'alg': 'HS256'})}.{enc(payload)}.c2lnbmF0dXJl"


def test_pids_with_slashes_are_encoded_as_one_segment():
    assert segment("PID.SAMPLE.PREFIX/abc def") == "PID.SAMPLE.PREFIX%2Fabc%20def"


def test_scrub_removes_given_secrets_query_tokens_bearer_headers_and_jwts():
    jwt = _jwt({"exp": 1})
    text = (
        "GET /x?access_token=abc123&y=1 Authorization: Bearer zz.yy password s3cr3t "
        f'{jwt} {{"password": "pw", "access_token": "t"}}'
    )
    cleaned = scrub(text, ("s3cr3t",))
    for secret in ("abc123", "zz.yy", "s3cr3t", jwt, '"pw"', '"t"'):
        assert secret not in cleaned
    assert "y=1" in cleaned


def test_a_login_answer_with_expires_in_is_renewed_before_it_expires():
    grant = grant_from_login({"access_token": "t", "expires_in": 3600}, "access_token")
    assert grant is not None and grant.token == "t"
    assert grant.renew_at is not None
    assert 3500 < grant.renew_at - time.monotonic() <= 3540


def test_a_short_lived_token_is_renewed_at_four_fifths_of_its_life():
    grant = grant_from_login({"id": "t", "ttl": 10}, "id")
    assert grant is not None and grant.renew_at is not None
    assert 7.5 < grant.renew_at - time.monotonic() <= 8.0


def test_the_jwt_exp_claim_is_used_when_the_answer_gives_no_lifetime():
    token = _jwt({"exp": time.time() + 1000})
    assert jwt_expiry(token) == pytest.approx(time.time() + 1000, abs=2)
    grant = grant_from_login({"access_token": token}, "access_token")
    assert grant is not None and grant.renew_at is not None
    assert 930 < grant.renew_at - time.monotonic() <= 940


def test_a_token_without_lifetime_is_never_renewed_proactively():
    grant = grant_from_login({"id": "opaque"}, "id")
    assert grant is not None and grant.renew_at is None
    assert jwt_expiry("not.a.jwt") is None
    assert grant_from_login({"id": 5}, "id") is None


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (None, TransientSciCatError),
        (429, TransientSciCatError),
        (500, TransientSciCatError),
        (503, TransientSciCatError),
        (400, PermanentSciCatError),
        (401, AuthError),
        (403, AuthError),
        (404, NotFoundError),
        (409, PermanentSciCatError),
        (422, PermanentSciCatError),
    ],
)
def test_statuses_map_onto_the_error_tree(status, kind):
    exc = classify("update job", status, "msg", "x" * 2000)
    assert type(exc) is kind
    assert (exc.operation, exc.status, len(exc.body)) == ("update job", status, 500)
    assert isinstance(exc, TransientSciCatError) == (kind is TransientSciCatError)


def test_server_messages_are_read_from_nest_and_loopback_answers():
    assert server_message('{"message": ["a", "b"], "statusCode": 400}') == "a; b"
    assert server_message('{"error": {"message": "nope", "statusCode": 422}}') == "nope"
    assert server_message("plain text") == "plain text"
    assert server_message("") == "(empty answer)"


def test_urllib3_debug_lines_lose_their_access_token(caplog):
    caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")
    logging.getLogger("urllib3.connectionpool").debug(
        '%s "GET /api/v3/Jobs?access_token=%s HTTP/1.1" 200', "http://h", "TOPSECRET"
    )
    assert "TOPSECRET" not in caplog.text and "access_token=***" in caplog.text
