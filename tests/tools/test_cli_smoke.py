"""Every operator command has --help, and the installed ``archiver`` script runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli.main import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "datasets"


@pytest.mark.parametrize(
    "command", [["ingest"], ["job"], ["job", "create"], ["job", "watch"], ["batch"], ["reset"]]
)
def test_each_command_has_help(command):
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0 and "Usage: " in result.output


def test_the_installed_script_dry_runs_the_shipped_example():
    script = Path(sys.executable).parent / "archiver"
    folder = EXAMPLES / "xray-scan-2024"
    done = subprocess.run(
        [str(script), "--scicat-api", "next", "ingest", "--dry-run", str(folder)],
        capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    requests = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["request"] for r in requests] == ["dataset", "origdatablock", "attachment"]
    listed = {f["path"] for f in requests[1]["body"]["dataFileList"]}
    assert "thumbnail/overview.png" in listed and "transfer.yaml" not in listed
    assert requests[2]["body"]["thumbnail"].startswith("data:image/png;base64,")


def test_a_missing_password_file_is_a_configuration_error(emulator_factory, tmp_path):
    emu = emulator_factory(flavour="next")
    args = ["--scicat-url", emu.url, "--scicat-user", "ingestor"]
    args += ["--scicat-password-file", str(tmp_path / "nope"), "reset", "x"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 78 and "--scicat-password-file" in result.stderr
    assert not emu.request_log
