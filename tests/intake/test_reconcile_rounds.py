"""What the reconciler decides about each job (dry runs against the emulator), how it pages
through SciCat, and ``archiver reconcile --once --dry-run``.

Which jobs have a task on a worker is given to the reconciler here (``live``); the fault
suite (tests/faults/test_reconcile.py) runs the same rounds with real workers.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner

from archiver import app
from archiver.cli.main import cli
from archiver.intake.reconcile import Reconciler
from archiver.scicat import connect
from archiver.settings import Settings

ADMIN = ("admin", "2jf70TPNZsS")
HOUR = 3600.0


def settings_for(emu: Any, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "scicat_url": emu.url,
        "scicat_user": ADMIN[0],
        "scicat_password": ADMIN[1],
        "scicat_timeout": 5.0,
        "reconcile_submitted_grace": 600.0,
        "reconcile_stale_after": 2 * HOUR,
        "reconcile_max_resumes": 2,
    }
    return Settings(**{**values, **extra})


def backdate(emu: Any, job_id: str, seconds: float, **fields: Any) -> None:
    """Make the job ``seconds`` old (created and last updated then), with ``fields`` set."""
    stamp = datetime.fromtimestamp(time.time() - seconds, UTC).isoformat()
    stamp = stamp.replace("+00:00", "Z")
    emu._app.store.update_job(
        job_id, lambda d: d.update(createdAt=stamp, updatedAt=stamp, **fields)
    )


def claimed(run: str, resumes: int = 0) -> dict[str, Any]:
    return {
        "statusCode": "inProgress",
        "statusMessage": "Archiving 1 dataset",
        "jobResultObject": {"archiver": {"run": run, "resumes": resumes}},
    }


def reconciler(settings: Settings, live: set[str] | None) -> Reconciler:
    client = connect(settings)
    return Reconciler(app, settings, lambda: client, live=lambda _app: live)


@pytest.mark.parametrize("flavour", ["next", "loopback", "next-legacy"])
def test_each_stuck_job_gets_its_verdict(emulator_factory, flavour):
    emu = emulator_factory(flavour=flavour, amqp_url="none")
    pid = emu.add_dataset()
    jobs = {name: emu.add_job("archive", [pid]) for name in (
        "lost", "fresh", "quiet", "busy", "worn", "recent", "finished", "other")}  # fmt: skip
    backdate(emu, jobs["lost"], 700)
    backdate(emu, jobs["fresh"], 100)
    backdate(emu, jobs["quiet"], 3 * HOUR, **claimed("run-q"))
    backdate(emu, jobs["busy"], 3 * HOUR, **claimed("run-b"))
    backdate(emu, jobs["worn"], 3 * HOUR, **claimed("run-w", resumes=2))
    backdate(emu, jobs["recent"], HOUR, **claimed("run-r"))
    backdate(emu, jobs["finished"], 3 * HOUR, statusCode="finishedSuccessful")
    emu._app.store.update_job(jobs["other"], lambda d: d.update(type="public"))
    backdate(emu, jobs["other"], 3 * HOUR)
    actions = reconciler(settings_for(emu), live={jobs["busy"]}).round(dry_run=True)
    verdicts = {a.job_id: (a.action, a.reason) for a in actions}
    names = {v: k for k, v in jobs.items()}
    assert {names[j]: v[0] for j, v in verdicts.items()} == {
        "lost": "start",
        "quiet": "resume",
        "busy": "skip",
        "worn": "fail",
    }
    assert "run run-q" in verdicts[jobs["quiet"]][1]
    assert "a task of this job is on a worker" in verdicts[jobs["busy"]][1]
    assert "after 2 resumption(s)" in verdicts[jobs["worn"]][1]
    # A dry run changes nothing.
    assert emu.job(jobs["lost"])["statusCode"] == "jobSubmitted"
    assert emu.job(jobs["quiet"])["jobResultObject"]["archiver"]["run"] == "run-q"


def test_without_an_answering_worker_lost_chains_are_not_judged(emulator_factory):
    emu = emulator_factory(flavour="next", amqp_url="none")
    pid = emu.add_dataset()
    quiet, lost = emu.add_job("archive", [pid]), emu.add_job("archive", [pid])
    backdate(emu, quiet, 3 * HOUR, **claimed("run-q"))
    backdate(emu, lost, 700)
    actions = reconciler(settings_for(emu), live=None).round(dry_run=True)
    assert [(a.job_id, a.action) for a in actions] == [(lost, "start"), (quiet, "skip")]
    assert "no worker answered" in actions[1].reason


def test_a_round_reads_at_most_the_limit_and_the_next_round_goes_on_from_there(
    emulator_factory,
):
    emu = emulator_factory(flavour="next", amqp_url="none")
    pid = emu.add_dataset()
    job_ids = [emu.add_job("archive", [pid]) for _ in range(7)]
    for age, job_id in zip(range(7000, 0, -1000), job_ids, strict=True):
        backdate(emu, job_id, age + 3 * HOUR, **claimed(f"run-{job_id}"))
    rec = reconciler(settings_for(emu, reconcile_limit=3), live=set())
    seen = []
    for _ in range(3):
        before = len(emu.request_log)
        seen.append([a.job_id for a in rec.round(dry_run=True)])
        lists = [p for m, p, _ in emu.request_log[before:] if m == "GET" and p.endswith("/jobs")]
        assert len(lists) <= 2 + 1  # a page per status, and one more to find the end
    assert seen == [job_ids[:3], job_ids[3:6], job_ids[6:]]
    assert [a.job_id for a in rec.round(dry_run=True)] == job_ids[:3]  # round again


def test_archiver_reconcile_once_dry_run_prints_a_table_and_changes_nothing(
    emulator_factory, broker_url, monkeypatch
):
    monkeypatch.setenv("ARCHIVER_BROKER_URL", broker_url)
    emu = emulator_factory(flavour="next", amqp_url="none")
    pid = emu.add_dataset()
    lost = emu.add_job("archive", [pid])
    backdate(emu, lost, 700)
    monkeypatch.setenv("ARCHIVER_SCICAT_PASSWORD", ADMIN[1])
    result = CliRunner().invoke(
        cli,
        ["--scicat-url", emu.url, "--scicat-user", ADMIN[0], "reconcile", "--once", "--dry-run"],
    )
    assert result.exit_code == 0, result.output
    header, row = result.output.splitlines()[:2]
    assert header.split()[:5] == ["JOB", "TYPE", "STATUS", "AGE", "ACTION"]
    assert row.startswith(lost) and "would start" in row and "message lost" in row
    assert emu.job(lost)["statusCode"] == "jobSubmitted"
    assert ADMIN[1] not in result.output


def test_archiver_reconcile_without_once_needs_an_interval(emulator_factory):
    emu = emulator_factory(flavour="next", amqp_url="none")
    result = CliRunner().invoke(
        cli, ["--scicat-url", emu.url, "--reconcile-interval", "0", "reconcile"]
    )
    assert result.exit_code == 2
    assert "ARCHIVER_RECONCILE_INTERVAL is 0: give --once" in result.output
