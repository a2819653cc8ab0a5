"""The global options of ``archiver``: typed in --help, checked like their variables,
``--version``, and a hint when a global option is given after the command."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from archiver import __version__
from archiver.cli.main import cli
from archiver.setting_values import _parse_str
from archiver.settings import TABLE


def run(*args: str):
    return CliRunner().invoke(cli, list(args), env={s.env: "" for s in TABLE})


#: Parsers of free-text values that are checked but shown as TEXT (S3 endpoint, class).
TEXT_PARSERS = {"_parse_endpoint", "_parse_storage_class"}


def help_metavars() -> dict[str, str]:
    text = run("--help").output
    return dict(re.findall(r"^\s+(--[a-z0-9-]+) (\S+)", text, re.M))


def test_every_global_option_shows_its_kind_of_value():
    shown = help_metavars()
    for setting in TABLE:
        if not setting.flag:
            continue
        kind = shown[setting.option]
        if (
            setting.parse is _parse_str
            or setting.parse.__name__ in TEXT_PARSERS
            or setting.name == "s3_restore_tier"  # a choice read case-insensitively
        ):
            assert kind == "TEXT", setting.option
        else:
            assert kind != "TEXT", f"{setting.option} is shown as TEXT"
    assert shown["--max-retries"] == "INTEGER"
    assert shown["--scicat-timeout"] == "NUMBER"
    assert shown["--scicat-api"] == "[auto|loopback|next-legacy|next]"
    assert shown["--log-level"] == "[debug|info|warning|error]"
    assert shown["--bridge-in-worker"] == "BOOLEAN"


def test_a_flag_is_parsed_like_its_variable():
    result = run("--max-retries", "3", "--log-level", "debug", "--checksum", "MD5", "config")
    assert result.exit_code == 0, result.output
    assert "ARCHIVER_MAX_RETRIES=3" in result.output
    assert "ARCHIVER_LOG_LEVEL=DEBUG" in result.output
    assert "ARCHIVER_CHECKSUM=md5" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-retries", "x"], "must be an integer, got 'x'"),
        (["--scicat-api", "v9"], "must be one of auto, loopback, next-legacy, next"),
        (["--archive-root", "relative"], "must be an absolute folder"),
    ],
)
def test_a_bad_flag_value_is_one_clear_error_naming_the_flag(args, message):
    result = run(*args, "config")
    assert result.exit_code == 2
    assert f"Invalid value for '{args[0]}': {message}" in result.output
    assert "Traceback" not in result.output


def test_version():
    result = run("--version")
    assert (
        result.exit_code == 0 and result.output.strip() == f"scicat-archiver, version {__version__}"
    )


@pytest.mark.parametrize("flag", ["--scicat-url", "--max-retries", "--scicat-password-file"])
def test_a_global_option_after_the_command_gets_a_hint(flag):
    result = run("job", "watch", "j1", flag, "x")
    assert result.exit_code == 2
    assert (
        f"{flag} is a global option: global options go before the command, "
        f"e.g. archiver {flag} VALUE job watch ..."
    ) in result.output


def test_an_unknown_option_of_a_command_keeps_click_s_message():
    result = run("job", "watch", "j1", "--no-such-thing")
    assert result.exit_code == 2 and "No such option '--no-such-thing'" in result.output
