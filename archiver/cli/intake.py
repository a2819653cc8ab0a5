"""``archiver bridge``, ``archiver serve``, ``archiver poll``: the ways jobs enter the pipeline."""

from __future__ import annotations

import signal
from typing import Any

import click

from archiver.cli.context import CLIContext

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _stop_on_signals(stop: Any) -> None:
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda *_: stop())


def _default_signals() -> None:
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)


@click.command("bridge")
@click.pass_obj
def bridge_command(obj: CLIContext) -> None:
    """Consume SciCat's job queue and start one Celery chain per new job.

    Declares the queue exactly like the backend (durable, no arguments; durable topic
    exchange), parses bodies without content type, drops echoes and duplicates, and
    quarantines unusable messages in ARCHIVER_QUARANTINE_QUEUE with the reason.
    Reconnects by itself when the broker restarts (one log line per attempt; a refused
    login names ARCHIVER_BROKER_URL/USER/PASSWORD). Stop with Ctrl-C or SIGTERM: it ends
    within a second, at once while it waits for the broker; a second signal ends it even
    in the middle of queueing a chain (the job message then goes back to the queue).
    """
    from archiver import app
    from archiver.configure import apply_to_app
    from archiver.intake.bridge import Bridge

    settings = obj.settings
    apply_to_app(app, settings)
    bridge = Bridge(app, settings)

    _stop_on_signals(bridge.stop)
    try:
        bridge.run()
    finally:
        _default_signals()
    click.echo(f"bridge stopped: {bridge.handler.counts}")


@click.command("poll")
@click.option("--once", is_flag=True, help="poll one time and exit")
@click.pass_obj
def poll_command(obj: CLIContext, once: bool) -> None:
    """Start chains for jobs found in the submitted state, every ARCHIVER_POLL_INTERVAL s.

    For backend-next 4.0-4.13, which publishes nothing, and for sites that prefer polling.
    """
    from archiver import app
    from archiver.configure import apply_to_app
    from archiver.intake.poller import Poller
    from archiver.scicat import connect

    settings = obj.settings
    apply_to_app(app, settings)
    poller = Poller(app, settings, connect(settings))
    if once:
        click.echo(f"{poller.poll_once()} job(s) taken")
        return
    _stop_on_signals(poller.stop)
    poller.run()


@click.command("serve")
@click.pass_obj
def serve_command(obj: CLIContext) -> None:
    """Take the jobs SciCat's url job action POSTs and start one Celery chain per new job.

    Listens on ARCHIVER_SERVE_HOST:ARCHIVER_SERVE_PORT: POST /jobs (Basic auth with
    ARCHIVER_SERVE_USER and ARCHIVER_SERVE_PASSWORD or ARCHIVER_SERVE_PASSWORD_FILE) answers
    202 once the chain is queued, 200 for echoes, other job types and duplicates, 400 with
    the reason for an unusable body, 503 when the broker does not take the chain (SciCat
    then reports the error); GET /health answers 200 while the broker is reachable. Stop
    with Ctrl-C or SIGTERM. The jobConfig.yaml snippet is in docs/intake.md.
    """
    import threading

    from archiver import app, runtime
    from archiver.intake.http_intake import IntakeServer

    settings = obj.settings
    runtime.configure(settings)
    try:
        server = IntakeServer(app, settings)
    except OSError as exc:
        address = f"{settings.serve_host}:{settings.serve_port}"
        raise click.ClickException(
            f"cannot listen on {address} ({exc.strerror or exc}): "
            "set ARCHIVER_SERVE_HOST/ARCHIVER_SERVE_PORT"
        ) from None
    stopped = threading.Event()
    _stop_on_signals(stopped.set)
    server.start()
    click.echo(f"HTTP intake on {server.url}: POST /jobs, GET /health", err=True)
    try:
        while not stopped.wait(0.5):
            pass
    finally:
        server.stop()
        _default_signals()
    click.echo(f"HTTP intake stopped: {server.counts}")
