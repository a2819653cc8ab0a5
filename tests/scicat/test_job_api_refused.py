"""backend-next 4.4-4.13 refuse their own v3 job API to every account (backend.md §10).

The client turns that 403 into :class:`JobApiRefused`, whose one line names the cause and
the remedy; the poller, the batch tool and ``job watch`` stop with it instead of looping
or leaving datasets scheduled.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from archiver.cli.main import cli
from archiver.errors import AuthError, JobApiRefused
from archiver.scicat import DatasetRef, connect

from .conftest import ADMIN, settings_for

REMEDY = "upgrade SciCat to 4.14 or newer"


def refusing_job_api(emulator_factory):
    """A next-legacy emulator whose job API answers 403 to reads and updates, like 4.13."""
    emu = emulator_factory(flavour="next-legacy")
    for method in ("GET", "PATCH", "DELETE"):
        emu.inject_fault(r"^/api/v3/[Jj]obs", 403, count=10_000, method=method)
    return emu


def test_every_job_read_and_update_names_the_cause_and_the_remedy(emulator_factory):
    emu = refusing_job_api(emulator_factory)
    with connect(settings_for(emu, "next-legacy")) as client:
        job = client.create_job("archive", [DatasetRef(emu.add_dataset())])  # POST still works
        calls = (
            lambda: client.get_job(job.id),
            lambda: client.list_jobs("jobSubmitted"),
            lambda: client.update_job(job.id, "inProgress", "x"),
        )
        for call in calls:
            with pytest.raises(JobApiRefused) as err:
                call()
            assert REMEDY in str(err.value) and "4.4.0 to 4.13" in str(err.value)


def test_a_403_on_v4_jobs_is_a_plain_permission_error(emulator_factory):
    emu = emulator_factory(flavour="next")
    emu.inject_fault(r"^/api/v4/jobs", 403, count=10, method="GET")
    with connect(settings_for(emu, "next")) as client:
        with pytest.raises(AuthError) as err:
            client.list_jobs("jobSubmitted")
    assert not isinstance(err.value, JobApiRefused)


def _run(emu, *args):
    flags = ["--scicat-url", emu.url, "--scicat-user", ADMIN[0], "--scicat-api", "next-legacy"]
    env = {"ARCHIVER_SCICAT_PASSWORD": ADMIN[1]}
    return CliRunner().invoke(cli, [*flags, *args], env=env, catch_exceptions=False)


def test_poll_stops_with_one_line_instead_of_logging_the_403_forever(emulator_factory):
    emu = refusing_job_api(emulator_factory)
    result = _run(emu, "poll", "--once")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and REMEDY in result.stderr


@pytest.mark.rabbitmq
def test_the_poll_loop_ends_on_the_refusal(emulator_factory, broker_url):
    from archiver import app
    from archiver.intake.poller import Poller

    emu = refusing_job_api(emulator_factory)
    settings = settings_for(emu, "next-legacy").replace(poll_interval=0.05)
    with connect(settings) as client:
        poller = Poller(app, settings, client)
        with pytest.raises(JobApiRefused):
            poller.run()  # returns only through the error: without it this loops forever
    polls = [p for (m, p, _s) in emu.request_log if m == "GET" and "/Jobs" in p]
    assert len(polls) == 1


def test_job_watch_stops_with_the_remedy(emulator_factory):
    emu = refusing_job_api(emulator_factory)
    job_id = emu.add_job("archive", [emu.add_dataset()])
    result = _run(emu, "job", "watch", job_id, "--interval", "0.05")
    assert result.exit_code == 1 and REMEDY in result.stderr


def test_batch_in_process_ingests_and_schedules_nothing(emulator_factory, tmp_path):
    from tests.tools.conftest import make_dataset

    emu = refusing_job_api(emulator_factory)
    make_dataset(tmp_path / "incoming", "a")
    result = _run(emu, "batch", "--in-process", str(tmp_path / "incoming"))
    assert result.exit_code == 1 and REMEDY in result.stderr
    assert not emu._app.store.datasets and not emu.jobs()
