"""backend-next job routes: v4 jobs, the v3 compatibility shim (>= 4.14), and the
hard-coded v3 jobs of backend-next 4.0-4.13 (``next-legacy``)."""

from __future__ import annotations

import copy
from typing import Any, cast

from archiver.emulator import jobs as j
from archiver.emulator import permissions as perm
from archiver.emulator import validation as v
from archiver.emulator.protocol import ApiError, Request
from archiver.emulator.router import Route
from archiver.emulator.store import now_iso

_DATASET_JOBS = ("archive", "retrieve")


def _owner_group(app: Any, req: Request, entries: list[dict[str, Any]]) -> str:
    group = app.store.owner_group(entries[0]["pid"]) if entries else None
    return str(group if group is not None else (req.user or {}).get("group", ""))


def _acls(app: Any, entries: list[dict[str, Any]]) -> list[Any]:
    return [app.store.acl(e["pid"]) for e in entries]


def _readable(app: Any, req: Request) -> dict[str, Any]:
    """The job, 400 when unknown, 403 when the caller may not read it."""
    doc = _job_or_400(app, req)
    if not req.rights.read_job(doc):
        raise ApiError(403, "Unauthorized to get this job.")
    return doc


def _check_update(app: Any, req: Request) -> None:
    """400 for an unknown job, 403 when the type's update auth does not name the caller."""
    doc = app.store.jobs.get(req.params["id"])
    if doc is None:
        raise ApiError(400, "Invalid job id.")
    if not req.rights.update_job(doc):
        raise ApiError(403, "Unauthorized to update this job.")


def _visible_jobs(req: Request) -> Any:
    rights = req.rights
    return None if rights.job_read_any else rights.read_job


def _check_type(job_type: Any, allowed: tuple[str, ...]) -> None:
    if job_type not in allowed:
        raise ApiError(400, f"Invalid job type: {job_type}")


def _created(app: Any, doc: dict[str, Any]) -> dict[str, Any]:
    app.store.put_job(doc)
    app.publish(doc, "create")
    return doc


def _job_or_400(app: Any, req: Request) -> dict[str, Any]:
    doc = app.store.job(req.params["id"])
    if doc is None:
        raise ApiError(400, "Invalid job id.")
    return cast("dict[str, Any]", doc)


# -- v4 ------------------------------------------------------------------------------------
def create_v4(app: Any, req: Request) -> tuple[int, Any]:
    """Non-privileged callers must name an ownerGroup of theirs; privileged ones at least one
    of ownerGroup, ownerUser, contactEmail (422 otherwise); then the type's create auth."""
    rights = req.rights
    perm.guard(rights.job_create_endpoint)
    body = req.object_body()
    v.reject_unknown(body, v.JOB_V4_CREATE_KEYS)
    v.check_email(body, "contactEmail")
    _check_type(body.get("type"), j.JOB_TYPES)
    params = body.get("jobParams")
    if not isinstance(params, dict):
        raise ApiError(400, ["jobParams must be an object"])
    entries: list[dict[str, Any]] = []
    if "datasetList" in params or body["type"] in _DATASET_JOBS:
        entries = j.check_dataset_list(app.store, params.get("datasetList"))
    perm.check_job_create(
        rights, body["type"], body.get("ownerGroup"), body.get("ownerUser"),
        body.get("contactEmail"), _acls(app, entries),
    )  # fmt: skip
    fallback = _owner_group(app, req, entries) if rights.all else ""
    doc = j.new_job(
        body["type"],
        params,
        body.get("ownerUser") or req.username,
        body.get("ownerGroup") or fallback,
        body.get("contactEmail") or (req.user or {}).get("email", ""),
    )
    return 201, _created(app, doc)


#: ``filter.include`` values of ``GET /api/v4/jobs/{id}`` (the job DTO's joined fields, as
#: scicat-openapi.json describes them): the datasets of ``jobParams.datasetList``, or those
#: with their DataBlocks, OrigDatablocks and attachments.
JOB_INCLUDES = ("datasets", "datasetDetails")


def get_v4(app: Any, req: Request) -> tuple[int, Any]:
    """The job; ``filter={"include": ["datasets"|"datasetDetails"]}`` joins its datasets
    (an unknown include answers 400)."""
    doc = _readable(app, req)
    include = req.json_query("filter").get("include") or []
    include = include if isinstance(include, list) else [include]
    unknown = [i for i in include if i not in JOB_INCLUDES]
    if unknown:
        raise ApiError(400, f"include: unknown relation {unknown[0]!r}")
    if include:
        entries = (doc.get("jobParams") or {}).get("datasetList") or []
        pids = [e.get("pid") for e in entries if isinstance(e, dict)]
        datasets = [d for d in (app.store.dataset_or_none(p) for p in pids) if d is not None]
        doc = {**doc}
        if "datasets" in include:
            doc["datasets"] = datasets
        if "datasetDetails" in include:
            doc["datasetDetails"] = [
                {**d, **{k: app.store.list_blocks(k, d["pid"]) for k in _DETAILS}} for d in datasets
            ]
    return 200, doc


_DETAILS = ("datablocks", "origdatablocks", "attachments")


def list_v4(app: Any, req: Request) -> tuple[int, Any]:
    """Only the jobs the caller may read (no error for the others)."""
    return 200, app.store.query("jobs", req.json_query("filter"), keep=_visible_jobs(req))


def _merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge_patch(out.get(key), value)
    return out


def patch_v4(app: Any, req: Request) -> tuple[int, Any]:
    """Both statusCode and statusMessage required; jobResultObject replaced (or merged)."""
    perm.guard(req.rights.job_update_endpoint)
    body = req.object_body()
    v.reject_unknown(body, v.JOB_V4_UPDATE_KEYS)
    if not all(isinstance(body.get(k), str) for k in ("statusCode", "statusMessage")):
        raise ApiError(400, ["statusCode must be a string", "statusMessage must be a string"])
    result = body.get("jobResultObject")
    if "jobResultObject" in body and not isinstance(result, dict):
        raise ApiError(400, ["jobResultObject must be an object"])
    merge = req.content_type == "application/merge-patch+json"
    _check_update(app, req)

    def mutate(doc: dict[str, Any]) -> None:
        doc["statusCode"], doc["statusMessage"] = body["statusCode"], body["statusMessage"]
        if result is not None:
            new = _merge_patch(doc["jobResultObject"], result) if merge else copy.deepcopy(result)
            if "executionTime" in new:
                doc["jobParams"]["executionTime"] = new.pop("executionTime")
            doc["jobResultObject"] = new
        doc.update(updatedBy=req.username, updatedAt=now_iso())

    doc = app.store.update_job(req.params["id"], mutate)
    if doc is None:
        raise ApiError(400, "Invalid job id.")
    app.publish(doc, "update")
    return 200, doc


# -- v3 shim (>= 4.14) -----------------------------------------------------------------------
def create_v3(app: Any, req: Request) -> tuple[int, Any]:
    """The shim fills ownerUser (the caller), contactEmail and ownerGroup (the first dataset
    group the caller may use) and then applies the v4 checks."""
    rights = req.rights
    perm.guard(rights.job_create_endpoint)
    body = req.object_body()
    v.reject_unknown(body, v.JOB_V3_CREATE_KEYS)
    if body.get("emailJobInitiator") is not None:  # validated after mapping to the v4 DTO
        v.check_email({"contactEmail": body["emailJobInitiator"]}, "contactEmail")
    _check_type(body.get("type"), j.JOB_TYPES)
    entries = j.check_dataset_list(app.store, body.get("datasetList"))
    status = body.get("jobStatusMessage") or j.DEFAULT_STATUS
    message = body.get("jobStatusMessage") or j.DEFAULT_MESSAGE
    acls = _acls(app, entries)
    owner_group = perm.v3_owner_group(rights, body["type"], acls)
    contact = body.get("emailJobInitiator") or (req.user or {}).get("email", "")
    perm.check_job_create(rights, body["type"], owner_group, req.username, contact, acls)
    doc = j.new_job(
        body["type"],
        j.v3_create_params(body),
        req.username,
        owner_group or "",
        contact,
        status,
        message,
    )
    if isinstance(body.get("jobResultObject"), dict):
        doc["jobResultObject"] = copy.deepcopy(body["jobResultObject"])
    return 201, j.to_v3(_created(app, doc))


def get_v3(app: Any, req: Request) -> tuple[int, Any]:
    return 200, j.to_v3(_readable(app, req))


def list_v3(app: Any, req: Request) -> tuple[int, Any]:
    found = app.store.query("jobs", req.json_query("filter"), j.v3_field, keep=_visible_jobs(req))
    return 200, [j.to_v3(doc) for doc in found]


def patch_v3(app: Any, req: Request) -> tuple[int, Any]:
    """The shim drops unknown keys silently and copies jobStatusMessage into both fields."""
    perm.guard(req.rights.job_update_endpoint)
    body = {k: x for k, x in req.object_body().items() if k in v.JOB_V3_UPDATE_KEYS}
    _check_update(app, req)
    doc = app.store.update_job(req.params["id"], lambda d: j.apply_v3_update(d, body, req.username))
    if doc is None:
        raise ApiError(400, "Invalid job id.")
    app.publish(doc, "update")
    return 200, j.to_v3(doc)


# -- next-legacy (4.0-4.13) ------------------------------------------------------------------
def _legacy_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"_id": doc["id"], **j.to_v3(doc, native=True), "ownerGroup": doc["ownerGroup"]}


def _legacy_jobs_api(app: Any) -> None:
    """From v4.4.0 the jobs controller checks ``Action.Read/Update`` on the job class while
    the ability factory grants only ``JobsRead/JobsUpdate``: every GET/PATCH/DELETE answers
    403 "Forbidden resource" to everyone, admin included (observed on real v4.5.1 and
    v4.13.0). Up to v4.3 every logged-in account may read and update every job (observed on
    v4.3.1 for admin, archiveManager and user1)."""
    if app.config.version >= (4, 4):
        raise ApiError(403, perm.FORBIDDEN)


def create_legacy(app: Any, req: Request) -> tuple[int, Any]:
    """``POST /api/v3/Jobs`` is open to every account (``@AllowAny``) in every 4.x."""
    body = req.object_body()
    v.reject_unknown(body, v.JOB_LEGACY_CREATE_KEYS)
    v.require(body, ("emailJobInitiator", "type", "datasetList"))
    v.check_email(body, "emailJobInitiator")
    _check_type(body["type"], j.LEGACY_JOB_TYPES)
    entries = body["datasetList"]
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and "pid" in e for e in entries
    ):
        raise ApiError(400, ["datasetList must be a list of {pid, files}"])
    j.check_and_mark_v3(app.store, body["type"], [e["pid"] for e in entries], 400)
    params = j.v3_create_params(body)
    doc = j.new_job(
        body["type"], params, req.username, _owner_group(app, req, entries),
        body["emailJobInitiator"], j.DEFAULT_STATUS, j.DEFAULT_STATUS,
    )  # fmt: skip
    if isinstance(body.get("jobResultObject"), dict):
        doc["jobResultObject"] = copy.deepcopy(body["jobResultObject"])
    app.store.put_job(doc)
    return 201, _legacy_view(doc)


def _legacy_job(app: Any, req: Request) -> dict[str, Any]:
    doc = app.store.job(req.params["id"])
    if doc is None:
        raise ApiError(404, f"Job {req.params['id']} not found")
    return cast("dict[str, Any]", doc)


def get_legacy(app: Any, req: Request) -> tuple[int, Any]:
    _legacy_jobs_api(app)
    return 200, _legacy_view(_legacy_job(app, req))


def list_legacy(app: Any, req: Request) -> tuple[int, Any]:
    _legacy_jobs_api(app)
    found = app.store.query("jobs", req.json_query("filter"), j.v3_field)
    return 200, [_legacy_view(doc) for doc in found]


def delete_legacy(app: Any, req: Request) -> tuple[int, Any]:
    _legacy_jobs_api(app)
    doc = app.store.delete_job(req.params["id"])
    if doc is None:
        raise ApiError(404, f"Job {req.params['id']} not found")
    return 200, _legacy_view(doc)


def patch_legacy(app: Any, req: Request) -> tuple[int, Any]:
    _legacy_jobs_api(app)
    body = req.object_body()
    v.reject_unknown(body, v.JOB_V3_UPDATE_KEYS)
    doc = app.store.update_job(req.params["id"], lambda d: j.apply_v3_update(d, body, req.username))
    if doc is None:
        raise ApiError(404, f"Job {req.params['id']} not found")
    return 200, _legacy_view(doc)


def routes(flavour: str) -> list[Route]:
    if flavour == "next-legacy":
        return [
            Route("POST", "/api/v3/jobs", create_legacy),
            Route("GET", "/api/v3/jobs", list_legacy),
            Route("GET", "/api/v3/jobs/{id}", get_legacy),
            Route("PATCH", "/api/v3/jobs/{id}", patch_legacy),
            Route("DELETE", "/api/v3/jobs/{id}", delete_legacy),
        ]
    return [
        Route("POST", "/api/v4/jobs", create_v4),
        Route("GET", "/api/v4/jobs", list_v4),
        Route("GET", "/api/v4/jobs/{id}", get_v4),
        Route("PATCH", "/api/v4/jobs/{id}", patch_v4),
        Route("POST", "/api/v3/jobs", create_v3),
        Route("GET", "/api/v3/jobs", list_v3),
        Route("GET", "/api/v3/jobs/{id}", get_v3),
        Route("PATCH", "/api/v3/jobs/{id}", patch_v3),
    ]
