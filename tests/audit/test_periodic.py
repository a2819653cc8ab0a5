"""The periodic fixity audit: the beat schedule exists only when ARCHIVER_AUDIT_INTERVAL is
set, and the task (applied eagerly, as a worker would run it) audits a small archive on each
backend read-only: clean runs succeed with the summary, a damaged tar fails the run."""

from __future__ import annotations

import pytest

import celeryconfig
from archiver import runtime
from archiver.audit.periodic import AuditFindings
from archiver.errors import ConfigError
from archiver.settings import Settings, load_settings
from tasks.audit import periodic_audit

from .test_audit import damage


def test_the_beat_schedule_has_the_audit_only_when_an_interval_is_set():
    config = celeryconfig.from_settings(load_settings({"ARCHIVER_AUDIT_INTERVAL": "3600"}))
    assert config["beat_schedule"] == {
        "archiver-fixity-audit": {
            "task": "archiver.audit.periodic",
            "schedule": 3600.0,
            "options": {"expires": 3600.0},
        }
    }
    assert celeryconfig.from_settings(Settings())["beat_schedule"] == {}
    assert load_settings({"ARCHIVER_AUDIT_SAMPLE": "0.25"}).audit_sample == 0.25
    with pytest.raises(ConfigError, match="ARCHIVER_AUDIT_SAMPLE must be a fraction"):
        load_settings({"ARCHIVER_AUDIT_SAMPLE": "1.5"})


@pytest.fixture
def configured(archived):
    def configure(**changes):
        runtime.configure(archived.settings.replace(**changes))

    yield configure
    runtime.configure(None)


def snapshot(archived):
    return {pid: archived.emulator.dataset(pid)["datasetlifecycle"] for pid in archived.pids}


def test_the_task_audits_every_archived_dataset_and_succeeds_when_clean(archived, configured):
    configured(audit_sample=1.0)
    result = periodic_audit.apply()
    assert result.successful(), result.traceback
    summary = result.get()
    blocks = sum(len(archived.blocks(pid)) for pid in archived.pids)
    assert summary["datasets"] == 2 and summary["findings"] == 0
    assert summary["rehashed"] == blocks and summary["orphansChecked"] is True


def test_the_sample_rate_limits_what_is_rehashed(archived, configured):
    configured(audit_sample=0.0)
    summary = periodic_audit.apply().get()
    assert summary["rehashed"] == 0 and summary["datablocks"] > 0


def test_a_damaged_tar_fails_the_run_with_the_counts_and_changes_nothing(
    archived, configured, caplog
):
    damaged = damage(archived, archived.pids[0])
    before = snapshot(archived)
    configured(audit_sample=1.0)
    result = periodic_audit.apply()
    assert result.failed()
    assert isinstance(result.result, AuditFindings)
    assert "the fixity audit found 1 damaged" in str(result.result)
    assert any(
        r.levelname == "ERROR" and damaged["archiveId"] in r.getMessage() for r in caplog.records
    )
    assert snapshot(archived) == before  # read-only: nothing recorded on the datasets
