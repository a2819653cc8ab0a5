"""``archiver emulator``: run the SciCat emulator in the foreground."""

from __future__ import annotations

import signal
import sys
import urllib.parse
from typing import Any

import click

_PUBLISH = {"create": ("create",), "create,update": ("create", "update"), "none": ()}
_PROFILES = ("scicatlive", "permissive")

HELP = """Run an in-memory SciCat backend (for tests, demos and benchmarks).

\b
Flavours: next (backend-next >= 4.14 / 5.x), next-legacy (4.0-4.13, never publishes;
--backend-version 4.4 to 4.13 refuses GET/PATCH/DELETE on /api/v3/Jobs to everyone),
loopback (the LoopBack 3.x backend). Accounts: scicatlive's admin/2jf70TPNZsS (group admin),
ingestor/aman (ingestor), archiveManager/aman (archivemanager), proposalIngestor/aman
(proposalingestor), and user1/user1pass (group1).

\b
Permissions (next, next-legacy): --profile scicatlive (default) answers like backend v5.2.1
configured by scicatlive: ADMIN_GROUPS=admin, DELETE_GROUPS=archivemanager (admin may NOT
delete DataBlocks), CREATE_DATASET_PRIVILEGED_GROUPS=ingestor, job updates only by the user
archiveManager and admins. --profile permissive lets every account do everything. Change
single settings with --group, e.g. --group DELETE_GROUPS=admin,archivemanager.

\b
Admin API (no auth, under /emulator/):
  GET    /emulator/state                          jobs, datasets, datablocks, origdatablocks
  POST   /emulator/faults  {path,status,count,method,delay_s}   arm a fault (path = regex)
  GET    /emulator/faults, DELETE /emulator/faults               list / disarm faults
  POST   /emulator/expire-tokens                  expire every token issued so far
  POST   /emulator/datasets {fields}              seed a dataset, answers {pid}
  POST   /emulator/datasets/{pid}/origdatablocks {files}   seed an OrigDatablock
  POST   /emulator/jobs {type,pids,status,params,publish}  seed a job
  GET    /emulator/requests                       request log and per-path counts
  GET    /emulator/jobs                           id, type, statusCode, createdAt, updatedAt
"""


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _describe(emu: Any, flavour: str, publish_on: tuple[str, ...], amqp_url: str | None,
              exchange: str, routing_key: str) -> str:  # fmt: skip
    if flavour == "next-legacy" or amqp_url is None or not publish_on:
        what = "publishes nothing"
    else:
        events = "create" if flavour == "loopback" else "+".join(publish_on)
        target = f"{mask_url(amqp_url)} exchange {exchange!r} key {routing_key!r}"
        what = f"publishes on {events} to {target}"
    rights = "permissive" if flavour == "loopback" else emu.profile.describe()
    line = f"SciCat emulator ({flavour}) listening on {emu.url}; {what}; permissions {rights}"
    rate = emu.capacity
    return f"{line}; capacity {rate:g} requests/s, one at a time" if rate else line


def parse_group_settings(values: tuple[str, ...]) -> dict[str, str]:
    """``("DELETE_GROUPS=admin,archivemanager",)`` -> ``{"delete_groups": "admin,..."}``."""
    from archiver.emulator.permissions import GROUP_SETTINGS

    out: dict[str, str] = {}
    for value in values:
        name, sep, groups = value.partition("=")
        key = name.strip().lower()
        if not sep or key not in GROUP_SETTINGS:
            known = ", ".join(k.upper() for k in GROUP_SETTINGS)
            raise click.BadParameter(
                f"{value!r}: write SETTING=group1,group2 with SETTING one of {known}",
                param_hint="--group",
            )
        out[key] = groups
    return out


def _seed(emu: Any, count: int) -> None:
    for index in range(count):
        pid = emu.add_dataset(sourceFolder=f"/data/demo/dataset_{index:04d}")
        files = [{"path": f"file_{n}.dat", "size": 1024 * (n + 1), "time": "2024-01-01T00:00:00Z"}
                 for n in range(3)]  # fmt: skip
        emu.add_origdatablock(pid, files=files)
        click.echo(pid)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _url_action(opts: dict[str, Any]) -> Any:
    """The url job action of --url-action, with Basic credentials from --url-action-auth-env."""
    from archiver.emulator import UrlAction

    if not opts["url_action"]:
        return None
    headers = {"Content-Type": "application/json"}
    if opts["url_action_auth_env"]:
        headers["Authorization"] = "Basic {{{ env." + opts["url_action_auth_env"] + " }}}"
    return UrlAction(opts["url_action"], headers=headers, on=_PUBLISH[opts["url_action_on"]])


def _make(opts: dict[str, Any], publish_on: tuple[str, ...], amqp_url: str | None,
          exchange: str, routing_key: str, overrides: dict[str, Any]) -> Any:  # fmt: skip
    from archiver.emulator import Emulator

    return Emulator(
        flavour=opts["flavour"], host=opts["host"], port=opts["port"], publish_on=publish_on,
        amqp_url=amqp_url, exchange=exchange, queue=opts["queue"], routing_key=routing_key,
        latency_ms=opts["latency_ms"], token_ttl=opts["token_ttl"],
        lifecycle_route=not opts["no_lifecycle_route"], profile=opts["profile"],
        version=opts["version"], url_action=_url_action(opts), capacity=opts["capacity"],
        **overrides,
    )  # fmt: skip


@click.command("emulator", help=HELP)
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=3000, show_default=True, type=int, help="port (0 = any free)")
@click.option("--flavour", type=click.Choice(["next", "next-legacy", "loopback"]), default="next",
              show_default=True, help="which backend generation to emulate")  # fmt: skip
@click.option("--publish-on", type=click.Choice(list(_PUBLISH)), default="create",
              show_default=True, help="job events published to RabbitMQ")  # fmt: skip
@click.option("--amqp-url", default=None,
              help="broker URL (default: from the archiver settings; 'none' disables)")  # fmt: skip
@click.option("--exchange", default=None, help="exchange [ARCHIVER_JOB_EXCHANGE]")
@click.option("--queue", default=None, help="queue [ARCHIVER_JOB_QUEUE]")
@click.option("--routing-key", default=None, help="routing key [ARCHIVER_JOB_ROUTING_KEY]")
@click.option("--latency-ms", default=0.0, type=float, help="delay added to every API answer")
@click.option("--capacity", default=0.0, type=click.FloatRange(min=0), metavar="N",
              help="capacity mode: serve at most N API requests per second, one at a time, "
                   "like a saturated backend (0: unlimited)")  # fmt: skip
@click.option("--token-ttl", default=3600.0, type=float, show_default=True,
              help="seconds a login token lives")  # fmt: skip
@click.option("--no-lifecycle-route", is_flag=True,
              help="emulate 4.14-4.18: no PATCH /datasets/{pid}/datasetlifecycle")  # fmt: skip
@click.option("--profile", type=click.Choice(_PROFILES), default="scicatlive", show_default=True,
              help="permission profile (next, next-legacy)")  # fmt: skip
@click.option("--group", "groups", multiple=True, metavar="SETTING=GROUPS",
              help="override one group setting, e.g. DELETE_GROUPS=admin,archivemanager "
                   "(repeatable)")  # fmt: skip
@click.option(
    "--backend-version",
    "version",
    default=None,
    metavar="X.Y",
    help="the backend release: next-legacy 4.0-4.13 (default 4.3; 4.4+ lock the job API), "
    "next 4.14 or later (default 5.2.1; 4.14 resets counters on dataset PATCH)",
)
@click.option("--url-action", default=None, metavar="URL",
              help="next: also POST each job to URL, like the job configuration's url action "
                   "(e.g. http://127.0.0.1:8090/jobs for archiver serve)")  # fmt: skip
@click.option(
    "--url-action-on",
    type=click.Choice(["create", "create,update"]),
    default="create",
    show_default=True,
    help="job events the url action is run on",
)
@click.option("--url-action-auth-env", default=None, metavar="VARIABLE",
              help="environment variable holding base64(user:password) for the url action's "
                   "Basic auth (never the secret itself on the command line)")  # fmt: skip
@click.option("--seed-examples", default=0, type=int, metavar="N",
              help="seed N demo datasets, one OrigDatablock each; prints the pids")  # fmt: skip
@click.pass_context
def emulator_command(ctx: click.Context, /, **opts: Any) -> None:
    settings = ctx.obj.settings
    amqp_url = opts["amqp_url"] or settings.broker
    if amqp_url.strip().lower() == "none":
        amqp_url = None
    publish_on = _PUBLISH[opts["publish_on"]]
    exchange = opts["exchange"] or settings.job_exchange
    routing_key = opts["routing_key"] or settings.job_routing_key
    opts["queue"] = opts["queue"] or settings.job_queue
    overrides = parse_group_settings(opts["groups"])
    try:
        emu = _make(opts, publish_on, amqp_url, exchange, routing_key, overrides)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    emu.start()
    click.echo(_describe(emu, opts["flavour"], publish_on, amqp_url, exchange, routing_key))
    _seed(emu, opts["seed_examples"])
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
