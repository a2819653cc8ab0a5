"""``archiver bridge`` and ``archiver poll``: the two ways jobs enter the pipeline."""

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
    from archiver import app, runtime
    from archiver.intake.bridge import Bridge

    settings = obj.settings
    runtime.configure(settings)
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
    from archiver import app, runtime
    from archiver.intake.poller import Poller
    from archiver.scicat import connect

    settings = obj.settings
    runtime.configure(settings)
    poller = Poller(app, settings, connect(settings))
    if once:
        click.echo(f"{poller.poll_once()} job(s) taken")
        return
    _stop_on_signals(poller.stop)
    poller.run()
