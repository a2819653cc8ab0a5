"""``archiver health`` checks what the account may do, without changing anything.

The answers are those of a real backend v5.2.1 with scicatlive's group settings (backend.md
§10, and seen again on 2026-12-03): a DELETE of a DataBlock of a dataset that does not exist
answers 403 to an account outside DELETE_GROUPS (the permission guard comes first) and 404
otherwise; a PATCH of a job that does not exist answers 403 to an account that may update no
job and 400 otherwise; another group's job or dataset answers 403.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from archiver.cli.main import cli
from archiver.settings import TABLE

ADMIN = ("admin", "2jf70TPNZsS")


def health(emu, *args):
    env: dict[str, str | None] = {name: None for s in TABLE for name in (s.env, *s.aliases)}
    env.update(
        ARCHIVER_SCICAT_URL=emu.url,
        ARCHIVER_SCICAT_USER=ADMIN[0],
        ARCHIVER_SCICAT_PASSWORD=ADMIN[1],
        ARCHIVER_BROKER_URL="127.0.0.1",
    )
    result = CliRunner().invoke(cli, ["health", *args], env=env, catch_exceptions=False)
    return result.exit_code, [line for line in result.output.splitlines() if line.strip()]


def lines_of(lines, name):
    return [line for line in lines if line.split()[0] == name]


@pytest.fixture
def emu(emulator_factory, broker_url):
    emu = emulator_factory(flavour="next", profile="permissive")  # faults say what is refused
    pid = emu.add_dataset()
    emu.add_job("archive", [pid])
    return emu


def test_an_account_that_may_do_everything_gets_only_ok(emu):
    code, lines = health(emu)
    assert code == 0, lines
    assert all(line.split()[1] == "ok" for line in lines), lines
    [account] = lines_of(lines, "account")
    assert "admin" in account


def test_no_right_to_delete_datablocks_is_a_warning_naming_delete_groups(emu):
    emu.inject_fault(r"/datablocks/", 403, count=5, method="DELETE")
    code, lines = health(emu)
    assert code == 0, lines
    [line] = lines_of(lines, "datablocks")
    assert line.split()[1] == "WARN" and "DELETE_GROUPS" in line
    assert not emu.datablocks(emu.jobs()[0]["jobParams"]["datasetList"][0]["pid"])


def test_no_right_to_update_jobs_fails_naming_the_settings(emu):
    emu.inject_fault(r"^/api/v4/jobs/", 403, count=5, method="PATCH")
    code, lines = health(emu)
    assert code == 1
    [line] = [x for x in lines_of(lines, "jobs") if "FAIL" in x]
    assert "may not update jobs" in line and "UPDATE_JOB_PRIVILEGED_GROUPS" in line
    assert all(job["statusCode"] == "jobSubmitted" for job in emu.jobs()), "nothing changed"


def test_a_job_and_its_datasets_that_the_account_may_not_read_fail(emu):
    job = emu.jobs()[0]
    emu.inject_fault(r"^/api/v4/jobs/[^/]+$", 403, count=5, method="GET")
    code, lines = health(emu, "--job", job["id"])
    assert code == 1
    [line] = lines_of(lines, "job")
    assert "FAIL" in line and "ADMIN_GROUPS" in line
    emu.clear_faults()
    emu.inject_fault(r"/origdatablocks$", 403, count=5, method="GET")
    code, lines = health(emu, "--job", job["id"])
    assert code == 1
    [line] = [x for x in lines_of(lines, "dataset") if "FAIL" in x]
    assert "OrigDatablocks" in line


def test_an_account_that_sees_nothing_is_warned(emulator_factory, broker_url):
    code, lines = health(emulator_factory(flavour="next"))
    assert code == 0
    assert [x.split()[1] for x in lines_of(lines, "datasets")] == ["ok", "WARN"]
    assert "ADMIN_GROUPS" in lines_of(lines, "datasets")[1]


def test_the_job_api_defect_of_backend_next_4_13_fails_health(emulator_factory, broker_url):
    emu = emulator_factory(flavour="next-legacy")
    emu.inject_fault(r"^/api/v3/[Jj]obs", 403, count=50, method="GET")
    code, lines = health(emu)
    assert code == 1
    [line] = lines_of(lines, "jobs")
    assert "FAIL" in line and "4.14" in line


def test_under_scicatlive_settings_admin_is_warned_about_datablock_deletes(
    emulator_factory, broker_url
):
    code, lines = health(emulator_factory(flavour="next"))  # the emulator's default profile
    assert code == 0, lines
    [line] = lines_of(lines, "datablocks")
    assert line.split()[1] == "WARN" and "DELETE_GROUPS" in line
