"""What the archiver's account may do on this SciCat, found out without changing anything.

The pipeline needs, of its account: read and update jobs, read every dataset a job names with
its OrigDatablocks and DataBlocks, update lifecycles, create DataBlocks and (for clean-up and
resets) delete them. A real backend grants these through its group settings (backend.md §2.5,
§10): ``ADMIN_GROUPS``, ``UPDATE_JOB_PRIVILEGED_GROUPS``, the job types' ``update.auth`` in
``jobConfig.yaml``, ``DELETE_GROUPS``. :func:`check_rights` asks only reads, and writes that
cannot succeed (a PATCH of a job that does not exist, a DELETE of a DataBlock of a dataset that
does not exist), which the backend's class-level permission guard answers with 403 before it
looks the object up. Rights on one object (another group's dataset) can be checked only on a
real one: give a job or dataset to look at, or see the warning when the account sees nothing.

Each finding is a :class:`Right`: ``ok``, ``warn`` (the pipeline works, but less well) or
``fail`` (jobs cannot be done), with one line that names the backend setting to change.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from archiver.errors import AuthError, JobApiRefused, NotFoundError, PermanentSciCatError
from archiver.scicat.adapter import TransportClient
from archiver.scicat.base import SUBMITTED, SciCatClient
from archiver.scicat.http import segment

OK, WARN, FAIL = "ok", "warn", "fail"
#: A pid and ids no SciCat has: probes of the permission guards, never objects.
PROBE_PID = "archiver-health-probe/no-such-dataset"
PROBE_ID = "archiver-health-probe-no-such-id"


@dataclass(frozen=True)
class Right:
    """One finding: what was checked, ``ok``/``warn``/``fail``, and a one-line detail."""

    name: str
    level: str
    detail: str


@dataclass(frozen=True)
class Identity:
    """Who the backend says the account is (``/auth/whoami``); groups may be unknown."""

    username: str
    groups: tuple[str, ...] = ()

    def groups_text(self) -> str:
        return ", ".join(self.groups) if self.groups else "unknown"


def identity(client: SciCatClient, fallback: str) -> Identity:
    """The account's name and groups, where the backend tells them (backend-next)."""
    if client.generation == "loopback" or not isinstance(client, TransportClient):
        return Identity(fallback)
    try:
        answer = client.http.call("GET", "/api/v3/auth/whoami", "who am I")
    except PermanentSciCatError:
        return Identity(fallback)
    if not isinstance(answer, Mapping):
        return Identity(fallback)
    groups = answer.get("currentGroups")
    names = tuple(str(g) for g in groups if g) if isinstance(groups, list) else ()
    return Identity(str(answer.get("username") or fallback), names)


def _status(call: Any) -> int:
    """Run ``call``; return 200 on success, else the HTTP status of the refusal."""
    try:
        call()
    except (AuthError, NotFoundError, PermanentSciCatError) as exc:
        if isinstance(exc, JobApiRefused):
            raise
        return exc.status or 0
    return 200


def _jobs(client: SciCatClient, who: Identity) -> Iterator[Right]:
    try:
        visible = client.list_jobs(SUBMITTED, limit=1)
    except JobApiRefused as exc:
        yield Right("jobs", FAIL, exc.message)
        return
    except AuthError as exc:
        yield Right(
            "jobs",
            FAIL,
            f"may not read jobs ({exc.status}): put one of its groups ({who.groups_text()}) "
            "in ADMIN_GROUPS or UPDATE_JOB_PRIVILEGED_GROUPS",
        )
        return
    yield Right("jobs", OK, "may list jobs")
    if not visible:
        yield Right(
            "jobs",
            WARN,
            "sees no submitted job: if there are some, it reads only its own; put one of its "
            f"groups ({who.groups_text()}) in ADMIN_GROUPS or UPDATE_JOB_PRIVILEGED_GROUPS "
            "(check: --job ID)",
        )
    if client.generation == "next" and isinstance(client, TransportClient):
        body = {"statusCode": "inProgress", "statusMessage": "archiver health probe"}
        path = f"/api/v4/jobs/{segment(PROBE_ID)}"
        status = _status(lambda: client.http.call("PATCH", path, "update job", json_body=body))
        if status == 403:
            yield Right(
                "jobs",
                FAIL,
                "may not update jobs (403): put one of its groups "
                f"({who.groups_text()}) in ADMIN_GROUPS or UPDATE_JOB_PRIVILEGED_GROUPS, or "
                f"name it ({who.username}) in the job types' update auth in jobConfig.yaml",
            )
        else:
            yield Right("jobs", OK, "may update jobs")


def _datasets(client: SciCatClient, who: Identity) -> Iterator[Right]:
    try:
        visible = client.find_datasets({}, limit=1)
    except AuthError as exc:
        yield Right("datasets", FAIL, f"may not read datasets ({exc.status})")
        return
    yield Right("datasets", OK, "may list datasets")
    if not visible:
        yield Right(
            "datasets",
            WARN,
            "sees no dataset: if there are some, it cannot read other groups' datasets; put "
            f"one of its groups ({who.groups_text()}) in ADMIN_GROUPS (check: --dataset PID)",
        )
    if client.generation == "loopback" or not isinstance(client, TransportClient):
        return
    path = f"/api/v3/datasets/{segment(PROBE_PID)}/datablocks/{segment(PROBE_ID)}"
    status = _status(lambda: client.http.call("DELETE", path, "delete datablock"))
    if status == 403:
        yield Right(
            "datablocks",
            WARN,
            "may not delete DataBlocks (403): put one of its groups "
            f"({who.groups_text()}) in DELETE_GROUPS, or failed archives and resets leave "
            "DataBlocks behind (named in the job result)",
        )
    else:
        yield Right("datablocks", OK, "may delete DataBlocks")


def _dataset(client: SciCatClient, pid: str, who: Identity) -> Iterator[Right]:
    reads = (
        ("dataset", lambda: client.get_dataset(pid)),
        ("its OrigDatablocks", lambda: client.list_origdatablocks(pid)),
        ("its DataBlocks", lambda: client.list_datablocks(pid)),
    )
    for what, call in reads:
        status = _status(call)
        if status == 404:
            yield Right("dataset", FAIL, f"{pid}: no such dataset")
            return
        if status != 200:
            yield Right(
                "dataset",
                FAIL,
                f"may not read {what} of {pid} ({status}): put one of its groups "
                f"({who.groups_text()}) in ADMIN_GROUPS or in the dataset's accessGroups",
            )
            return
    yield Right("dataset", OK, f"may read {pid}, its OrigDatablocks and DataBlocks")


def _job(client: SciCatClient, job_id: str, who: Identity) -> Iterator[Right]:
    try:
        job = client.get_job(job_id)
    except JobApiRefused as exc:
        yield Right("job", FAIL, exc.message)
        return
    except NotFoundError:
        yield Right("job", FAIL, f"{job_id}: no such job")
        return
    except AuthError as exc:
        yield Right(
            "job",
            FAIL,
            f"may not read job {job_id} ({exc.status}): put one of its groups "
            f"({who.groups_text()}) in ADMIN_GROUPS or UPDATE_JOB_PRIVILEGED_GROUPS",
        )
        return
    yield Right("job", OK, f"may read job {job_id} ({job.type}, {job.status})")
    for pid in job.pids[:3]:
        yield from _dataset(client, pid, who)


def check_rights(
    client: SciCatClient,
    username: str,
    jobs: Sequence[str] = (),
    datasets: Sequence[str] = (),
) -> list[Right]:
    """Every finding for the account ``username`` (already logged in), in order."""
    who = identity(client, username)
    found = [Right("account", OK, f"{who.username} (groups: {who.groups_text()})")]
    found += _jobs(client, who)
    found += _datasets(client, who)
    for job_id in jobs:
        found += _job(client, job_id, who)
    for pid in datasets:
        found += _dataset(client, pid, who)
    return found
