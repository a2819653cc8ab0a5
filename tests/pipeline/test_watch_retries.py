"""``archiver job watch`` shows what SciCat never hears of: a step retried by Celery, and
how long a job has stood still.

A real pipeline (emulator -> RabbitMQ -> bridge -> embedded worker) archives two datasets;
the first DataBlock POST waits 3 s and then answers 503, so the ``add_datablocks`` step is
retried. The watcher reads the retry from the workers' task events on the broker.
"""

from __future__ import annotations

from click.testing import CliRunner
from kombu.utils.url import parse_url

from archiver.cli.main import cli

from .conftest import ADMIN
from .helpers import seed, submit


def test_job_watch_shows_a_step_retry_and_the_time_since_the_last_change(
    pipeline_factory, tmp_path
):
    pipe = pipeline_factory(flavour="next")
    pids = seed(pipe, 2)
    pipe.emulator.inject_fault("/datablocks$", status=503, count=1, method="POST", delay_s=3)
    job_id = submit(pipe, "archive", pids)
    broker = parse_url(pipe.settings.broker)
    secret = tmp_path / "pw"
    secret.write_text(ADMIN[1])
    env = {
        "ARCHIVER_BROKER_USER": broker.get("userid") or "guest",
        "ARCHIVER_BROKER_PASSWORD": broker.get("password") or "guest",
    }
    flags = ["--scicat-url", pipe.emulator.url, "--scicat-user", ADMIN[0]]
    flags += ["--scicat-password-file", str(secret), "--scicat-timeout", "5"]
    flags += ["--broker-url", f"{broker['hostname']}:{broker.get('port') or 5672}"]
    command = ["job", "watch", job_id, "--interval", "0.2", "--quiet-after", "1"]
    command += ["--timeout", "60"]
    result = CliRunner().invoke(cli, [*flags, *command], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    retries = [line for line in lines if "retried after" in line]
    assert retries, result.output
    assert f"job {job_id}: step add_datablocks retried after " in retries[0]
    assert "503" in retries[0]
    quiet = [line for line in lines if ": no change for " in line]
    assert quiet and "status 'inProgress'" in quiet[0], result.output
    assert "retries not shown" not in result.stderr


def test_job_watch_goes_on_without_retries_when_the_broker_does_not_answer(
    pipeline_factory, tmp_path
):
    pipe = pipeline_factory(flavour="next")
    job_id = submit(pipe, "archive", seed(pipe, 1))
    secret = tmp_path / "pw"
    secret.write_text(ADMIN[1])
    flags = ["--scicat-url", pipe.emulator.url, "--scicat-user", ADMIN[0]]
    flags += ["--scicat-password-file", str(secret), "--broker-url", "127.0.0.1:1"]
    command = ["job", "watch", job_id, "--interval", "0.2", "--timeout", "60"]
    result = CliRunner().invoke(cli, [*flags, *command], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    [warning] = [line for line in result.stderr.splitlines() if "retries not shown" in line]
    assert "127.0.0.1:1" in warning and "guest:guest" not in result.output
    assert f"job {job_id} finished: finishedSuccessful" in result.stderr
