"""``archiver health``: is the broker reachable, is SciCat reachable, does the login work,
and may the account do what the pipeline needs?

Prints one line per check, ``ok``, ``WARN`` or ``FAIL`` with a short reason, and exits 0 only
when no check failed, so it can serve as a container ``HEALTHCHECK``. After the login it
checks the account's rights without changing anything (:mod:`archiver.scicat.rights`);
``--job`` and ``--dataset`` add checks on real objects (another group's dataset).
``--skip-scicat`` limits it to the broker (for containers such as Flower that never talk to
SciCat).

No line ever contains a secret: the broker URL is printed with its password masked and every
reason is scrubbed of the configured passwords and token before it is printed.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import click
import kombu

from archiver.cli.context import CLIContext
from archiver.errors import ArchiverError
from archiver.scicat import connect
from archiver.scicat.detect import detect_generation
from archiver.scicat.http import HttpTransport
from archiver.scicat.rights import FAIL, WARN, check_rights
from archiver.settings import Settings

#: Default seconds each check may take: a container health check must answer quickly.
DEFAULT_TIMEOUT = 5.0
#: Longest reason printed, so one check stays one readable line.
REASON_LIMIT = 200


@dataclass(frozen=True)
class Check:
    """The outcome of one check: its name, whether it passed, and a one-line detail."""

    name: str
    ok: bool
    detail: str
    #: A passed check with a caveat: printed ``WARN``, does not fail the exit code.
    warn: bool = False

    def line(self) -> str:
        """The printed line, e.g. ``broker     ok    amqp://guest:***@rabbitmq:5672//``."""
        word = "FAIL" if not self.ok else "WARN" if self.warn else "ok"
        return f"{self.name:<10} {word:<5} {self.detail}"


def _secrets(settings: Settings) -> list[str]:
    values = [settings.broker_password, settings.scicat_password, settings.scicat_token]
    found: set[str] = set()
    for value in values:
        if value:
            found.add(value)
            found.add(urllib.parse.quote(value, safe=""))
    # Longest first, so a secret that contains another is masked whole.
    return sorted(found, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` on one line, with every secret replaced by ``***``, shortened if long."""
    for secret in secrets:
        if len(secret) >= 2:
            text = text.replace(secret, "***")
    text = " ".join(text.split())
    if len(text) > REASON_LIMIT:
        text = text[: REASON_LIMIT - 3] + "..."
    return text


def _reason(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__


def check_broker(settings: Settings, timeout: float = DEFAULT_TIMEOUT) -> Check:
    """Open (and close) a connection to the broker; no queue is touched."""
    where = settings.broker_display
    try:
        with kombu.Connection(settings.broker, connect_timeout=timeout) as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=timeout
            )
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return Check("broker", False, f"{where}: {scrub(_reason(exc), _secrets(settings))}")
    return Check("broker", True, where)


def check_scicat(settings: Settings, timeout: float = DEFAULT_TIMEOUT) -> tuple[Check, str | None]:
    """Whether SciCat answers at all; returns the check and the generation found (if any).

    With ``ARCHIVER_SCICAT_API=auto`` the generation is detected (unauthenticated probes);
    otherwise one unauthenticated request must get an HTTP answer below 500.
    """
    secrets = _secrets(settings)
    if not settings.scicat_url:
        return Check("scicat", False, "ARCHIVER_SCICAT_URL (or SCI_URL) is not set"), None
    root = settings.scicat_url
    try:
        if settings.scicat_api == "auto":
            generation = detect_generation(root, timeout)
            return Check("scicat", True, f"{root} (backend generation {generation})"), generation
        probe = HttpTransport(root, timeout, login_path="", token_field="")
        try:
            status = probe.probe("GET", "/api/v3/", "check SciCat")
        finally:
            probe.close()
    except ArchiverError as exc:
        return Check("scicat", False, f"{root}: {scrub(_reason(exc), secrets)}"), None
    if status >= 500:
        return Check("scicat", False, f"{root}: answered HTTP {status}"), None
    return Check("scicat", True, f"{root} (backend generation {settings.scicat_api})"), (
        settings.scicat_api
    )


def check_login(
    settings: Settings,
    generation: str,
    timeout: float = DEFAULT_TIMEOUT,
    jobs: Sequence[str] = (),
    datasets: Sequence[str] = (),
) -> list[Check]:
    """Log in with the configured account (or try the configured token), then check what
    the account may do (:func:`archiver.scicat.rights.check_rights`)."""
    chosen = settings.replace(
        scicat_api=generation, scicat_timeout=min(settings.scicat_timeout, timeout)
    )
    secrets = _secrets(settings)
    try:
        client = connect(chosen)
        try:
            if settings.scicat_token:
                # A fixed token is never "logged in": one cheap authenticated call tries it.
                client.find_datasets({}, limit=1)
                detail = "the token in ARCHIVER_SCICAT_TOKEN is accepted"
            else:
                client.login()
                detail = f"logged in as {settings.scicat_user}"
            account = settings.scicat_user or "the token's account"
            found = check_rights(client, account, jobs, datasets)
        finally:
            client.close()
    except ArchiverError as exc:
        return [Check("login", False, scrub(_reason(exc), secrets))]
    return [Check("login", True, detail)] + [
        Check(r.name, r.level != FAIL, scrub(r.detail, secrets), warn=r.level == WARN)
        for r in found
    ]


def run_checks(
    settings: Settings,
    skip_scicat: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    jobs: Sequence[str] = (),
    datasets: Sequence[str] = (),
) -> list[Check]:
    """Every check in order: broker, then (unless skipped) SciCat, the login and the rights."""
    checks = [check_broker(settings, timeout)]
    if skip_scicat:
        return checks
    reach, generation = check_scicat(settings, timeout)
    checks.append(reach)
    if generation is None:
        checks.append(Check("login", False, "not tried: the SciCat check failed"))
    else:
        checks.extend(check_login(settings, generation, timeout, jobs, datasets))
    return checks


@click.command("health")
@click.option(
    "--skip-scicat",
    is_flag=True,
    help="check only the broker (for containers that never call SciCat, e.g. Flower)",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="seconds each check may take",
)
@click.option(
    "--job",
    "jobs",
    multiple=True,
    metavar="ID",
    help="also check that the account may read this job and its datasets (repeatable)",
)
@click.option(
    "--dataset",
    "datasets",
    multiple=True,
    metavar="PID",
    help="also check that the account may read this dataset and its blocks (repeatable)",
)
@click.pass_obj
def health_command(
    obj: CLIContext,
    skip_scicat: bool,
    timeout: float,
    jobs: tuple[str, ...],
    datasets: tuple[str, ...],
) -> None:
    """Check the broker, SciCat, the login and the account's rights; exit 0 only if no
    check failed.

    Prints one line per check (ok, WARN or FAIL and a short reason naming the SciCat setting
    to change; never a secret). Nothing in SciCat is changed. Meant for container health
    checks and for a first look when jobs do not move; `archiver selftest` goes further.
    """
    checks = run_checks(
        obj.settings, skip_scicat=skip_scicat, timeout=timeout, jobs=jobs, datasets=datasets
    )
    for check in checks:
        click.echo(check.line())
    if not all(check.ok for check in checks):
        raise SystemExit(1)
