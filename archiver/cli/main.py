"""The ``archiver`` command group: global options, the shared context, subcommands.

Every subcommand receives a :class:`CLIContext` (``ctx.obj``) that builds the settings once
from the environment and the global flags. An :class:`~archiver.errors.ArchiverError`
anywhere ends the command with one readable line and a non-zero exit code, no traceback.
Each global flag is typed like its setting (``--max-retries INTEGER``) and checked by the
setting's own parser; a global flag given after the command gets a hint where it goes.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from archiver import __version__
from archiver.cli.context import CLIContext
from archiver.configure import LOG_FORMAT
from archiver.errors import ArchiverError, ConfigError
from archiver.setting_values import masked, metavar
from archiver.settings import TABLE, Setting

#: Exit code for configuration errors (sysexits EX_CONFIG).
EXIT_CONFIG = 78
#: Exit code for any other archiver error.
EXIT_FAILURE = 1


def _read_secret_file(path: str | None, option: str) -> str | None:
    if path is None:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{option}: cannot read {path}: {exc.strerror}") from None
    if not text:
        raise ConfigError(f"{option}: {path} is empty")
    return text


class SettingType(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2 on
    """A global flag's value, parsed by its setting's parser (the same checks and messages
    as for the environment variable)."""

    def __init__(self, setting: Setting) -> None:
        self.setting = setting
        self.name = metavar(setting.parse)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return self.name

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        try:
            return self.setting.parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _global_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for setting in reversed(TABLE):
        if setting.flag:
            func = click.option(
                setting.option,
                setting.name,
                default=None,
                type=SettingType(setting),
                help=f"{setting.help} [{setting.env}]",
            )(func)
    return func


#: Flags of the group itself (given before the command).
GLOBAL_FLAGS = frozenset(
    [s.option for s in TABLE if s.flag] + ["--scicat-password-file", "--scicat-token-file"]
)


def _misplaced_global(exc: click.NoSuchOption) -> click.UsageError | None:
    """A usage error with the hint, when ``exc`` is a global flag given after a command."""
    name = exc.option_name.split("=", 1)[0]
    if name not in GLOBAL_FLAGS or exc.ctx is None:
        return None
    command = exc.ctx.command_path.split(" ", 1)[-1]
    return click.UsageError(
        f"{name} is a global option: global options go before the command, "
        f"e.g. archiver {name} VALUE {command} ...",
        ctx=exc.ctx,
    )


class ArchiverGroup(click.Group):
    """A click group that turns archiver errors into one clear line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.NoSuchOption as exc:
            raise _misplaced_global(exc) or exc from None
        except ConfigError as exc:
            click.echo(f"archiver: configuration error: {exc}", err=True)
            sys.exit(EXIT_CONFIG)
        except ArchiverError as exc:
            click.echo(f"archiver: {exc}", err=True)
            sys.exit(EXIT_FAILURE)


@click.group(cls=ArchiverGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="scicat-archiver")
@_global_options
@click.option(
    "--scicat-password-file",
    type=click.Path(dir_okay=False),
    help="read the SciCat password from this file [ARCHIVER_SCICAT_PASSWORD]",
)
@click.option(
    "--scicat-token-file",
    type=click.Path(dir_okay=False),
    help="read a ready SciCat token from this file [ARCHIVER_SCICAT_TOKEN]",
)
@click.pass_context
def cli(
    ctx: click.Context,
    /,
    scicat_password_file: str | None,
    scicat_token_file: str | None,
    **flags: Any,
) -> None:
    """scicat-archiver: archive and retrieve SciCat datasets through Celery chains.

    Settings come from ARCHIVER_* environment variables (the old mock's SCI_URL, SCI_USER,
    SCI_PW, TOKEN, RMQ_URL, RMQ_USER, RMQ_PW also work) or from the flags below. Secrets are
    never taken on the command line: use the environment or the *-file options.
    """
    flags["scicat_password"] = _read_secret_file(scicat_password_file, "--scicat-password-file")
    flags["scicat_token"] = _read_secret_file(scicat_token_file, "--scicat-token-file")
    ctx.obj = CLIContext(flags=flags)
    # Until a command reads its settings (which sets ARCHIVER_LOG_LEVEL: CLIContext).
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)


@cli.command("config")
@click.option("--markdown", is_flag=True, help="print the configuration table as Markdown")
@click.pass_obj
def config_command(obj: CLIContext, markdown: bool) -> None:
    """Show the effective configuration (secrets hidden), or the table of settings."""
    from archiver.settings import markdown_table

    if markdown:
        click.echo(markdown_table())
        return
    settings = obj.settings
    for setting in TABLE:
        value = masked(getattr(settings, setting.name))
        if setting.secret and value:
            value = "***"
        click.echo(f"{setting.env}={'' if value is None else value}")


def _register() -> None:
    """Attach every subcommand module's command to the group."""
    from archiver.cli import batch, demo, emulator, health, ingest, intake, jobs, reset, selftest

    cli.add_command(demo.demo_command)
    cli.add_command(emulator.emulator_command)
    cli.add_command(health.health_command)
    cli.add_command(intake.bridge_command)
    cli.add_command(intake.poll_command)
    cli.add_command(intake.serve_command)
    cli.add_command(ingest.ingest_command)
    cli.add_command(jobs.job_group)
    cli.add_command(batch.batch_command)
    cli.add_command(reset.reset_command)
    cli.add_command(selftest.selftest_command)
    from archiver.cli.audit import audit_command

    cli.add_command(audit_command)
    from archiver.cli.reconcile import reconcile_command

    cli.add_command(reconcile_command)


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="archiver")
