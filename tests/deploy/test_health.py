"""``archiver health`` against the SciCat emulator and the real RabbitMQ.

One line per check, ``ok``/``FAIL``, exit code 0 only when all pass, never a secret.
"""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from archiver.cli.health import check_broker, scrub
from archiver.cli.main import cli
from archiver.settings import TABLE, Settings, normalise_scicat_url

ADMIN = ("admin", "2jf70TPNZsS")
BROKER_PW = "guest"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(*args: str, **env: str | None):
    """``archiver health`` with exactly the given settings in the environment."""
    clean: dict[str, str | None] = {name: None for s in TABLE for name in (s.env, *s.aliases)}
    clean.update(env)
    result = CliRunner().invoke(cli, ["health", *args], env=clean, catch_exceptions=False)
    lines = [line for line in result.output.splitlines() if line.strip()]
    return result.exit_code, lines


def status(lines: list[str]) -> dict[str, str]:
    """The word of the broker, scicat and login lines (the rights checks follow them)."""
    words = {line.split()[0]: line.split()[1] for line in lines}
    return {k: v for k, v in words.items() if k in ("broker", "scicat", "login")}


@pytest.fixture
def scicat_env(broker_url, emulator_factory):
    def make(flavour: str = "next", **changes: str | None) -> dict[str, str | None]:
        emu = emulator_factory(flavour=flavour)
        env: dict[str, str | None] = {
            "ARCHIVER_BROKER_URL": "127.0.0.1:5672",
            "ARCHIVER_BROKER_USER": "guest",
            "ARCHIVER_BROKER_PASSWORD": BROKER_PW,
            "ARCHIVER_SCICAT_URL": emu.url + "/api/v3/",
            "ARCHIVER_SCICAT_USER": ADMIN[0],
            "ARCHIVER_SCICAT_PASSWORD": ADMIN[1],
        }
        env.update(changes)
        return env

    return make


@pytest.mark.parametrize("flavour", ["next", "next-legacy", "loopback"])
def test_all_checks_pass(scicat_env, flavour):
    code, lines = run(**scicat_env(flavour))
    assert code == 0, lines
    assert status(lines) == {"broker": "ok", "scicat": "ok", "login": "ok"}
    assert f"generation {flavour}" in lines[1]
    assert lines[2].endswith("logged in as admin")
    assert "amqp://guest:***@127.0.0.1:5672//" in lines[0]


def test_explicit_generation_is_probed_not_detected(scicat_env):
    code, lines = run(**scicat_env("next", ARCHIVER_SCICAT_API="next"))
    assert code == 0, lines
    assert status(lines) == {"broker": "ok", "scicat": "ok", "login": "ok"}


def test_old_mock_names_work(scicat_env):
    env = scicat_env("loopback")
    env = {
        "SCI_URL": env["ARCHIVER_SCICAT_URL"],
        "SCI_USER": ADMIN[0],
        "SCI_PW": ADMIN[1],
        "RMQ_URL": "127.0.0.1",
        "RMQ_USER": "guest",
        "RMQ_PW": BROKER_PW,
    }
    code, lines = run(**env)
    assert code == 0, lines


def test_wrong_scicat_password_fails_the_login_without_showing_it(scicat_env):
    wrong = "not-the-Password-42"
    code, lines = run(**scicat_env(ARCHIVER_SCICAT_PASSWORD=wrong))
    assert code == 1
    assert status(lines) == {"broker": "ok", "scicat": "ok", "login": "FAIL"}
    assert "admin" in lines[2] and "refused" in lines[2]
    assert all(wrong not in line for line in lines)


def test_accepted_and_refused_tokens(scicat_env):
    from archiver.scicat import connect

    env = scicat_env()
    url = normalise_scicat_url(env["ARCHIVER_SCICAT_URL"])
    settings = Settings(scicat_url=url, scicat_user="admin", scicat_password=ADMIN[1])
    with connect(settings) as client:
        client.login()
        token = client.http._grant.token  # noqa: SLF001 - the test needs a real token
    good = {**env, "ARCHIVER_SCICAT_USER": None, "ARCHIVER_SCICAT_PASSWORD": None}
    code, lines = run(**good, ARCHIVER_SCICAT_TOKEN=token)
    assert code == 0, lines
    assert "token" in lines[2]
    bogus = "bogus-token-value-123"
    code, lines = run(**good, ARCHIVER_SCICAT_TOKEN=bogus)
    assert code == 1 and status(lines)["login"] == "FAIL"
    assert all(bogus not in line and token not in line for line in lines)


def test_unreachable_broker_port(scicat_env):
    secret = "broker-Secret-77"
    port = free_port()
    code, lines = run(
        **scicat_env(ARCHIVER_BROKER_URL=f"127.0.0.1:{port}", ARCHIVER_BROKER_PASSWORD=secret)
    )
    assert code == 1
    assert status(lines) == {"broker": "FAIL", "scicat": "ok", "login": "ok"}
    assert f"127.0.0.1:{port}" in lines[0] and "refused" in lines[0].lower()
    assert all(secret not in line for line in lines)


def test_wrong_broker_password(scicat_env):
    secret = "wrong-broker-pw-88"
    code, lines = run("--skip-scicat", **scicat_env(ARCHIVER_BROKER_PASSWORD=secret))
    assert code == 1
    assert status(lines) == {"broker": "FAIL"}
    assert "ACCESS_REFUSED" in lines[0]
    assert secret not in lines[0] and "***" in lines[0]


def test_skip_scicat_needs_no_scicat_settings(broker_url):
    code, lines = run("--skip-scicat", ARCHIVER_BROKER_URL="127.0.0.1")
    assert code == 0, lines
    assert status(lines) == {"broker": "ok"}


def test_unreachable_scicat(scicat_env):
    code, lines = run(**scicat_env(ARCHIVER_SCICAT_URL=f"http://127.0.0.1:{free_port()}"))
    assert code == 1
    assert status(lines) == {"broker": "ok", "scicat": "FAIL", "login": "FAIL"}
    assert "not tried" in lines[2]


def test_missing_scicat_url(broker_url):
    code, lines = run(ARCHIVER_BROKER_URL="127.0.0.1")
    assert code == 1
    assert "ARCHIVER_SCICAT_URL" in lines[1]


def test_broker_check_with_a_url_that_embeds_the_password():
    secret = "In-Url-Secret-99"
    settings = Settings(broker_url=f"amqp://guest:{secret}@127.0.0.1:{free_port()}//")
    check = check_broker(settings, timeout=2)
    assert not check.ok
    assert secret not in check.line()


def test_scrub_masks_plain_and_url_quoted_secrets_and_keeps_one_line():
    text = "pw=a/b c\nquoted=a%2Fb%20c " + "x" * 500
    out = scrub(text, ["a%2Fb%20c", "a/b c"])
    assert "a/b c" not in out and "a%2Fb" not in out
    assert "\n" not in out and len(out) <= 200
