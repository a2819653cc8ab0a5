"""Settings: defaults, old-mock aliases, precedence, URL normalisation, clear errors."""

from __future__ import annotations

import pytest

from archiver.errors import ConfigError
from archiver.settings import TABLE, Settings, load_settings, markdown_table


def test_defaults_need_no_environment():
    settings = load_settings({})
    assert settings == Settings()
    assert settings.scicat_api == "auto"
    assert (settings.job_exchange, settings.job_queue, settings.job_routing_key) == (
        "jobs.write",
        "client.jobs.write",
        "jobqueue",
    )


def test_old_mock_names_are_aliases():
    env = {
        "SCI_URL": "http://backend:3000/api/v3/",
        "SCI_USER": "admin",
        "SCI_PW": "pw",
        "TOKEN": "tok",
        "RMQ_URL": "rabbitmq",
        "RMQ_USER": "u",
        "RMQ_PW": "p",
    }
    s = load_settings(env)
    assert s.scicat_url == "http://backend:3000"
    assert (s.scicat_user, s.scicat_password, s.scicat_token) == ("admin", "pw", "tok")
    assert s.broker == "amqp://u:p@rabbitmq:5672//"


def test_archiver_name_wins_over_alias_and_flag_wins_over_both():
    env = {"ARCHIVER_SCICAT_USER": "new", "SCI_USER": "old"}
    assert load_settings(env).scicat_user == "new"
    assert load_settings(env, {"scicat_user": "flag"}).scicat_user == "flag"


def test_empty_alias_falls_through_to_default():
    # The old mock's Docker image turned unset variables into empty strings.
    assert load_settings({"TOKEN": "", "RMQ_URL": ""}).scicat_token is None
    assert load_settings({"RMQ_URL": ""}).broker_url == "127.0.0.1"


@pytest.mark.parametrize(
    "url",
    [
        "http://backend:3000",
        "http://backend:3000/",
        "http://backend:3000/api/v3",
        "http://backend:3000/api/v3/",
        "HTTP://backend:3000/api/v3//",
    ],
)
def test_scicat_url_with_or_without_api_suffix_gives_the_server_root(url):
    assert load_settings({"SCI_URL": url}).scicat_url.lower() == "http://backend:3000"


def test_reverse_proxy_prefix_is_kept():
    s = load_settings({"SCI_URL": "https://scicat.example.org/catalog/api/v3/"})
    assert s.scicat_url == "https://scicat.example.org/catalog"


def test_full_amqp_url_gets_credentials_only_when_it_has_none():
    s = load_settings({"RMQ_URL": "amqp://rabbit:5673/vh", "RMQ_USER": "a", "RMQ_PW": "b"})
    assert s.broker == "amqp://a:b@rabbit:5673/vh"
    s = load_settings({"RMQ_URL": "amqp://x:y@rabbit//", "RMQ_USER": "a"})
    assert s.broker == "amqp://x:y@rabbit//"


def test_broker_password_is_quoted_and_masked_for_display():
    s = load_settings({"RMQ_URL": "rabbit", "RMQ_PW": "p@ss/word"})
    assert "p%40ss%2Fword" in s.broker
    assert "p%40ss" not in s.broker_display and "***" in s.broker_display


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SCI_URL": "backend:3000"}, "SCI_URL"),
        ({"ARCHIVER_SCICAT_URL": "ftp://x"}, "ARCHIVER_SCICAT_URL"),
        ({"ARCHIVER_SCICAT_API": "v5"}, "ARCHIVER_SCICAT_API"),
        ({"ARCHIVER_MAX_RETRIES": "many"}, "ARCHIVER_MAX_RETRIES"),
        ({"ARCHIVER_MAX_RETRIES": "-1"}, "ARCHIVER_MAX_RETRIES"),
        ({"ARCHIVER_SCICAT_TIMEOUT": "soon"}, "ARCHIVER_SCICAT_TIMEOUT"),
        ({"ARCHIVER_BRIDGE_IN_WORKER": "maybe"}, "ARCHIVER_BRIDGE_IN_WORKER"),
        ({"RMQ_URL": "rabbit host"}, "RMQ_URL"),
        ({"ARCHIVER_BLOCK_MAX_FILES": "0"}, "ARCHIVER_BLOCK_MAX_FILES"),
    ],
)
def test_malformed_value_names_the_variable(env, named):
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    assert str(info.value).startswith(named + " ")
    assert "\n" not in str(info.value)


def test_missing_scicat_url_is_reported_by_name():
    with pytest.raises(ConfigError, match="ARCHIVER_SCICAT_URL"):
        load_settings({}).require_scicat()


def test_missing_credentials_are_reported_by_name():
    with pytest.raises(ConfigError, match="ARCHIVER_SCICAT_PASSWORD"):
        load_settings({"SCI_URL": "http://x", "SCI_USER": "admin"}).require_scicat()


def test_secrets_do_not_show_in_repr():
    s = load_settings({"SCI_PW": "hunter2", "TOKEN": "tok123", "RMQ_PW": "rabbitpw"})
    assert "hunter2" not in repr(s) and "tok123" not in repr(s) and "rabbitpw" not in repr(s)


def test_markdown_table_lists_every_setting_once():
    table = markdown_table()
    for setting in TABLE:
        assert table.count(f"`{setting.env}`") == 1


def test_readme_carries_the_current_configuration_table():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme, "regenerate it with: archiver config --markdown"


SECRET_FORMS = [
    ({"ARCHIVER_BROKER_URL": "amqp://archiver:S3cr-et@rabbit:5672//"}, "S3cr-et"),
    ({"ARCHIVER_BROKER_URL": "amqps://archiver:p%40ss%2Fw0rd@rabbit/vh"}, "p%40ss%2Fw0rd"),
    ({"ARCHIVER_BROKER_URL": "amqp://archiver:raw/p@ss@rabbit//"}, "raw/p@ss"),
    ({"RMQ_URL": "amqp://u:aliasPW@rabbit"}, "aliasPW"),
    ({"ARCHIVER_BROKER_URL": "rabbit", "ARCHIVER_BROKER_PASSWORD": "envPW"}, "envPW"),
    ({"RMQ_PW": "oldPW"}, "oldPW"),
    ({"ARCHIVER_RESULT_BACKEND": "redis://:redisPW@redis:6379/0"}, "redisPW"),
    ({"ARCHIVER_RESULT_BACKEND": "redis://default:redisPW2@redis/0"}, "redisPW2"),
    ({"ARCHIVER_RESULT_BACKEND": "redis://redis:6379/0?password=queryPW"}, "queryPW"),
    ({"ARCHIVER_RESULT_BACKEND": "db+postgresql://celery:pgPW@db/results"}, "pgPW"),
    ({"ARCHIVER_SCICAT_PASSWORD": "sciPW"}, "sciPW"),
    ({"SCI_PW": "oldSciPW"}, "oldSciPW"),
    ({"ARCHIVER_SCICAT_TOKEN": "tokenValue"}, "tokenValue"),
]


@pytest.mark.parametrize(("env", "secret"), SECRET_FORMS)
def test_config_output_never_shows_a_secret(env, secret):
    from click.testing import CliRunner

    from archiver.cli.main import cli

    clean = {s.env: "" for s in TABLE} | {a: "" for s in TABLE for a in s.aliases}
    result = CliRunner().invoke(cli, ["config"], env=clean | env)
    assert result.exit_code == 0, result.output
    assert secret not in result.output
    assert "***" in result.output
    assert secret not in load_settings(env).broker_display


def test_config_keeps_the_parts_of_a_url_an_operator_needs():
    from click.testing import CliRunner

    from archiver.cli.main import cli

    env = {
        "ARCHIVER_BROKER_URL": "amqp://archiver:pw@rabbit:5672/vh",
        "ARCHIVER_RESULT_BACKEND": "redis://:pw@redis:6379/0",
    }
    output = CliRunner().invoke(cli, ["config"], env=env).output
    assert "ARCHIVER_BROKER_URL=amqp://archiver:***@rabbit:5672/vh" in output
    assert "ARCHIVER_RESULT_BACKEND=redis://:***@redis:6379/0" in output


def test_the_runtime_builds_its_storage_from_its_own_settings_once(monkeypatch):
    """Storage built before anything else read the environment on its own, so the
    clients (built later) could follow other settings than the storage."""
    from archiver import runtime

    runtime.configure(None)
    monkeypatch.setenv("ARCHIVER_BLOCK_MAX_FILES", "7")
    try:
        storage = runtime.storage()
        monkeypatch.setenv("ARCHIVER_BLOCK_MAX_FILES", "9")  # read once: no effect now
        assert storage.max_files == runtime.settings().block_max_files == 7
    finally:
        runtime.configure(None)
