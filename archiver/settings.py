"""Configuration: one declarative table of settings, read once into a frozen ``Settings``.

Each setting has an ``ARCHIVER_*`` environment variable, optional aliases (the old
ScicatArchiveMock names such as ``SCI_URL`` keep working), a default, a parser and a help
line. The same table drives the CLI flags and the configuration table in the README
(``archiver config --markdown`` prints it), so the three cannot drift apart.

Precedence: CLI flag > ``ARCHIVER_*`` variable > alias > default. A missing or malformed
value raises :class:`~archiver.errors.ConfigError` whose message names the variable.
"""

from __future__ import annotations

import dataclasses
import os
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from archiver.errors import ConfigError
from archiver.setting_values import (
    API_CHOICES,
    CHECKSUM_CHOICES,
    STORAGE_CHOICES,
    _choice,
    _level_choice,
    _parse_bool,
    _parse_broker,
    _parse_endpoint,
    _parse_float,
    _parse_folder,
    _parse_fraction,
    _parse_int,
    _parse_path_map,
    _parse_paths,
    _parse_positive_int,
    _parse_storage_class,
    _parse_str,
    masked,
    normalise_scicat_url,
)


@dataclass(frozen=True)
class Setting:
    """One configuration entry: where it is read from and how it is parsed."""

    name: str
    env: str
    help: str
    default: Any = None
    parse: Callable[[str], Any] = _parse_str
    aliases: tuple[str, ...] = ()
    secret: bool = False
    flag: bool = True

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")


TABLE: tuple[Setting, ...] = (
    Setting(
        "scicat_url",
        "ARCHIVER_SCICAT_URL",
        "SciCat base URL, with or without /api/v3/",
        None,
        normalise_scicat_url,
        ("SCI_URL",),
    ),
    Setting(
        "scicat_user",
        "ARCHIVER_SCICAT_USER",
        "SciCat account used by the archiver",
        None,
        _parse_str,
        ("SCI_USER",),
    ),
    Setting(
        "scicat_password",
        "ARCHIVER_SCICAT_PASSWORD",
        "password of that account",
        None,
        _parse_str,
        ("SCI_PW",),
        secret=True,
        flag=False,
    ),
    Setting(
        "scicat_token",
        "ARCHIVER_SCICAT_TOKEN",
        "a ready SciCat token (used instead of logging in; not renewable)",
        None,
        _parse_str,
        ("TOKEN",),
        secret=True,
        flag=False,
    ),
    Setting(
        "scicat_api",
        "ARCHIVER_SCICAT_API",
        "backend generation: auto, loopback, next-legacy (4.0-4.13) or next (>= 4.14)",
        "auto",
        _choice(API_CHOICES),
    ),
    Setting(
        "scicat_timeout",
        "ARCHIVER_SCICAT_TIMEOUT",
        "seconds before a SciCat call times out",
        30.0,
        _parse_float,
    ),
    Setting(
        "scicat_job_join",
        "ARCHIVER_SCICAT_JOB_JOIN",
        "read a v4 job with its datasets in one request (include datasetDetails): one call "
        "fewer per step, but slower than two reads on a real v5.2.1 (docs/performance.md)",
        False,
        _parse_bool,
    ),
    Setting(
        "broker_url",
        "ARCHIVER_BROKER_URL",
        "RabbitMQ host name or amqp:// URL",
        "127.0.0.1",
        _parse_broker,
        ("RMQ_URL",),
    ),
    Setting(
        "broker_user",
        "ARCHIVER_BROKER_USER",
        "RabbitMQ user (when the URL has none)",
        "guest",
        _parse_str,
        ("RMQ_USER",),
    ),
    Setting(
        "broker_password",
        "ARCHIVER_BROKER_PASSWORD",
        "RabbitMQ password (when the URL has none)",
        "guest",
        _parse_str,
        ("RMQ_PW",),
        secret=True,
        flag=False,
    ),
    Setting(
        "job_exchange", "ARCHIVER_JOB_EXCHANGE", "exchange SciCat publishes jobs to", "jobs.write"
    ),
    Setting("job_queue", "ARCHIVER_JOB_QUEUE", "queue the bridge consumes", "client.jobs.write"),
    Setting(
        "job_routing_key", "ARCHIVER_JOB_ROUTING_KEY", "routing key of job messages", "jobqueue"
    ),
    Setting(
        "quarantine_queue",
        "ARCHIVER_QUARANTINE_QUEUE",
        "queue receiving job messages that cannot be used, with the reason",
        "archiver.quarantine",
    ),
    Setting(
        "task_queue",
        "ARCHIVER_TASK_QUEUE",
        "Celery queue of the pipeline's tasks",
        "archiver.tasks",
    ),
    Setting(
        "max_retries",
        "ARCHIVER_MAX_RETRIES",
        "deprecated (use ARCHIVER_RETRY_WINDOW): if set, a step also gives up after this many "
        "retries",
        None,
        _parse_int,
    ),
    Setting(
        "retry_backoff_max",
        "ARCHIVER_RETRY_BACKOFF_MAX",
        "cap, in seconds, of the exponential retry backoff",
        300,
        _parse_positive_int,
    ),
    Setting(
        "storage",
        "ARCHIVER_STORAGE",
        "storage backend: mock (moves no data), filesystem (tars under ARCHIVER_ARCHIVE_ROOT), "
        "s3 (one object per DataBlock) or routing (per dataset, ARCHIVER_STORAGE_TABLE)",
        "mock",
        _choice(STORAGE_CHOICES),
    ),
    Setting(
        "block_max_bytes",
        "ARCHIVER_BLOCK_MAX_BYTES",
        "largest unpacked size of one DataBlock, in bytes",
        50 * 1024**3,
        _parse_positive_int,
    ),
    Setting(
        "block_max_files",
        "ARCHIVER_BLOCK_MAX_FILES",
        "most files listed in one DataBlock",
        5000,
        _parse_positive_int,
    ),
    Setting(
        "archive_root",
        "ARCHIVER_ARCHIVE_ROOT",
        "filesystem storage: folder the tar files are written under",
        None,
        _parse_folder,
    ),
    Setting(
        "retrieve_root",
        "ARCHIVER_RETRIEVE_ROOT",
        "filesystem storage: folder retrievals go to (<root>/<job id>/<pid>/)",
        None,
        _parse_folder,
    ),
    Setting(
        "retrieve_allowed_roots",
        "ARCHIVER_RETRIEVE_ALLOWED_ROOTS",
        "filesystem storage: further folders (';'-separated) a job's destinationPath may be under",
        None,
        _parse_paths,
    ),
    Setting(
        "source_path_map",
        "ARCHIVER_SOURCE_PATH_MAP",
        "filesystem storage: sourceFolder prefix -> local prefix, e.g. /data=/mnt/data;/b=/x",
        None,
        _parse_path_map,
    ),
    Setting(
        "source_roots",
        "ARCHIVER_SOURCE_ROOTS",
        "filesystem/s3 storage: folders (';'-separated) a dataset's mapped sourceFolder must be "
        "under (empty: the local folders of ARCHIVER_SOURCE_PATH_MAP)",
        None,
        _parse_paths,
    ),
    Setting(
        "checksum",
        "ARCHIVER_CHECKSUM",
        "filesystem storage: per-file checksum: sha256, sha512, sha1, md5 or blake2b",
        "sha256",
        _choice(CHECKSUM_CHOICES),
    ),
    Setting(
        "tar_max_bytes",
        "ARCHIVER_TAR_MAX_BYTES",
        "filesystem storage: largest tar file in bytes (a larger file gets a tar of its own)",
        10 * 1024**3,
        _parse_positive_int,
    ),
    Setting(
        "step_max_seconds",
        "ARCHIVER_STEP_MAX_SECONDS",
        "filesystem storage: a step goes on in a new task run after the tar in which this "
        "many seconds passed (0: one tar per run)",
        600.0,
        _parse_float,
    ),
    Setting(
        "simulated_seconds",
        "ARCHIVER_SIMULATED_SECONDS",
        "pretend each dataset takes this long to archive or retrieve (demos)",
        0.0,
        _parse_float,
    ),
    Setting(
        "worker_concurrency",
        "ARCHIVER_WORKER_CONCURRENCY",
        "worker processes of `celery -A archiver worker` (steps mostly wait for SciCat)",
        8,
        _parse_positive_int,
    ),
    Setting(
        "bridge_in_worker",
        "ARCHIVER_BRIDGE_IN_WORKER",
        "run the bridge inside `celery -A archiver worker`",
        False,
        _parse_bool,
    ),
    Setting(
        "poll_interval",
        "ARCHIVER_POLL_INTERVAL",
        "seconds between polls (archiver poll)",
        10.0,
        _parse_float,
    ),
    Setting(
        "result_backend",
        "ARCHIVER_RESULT_BACKEND",
        "optional Celery result backend, e.g. redis://127.0.0.1:6379/0",
        None,
        _parse_str,
    ),
    Setting(
        "log_level",
        "ARCHIVER_LOG_LEVEL",
        "log level of every archiver process: DEBUG, INFO, WARNING or ERROR (the worker's "
        "--loglevel overrides it)",
        "INFO",
        _level_choice,
    ),
    Setting(
        "retry_window",
        "ARCHIVER_RETRY_WINDOW",
        "seconds a step retries transient errors (SciCat or broker down, refused login) "
        "before the job fails",
        3600.0,
        _parse_float,
    ),
    Setting(
        "fail_retry_window",
        "ARCHIVER_FAIL_RETRY_WINDOW",
        "seconds the failure path (archiver.job.fail) waits for SciCat to record a failure",
        7 * 24 * 3600.0,
        _parse_float,
    ),
    Setting(
        "reconcile_interval",
        "ARCHIVER_RECONCILE_INTERVAL",
        "seconds between reconciler rounds in the bridge and the poller (0: no reconciler "
        "there; `archiver reconcile` runs it alone)",
        300.0,
        _parse_float,
    ),
    Setting(
        "reconcile_submitted_grace",
        "ARCHIVER_RECONCILE_SUBMITTED_GRACE",
        "seconds a job may stay jobSubmitted before the reconciler starts it (its message "
        "was lost)",
        600.0,
        _parse_float,
    ),
    Setting(
        "reconcile_stale_after",
        "ARCHIVER_RECONCILE_STALE_AFTER",
        "seconds without a job update, and no task of the job on any worker, after which "
        "an inProgress job's chain counts as lost (keep it above ARCHIVER_RETRY_WINDOW)",
        7200.0,
        _parse_float,
    ),
    Setting(
        "reconcile_limit",
        "ARCHIVER_RECONCILE_LIMIT",
        "most jobs of each status the reconciler reads from SciCat per round (pages of 50)",
        200,
        _parse_positive_int,
    ),
    Setting(
        "reconcile_max_resumes",
        "ARCHIVER_RECONCILE_MAX_RESUMES",
        "lost chains the reconciler replaces per job; after that the job is failed",
        3,
        _parse_int,
    ),
    Setting(
        "s3_endpoint_url",
        "ARCHIVER_S3_ENDPOINT_URL",
        "s3 storage: endpoint URL of the S3-compatible service (empty: AWS); credentials come "
        "from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_SHARED_CREDENTIALS_FILE",
        None,
        _parse_endpoint,
    ),
    Setting("s3_bucket", "ARCHIVER_S3_BUCKET", "s3 storage: bucket the tars are written to"),
    Setting(
        "s3_prefix",
        "ARCHIVER_S3_PREFIX",
        "s3 storage: key prefix of every object, e.g. archive/ (keys: <prefix><pid>/block-N.tar)",
        "",
    ),
    Setting(
        "s3_storage_class",
        "ARCHIVER_S3_STORAGE_CLASS",
        "s3 storage: storage class of the tars, e.g. STANDARD, GLACIER or DEEP_ARCHIVE",
        "STANDARD",
        _parse_storage_class,
    ),
    Setting("s3_region", "ARCHIVER_S3_REGION", "s3 storage: region of the bucket", "us-east-1"),
    Setting(
        "s3_part_bytes",
        "ARCHIVER_S3_PART_BYTES",
        "s3 storage: bytes per multipart-upload part (at least 5 MiB; held in memory)",
        64 * 1024**2,
        _parse_positive_int,
    ),
    Setting(
        "s3_restore_days",
        "ARCHIVER_S3_RESTORE_DAYS",
        "s3 storage: days a cold (GLACIER/DEEP_ARCHIVE) object stays restored for retrieval",
        3,
        _parse_positive_int,
    ),
    Setting(
        "s3_restore_tier",
        "ARCHIVER_S3_RESTORE_TIER",
        "s3 storage: restore tier of cold objects: Standard, Bulk or Expedited",
        "Standard",
        lambda v: _choice(("standard", "bulk", "expedited"))(v).capitalize(),
    ),
    Setting(
        "s3_restore_poll_seconds",
        "ARCHIVER_S3_RESTORE_POLL_SECONDS",
        "s3 storage: seconds between checks of a cold object's restore while a retrieve waits",
        60.0,
        _parse_float,
    ),
    Setting(
        "storage_table",
        "ARCHIVER_STORAGE_TABLE",
        "routing storage: YAML/JSON file of storages by name and the default (docs/storage.md)",
        None,
        _parse_str,
    ),
    Setting(
        "serve_host",
        "ARCHIVER_SERVE_HOST",
        "archiver serve: address the HTTP intake listens on (0.0.0.0: every interface)",
        "127.0.0.1",
    ),
    Setting(
        "serve_port",
        "ARCHIVER_SERVE_PORT",
        "archiver serve: port of the HTTP intake",
        8090,
        _parse_positive_int,
    ),
    Setting(
        "serve_user",
        "ARCHIVER_SERVE_USER",
        "archiver serve: user name SciCat's url action sends with Basic auth",
        None,
    ),
    Setting(
        "serve_password",
        "ARCHIVER_SERVE_PASSWORD",
        "archiver serve: password SciCat's url action sends with Basic auth",
        None,
        _parse_str,
        secret=True,
        flag=False,
    ),
    Setting(
        "serve_password_file",
        "ARCHIVER_SERVE_PASSWORD_FILE",
        "archiver serve: file holding that password (instead of ARCHIVER_SERVE_PASSWORD)",
        None,
    ),
    Setting(
        "serve_in_worker",
        "ARCHIVER_SERVE_IN_WORKER",
        "run the HTTP intake (archiver serve) inside `celery -A archiver worker`",
        False,
        _parse_bool,
    ),
    Setting(
        "audit_interval",
        "ARCHIVER_AUDIT_INTERVAL",
        "seconds between fixity audits run by `celery -A archiver beat` (0: no periodic audit)",
        0.0,
        _parse_float,
    ),
    Setting(
        "audit_sample",
        "ARCHIVER_AUDIT_SAMPLE",
        "fraction (0-1) of DataBlocks each periodic audit re-reads and re-hashes",
        1.0,
        _parse_fraction,
    ),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in TABLE}


@dataclass(frozen=True)
class Settings:
    """Every setting of the archiver, already parsed. Build it with :func:`load_settings`."""

    scicat_url: str | None = None
    scicat_user: str | None = None
    scicat_password: str | None = field(default=None, repr=False)
    scicat_token: str | None = field(default=None, repr=False)
    scicat_api: str = "auto"
    scicat_timeout: float = 30.0
    scicat_job_join: bool = False
    broker_url: str = "127.0.0.1"
    broker_user: str = "guest"
    broker_password: str = field(default="guest", repr=False)
    job_exchange: str = "jobs.write"
    job_queue: str = "client.jobs.write"
    job_routing_key: str = "jobqueue"
    quarantine_queue: str = "archiver.quarantine"
    task_queue: str = "archiver.tasks"
    max_retries: int | None = None
    retry_backoff_max: int = 300
    storage: str = "mock"
    block_max_bytes: int = 50 * 1024**3
    block_max_files: int = 5000
    archive_root: str | None = None
    retrieve_root: str | None = None
    retrieve_allowed_roots: tuple[str, ...] = ()
    source_path_map: tuple[tuple[str, str], ...] = ()
    source_roots: tuple[str, ...] = ()
    checksum: str = "sha256"
    tar_max_bytes: int = 10 * 1024**3
    step_max_seconds: float = 600.0
    simulated_seconds: float = 0.0
    worker_concurrency: int = 8
    bridge_in_worker: bool = False
    poll_interval: float = 10.0
    result_backend: str | None = None
    log_level: str = "INFO"
    retry_window: float = 3600.0
    fail_retry_window: float = 7 * 24 * 3600.0
    reconcile_interval: float = 300.0
    reconcile_submitted_grace: float = 600.0
    reconcile_stale_after: float = 7200.0
    reconcile_limit: int = 200
    reconcile_max_resumes: int = 3
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_storage_class: str = "STANDARD"
    s3_region: str = "us-east-1"
    s3_part_bytes: int = 64 * 1024**2
    s3_restore_days: int = 3
    s3_restore_tier: str = "Standard"
    s3_restore_poll_seconds: float = 60.0
    storage_table: str | None = None
    serve_host: str = "127.0.0.1"
    serve_port: int = 8090
    serve_user: str | None = None
    serve_password: str | None = field(default=None, repr=False)
    serve_password_file: str | None = None
    serve_in_worker: bool = False
    audit_interval: float = 0.0
    audit_sample: float = 1.0

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def require_scicat(self) -> str:
        """Return the SciCat URL, or fail with a line naming the setting."""
        if not self.scicat_url:
            raise ConfigError("ARCHIVER_SCICAT_URL (or SCI_URL) is not set: give the SciCat URL")
        if not self.scicat_token and not (self.scicat_user and self.scicat_password):
            raise ConfigError(
                "no SciCat credentials: set ARCHIVER_SCICAT_USER and ARCHIVER_SCICAT_PASSWORD "
                "(or SCI_USER/SCI_PW), or ARCHIVER_SCICAT_TOKEN (TOKEN)"
            )
        return self.scicat_url

    @property
    def broker(self) -> str:
        """The broker URL with credentials filled in (kombu masks the password in logs)."""
        url = self.broker_url
        if "://" not in url:
            host = url if ":" in url else f"{url}:5672"
            return f"amqp://{_quote(self.broker_user)}:{_quote(self.broker_password)}@{host}//"
        parts = urllib.parse.urlsplit(url)
        if parts.scheme in ("amqp", "amqps", "pyamqp") and not parts.username:
            auth = f"{_quote(self.broker_user)}:{_quote(self.broker_password)}@"
            return urllib.parse.urlunsplit(
                (parts.scheme, auth + parts.netloc, parts.path or "//", parts.query, "")
            )
        return url

    @property
    def broker_display(self) -> str:
        """The broker URL safe to print: the password is replaced by ``***``."""
        return str(masked(self.broker))


def _quote(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Read every setting from ``environ`` (default ``os.environ``) and apply ``overrides``.

    ``overrides`` maps setting names to raw strings (as given on the command line) or to
    ``None`` (not given). Raises :class:`ConfigError` naming the first bad variable.
    """
    env = os.environ if environ is None else environ
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    values: dict[str, Any] = {}
    for setting in TABLE:
        source, raw = _lookup(setting, env, given)
        if raw is None:
            continue
        if isinstance(raw, str):
            try:
                values[setting.name] = setting.parse(raw) if raw.strip() else None
            except ValueError as exc:
                raise ConfigError(f"{source} {exc}") from None
        else:
            values[setting.name] = raw
        if values[setting.name] is None:
            del values[setting.name]
    return Settings(**values)


def _lookup(setting: Setting, env: Mapping[str, str], given: Mapping[str, Any]) -> tuple[str, Any]:
    if setting.name in given:
        return setting.option, given[setting.name]
    for name in (setting.env, *setting.aliases):
        if name in env and env[name].strip():
            return name, env[name]
    return setting.env, None


def markdown_table() -> str:
    """The configuration table as Markdown, for the README."""
    lines = [
        "| Variable | Old mock name | CLI flag | Default | Meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for s in TABLE:
        default = "" if s.default is None else f"`{s.default}`"
        aliases = ", ".join(f"`{a}`" for a in s.aliases)
        flag = f"`{s.option}`" if s.flag else "(environment only: secret)"
        lines.append(f"| `{s.env}` | {aliases} | {flag} | {default} | {s.help} |")
    return "\n".join(lines)
