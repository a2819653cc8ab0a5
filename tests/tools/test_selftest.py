"""``archiver selftest``: one scratch dataset archived, retrieved, reset and removed."""

from __future__ import annotations

import pytest

STAGES = ["rights", "ingest", "archive", "retrieve", "reset", "cleanup"]


def words(result) -> dict[str, str]:
    return {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()}


@pytest.mark.parametrize("flavour", ["next", "next-legacy", "loopback"])
def test_every_stage_passes_in_process_and_nothing_is_left(
    flavour, emulator_factory, archiver, tmp_path
):
    emu = emulator_factory(flavour=flavour, delete_groups="admin,archivemanager")
    result = archiver(
        emu, "selftest", "--in-process", "--group", "selftest", "--folder", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    assert list(words(result)) == STAGES
    assert set(words(result).values()) == {"ok"}, result.stdout
    assert not emu._app.store.datasets, "the scratch dataset is removed again"
    jobs = emu.jobs()
    assert len(jobs) == (3 if flavour == "next" else 2)  # reset jobs exist only on v4 jobs
    assert {j.get("statusCode") or j.get("jobStatusMessage") for j in jobs} == {
        "finishedSuccessful"
    }


def test_a_failing_archive_fails_the_run_and_still_cleans_up(emulator_factory, archiver, tmp_path):
    emu = emulator_factory(flavour="next", delete_groups="admin,archivemanager")
    emu.inject_fault(r"/datablocks$", 400, count=50, method="POST")
    result = archiver(emu, "selftest", "--in-process", "--group", "g", "--folder", str(tmp_path))
    assert result.exit_code == 1
    assert words(result)["archive"] == "FAIL" and "retrieve" not in words(result)
    assert words(result)["cleanup"] == "ok" and not emu._app.store.datasets


def test_leftovers_the_account_may_not_delete_are_named_but_do_not_fail(
    emulator_factory, archiver, tmp_path
):
    emu = emulator_factory(flavour="next", delete_groups="admin,archivemanager")
    emu.inject_fault(r"^/api/v3/datasets/[^/]+$", 403, count=5, method="DELETE")
    result = archiver(emu, "selftest", "--in-process", "--group", "g", "--folder", str(tmp_path))
    assert result.exit_code == 0, result.output
    [line] = [x for x in result.stdout.splitlines() if x.startswith("cleanup")]
    assert "WARN" in line and "delete by hand" in line and "dataset PID" in line


def test_a_job_no_worker_takes_fails_with_a_hint(emulator_factory, archiver, tmp_path):
    emu = emulator_factory(flavour="next", delete_groups="admin,archivemanager")
    result = archiver(emu, "selftest", "--timeout", "1", "--group", "g", "--folder", str(tmp_path))
    assert result.exit_code == 1
    assert words(result)["archive"] == "FAIL"
    assert "bridge (or poller) and a worker running" in result.stdout
