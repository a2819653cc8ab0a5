"""``archiver demo``: archive and retrieve the example datasets with no SciCat installed."""

from __future__ import annotations

import sys

import click

from archiver.cli.context import CLIContext


@click.command("demo")
@click.option(
    "--pause",
    type=float,
    default=0.5,
    show_default=True,
    help="pretend each dataset takes this many seconds, to watch work in progress",
)
@click.option(
    "--timeout",
    type=float,
    default=120.0,
    show_default=True,
    help="give up on a job after this many seconds",
)
@click.pass_obj
def demo_command(obj: CLIContext, pause: float, timeout: float) -> None:
    """Run SciCat emulator + worker + bridge here, then archive and retrieve examples.

    Uses the configured RabbitMQ when it answers (on demo queues of its own), otherwise
    an embedded in-memory broker. Exit code 0 when both jobs finished successfully.
    """
    from archiver.demo import run_demo

    sys.exit(run_demo(obj.settings, click.echo, pause=pause, timeout=timeout))
