"""``archiver selftest`` through a running bridge and worker (the commissioning path)."""

from __future__ import annotations

from click.testing import CliRunner

from archiver.cli.main import cli

from .conftest import ADMIN


def test_selftest_passes_through_the_bridge_and_the_worker(pipeline_factory, tmp_path):
    # The reset stage removes DataBlocks: the account must be in DELETE_GROUPS for "ok".
    pipe = pipeline_factory(
        flavour="next",
        publish_on=("create", "update"),
        emulator_options={"delete_groups": "admin,archivemanager"},
    )
    args = ["--scicat-url", pipe.emulator.url, "--scicat-user", ADMIN[0], "selftest"]
    args += ["--group", "selftest", "--folder", str(tmp_path), "--timeout", "60"]
    result = CliRunner().invoke(
        cli, args, env={"ARCHIVER_SCICAT_PASSWORD": ADMIN[1]}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    stages = [line.split()[:2] for line in result.stdout.splitlines()]
    assert [s for s, _ in stages] == ["rights", "ingest", "archive", "retrieve", "reset", "cleanup"]
    assert {w for _, w in stages} == {"ok"}, result.stdout
    assert {j["type"] for j in pipe.emulator.jobs()} == {"archive", "retrieve", "reset"}
