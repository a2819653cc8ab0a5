"""The LoopBack 3 backend (``loopback`` flavour): lenient bodies, 200 on create, token in
``access_token``, PUT = PATCH = partial update, a partial lifecycle is merged."""

from __future__ import annotations

import copy
import json
from typing import Any, cast

from archiver.emulator import jobs as j
from archiver.emulator.protocol import ApiError, Request
from archiver.emulator.router import Route
from archiver.emulator.store import PID_PREFIX, now_iso

_DATASET_REQUIRED = ("owner", "ownerGroup", "contactEmail", "sourceFolder", "creationTime", "type")
_RELATIONS = ("origdatablocks", "datablocks", "attachments")


def _require(body: dict[str, Any], keys: tuple[str, ...]) -> None:
    missing = [k for k in keys if body.get(k) in (None, "")]
    if missing:
        raise ApiError(422, f"The instance is not valid. Details: {missing} can't be blank")


def _strip(doc: dict[str, Any]) -> dict[str, Any]:
    doc.pop("_id", None)
    return doc


def login(app: Any, req: Request) -> tuple[int, Any]:
    body = req.object_body()
    token = app.tokens.login(body.get("username"), body.get("password"))
    if token is None:
        raise ApiError(401, "login failed", "LOGIN_FAILED")
    created = now_iso()
    user_id = app.tokens.user(token.username)["id"]
    return 200, {
        "id": token.value,
        "ttl": int(app.tokens.ttl),
        "created": created,
        "userId": user_id,
    }


# -- datasets ---------------------------------------------------------------------------------
def _relations(filt: dict[str, Any]) -> list[str]:
    include = filt.get("include") or []
    items = include if isinstance(include, list) else [include]
    names = [i.get("relation") if isinstance(i, dict) else i for i in items]
    return [n for n in names if n in _RELATIONS]


def _with_relations(app: Any, doc: dict[str, Any], names: list[str]) -> dict[str, Any]:
    for name in names:
        doc[name] = [_strip(b) for b in app.store.list_blocks(name, doc["pid"])]
    return doc


def create_attachment(app: Any, req: Request) -> tuple[int, Any]:
    """LoopBack's relation route: lenient about keys, answers 200."""
    body = req.object_body()
    body.pop("datasetId", None)
    return 200, app.store.add_attachment(req.params["pid"], body, req.username)


def create_dataset(app: Any, req: Request) -> tuple[int, Any]:
    body = req.object_body()
    _require(body, _DATASET_REQUIRED)
    pid = body.get("pid")
    if pid and not str(pid).startswith(PID_PREFIX + "/"):
        body["pid"] = f"{PID_PREFIX}/{pid}"
    try:
        return 200, app.store.insert_dataset(body, req.username)
    except ApiError as exc:
        raise ApiError(422, str(exc.message)) from None


def get_dataset(app: Any, req: Request) -> tuple[int, Any]:
    doc = app.store.dataset(req.params["pid"])
    return 200, _with_relations(app, doc, _relations(req.json_query("filter")))


def list_datasets(app: Any, req: Request) -> tuple[int, Any]:
    filt = req.json_query("filter")
    docs = app.store.query("datasets", filt)
    return 200, [_with_relations(app, d, _relations(filt)) for d in docs]


def update_dataset(app: Any, req: Request) -> tuple[int, Any]:
    body = req.object_body()
    body.pop("pid", None)
    return 200, app.store.update_dataset(req.params["pid"], body, "merge", req.username)


def delete_dataset(app: Any, req: Request) -> tuple[int, Any]:
    app.store.delete_dataset(req.params["pid"])
    return 200, {"count": 1}


# -- blocks -----------------------------------------------------------------------------------
def _block_pid(req: Request, body: dict[str, Any]) -> str:
    pid = req.params.get("pid") or body.get("datasetId")
    if not pid:
        raise ApiError(422, "The instance is not valid. Details: datasetId can't be blank")
    body.pop("datasetId", None)
    return pid


def create_orig(app: Any, req: Request) -> tuple[int, Any]:
    body = req.object_body()
    pid = _block_pid(req, body)
    _require(body, ("size", "dataFileList"))
    return 200, _strip(app.store.add_origdatablock(pid, body, req.username))


def list_orig(app: Any, req: Request) -> tuple[int, Any]:
    pid = req.params.get("pid")
    if pid:
        app.store.dataset(pid)
    docs = app.store.query("origdatablocks", req.json_query("filter"), pid=pid)
    return 200, [_strip(d) for d in docs]


def create_block(app: Any, req: Request) -> tuple[int, Any]:
    """Duplicate archiveId -> 422, like LoopBack's uniqueness validation."""
    body = req.object_body()
    pid = _block_pid(req, body)
    _require(body, ("archiveId", "size", "version", "dataFileList"))
    try:
        return 200, _strip(app.store.add_datablock(pid, body, req.username))
    except ApiError as exc:
        if exc.status == 409:
            raise ApiError(
                422, "The instance is not valid. Details: archiveId is not unique"
            ) from None
        raise


def list_blocks(app: Any, req: Request) -> tuple[int, Any]:
    pid = req.params.get("pid")
    if pid:
        app.store.dataset(pid)
    docs = app.store.query("datablocks", req.json_query("filter"), pid=pid)
    return 200, [_strip(d) for d in docs]


def delete_block(app: Any, req: Request) -> tuple[int, Any]:
    app.store.delete_datablock(req.params["id"], req.params.get("pid"))
    return 200, {"count": 1}


# -- jobs -------------------------------------------------------------------------------------
def create_job(app: Any, req: Request) -> tuple[int, Any]:
    body = req.object_body()
    job_type = body.get("type") or "retrieve"
    entries = body.get("datasetList") or []
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and "pid" in e for e in entries
    ):
        raise ApiError(422, "The instance is not valid. Details: datasetList is invalid")
    j.check_and_mark_v3(app.store, job_type, [e["pid"] for e in entries], 404)
    email = (req.user or {}).get("email", "")
    if job_type == "public":
        email = body.get("emailJobInitiator") or email
    doc = j.new_job(job_type, j.v3_create_params(body), req.username, "", email)
    doc["statusMessage"] = j.DEFAULT_STATUS
    if isinstance(body.get("jobResultObject"), dict):
        doc["jobResultObject"] = copy.deepcopy(body["jobResultObject"])
    app.store.put_job(doc)
    app.publish(doc, "create")
    return 200, j.to_v3(doc, native=True)


def _job(app: Any, job_id: str) -> dict[str, Any]:
    doc = app.store.job(job_id)
    if doc is None:
        raise ApiError(404, f'Unknown "Job" id "{job_id}".', "MODEL_NOT_FOUND")
    return cast("dict[str, Any]", doc)


def get_job(app: Any, req: Request) -> tuple[int, Any]:
    return 200, j.to_v3(_job(app, req.params["id"]), native=True)


def list_jobs(app: Any, req: Request) -> tuple[int, Any]:
    found = app.store.query("jobs", req.json_query("filter"), j.v3_field)
    return 200, [j.to_v3(doc, native=True) for doc in found]


def update_job(app: Any, req: Request) -> tuple[int, Any]:
    body = req.object_body()

    def mutate(doc: dict[str, Any]) -> None:
        j.apply_v3_update(doc, body, req.username)
        if isinstance(body.get("jobParams"), dict):
            keep = {
                k: doc["jobParams"][k]
                for k in ("datasetList", "executionTime")
                if k in doc["jobParams"]
            }
            doc["jobParams"] = {**copy.deepcopy(body["jobParams"]), **keep}
        if isinstance(body.get("datasetList"), list):
            doc["jobParams"]["datasetList"] = copy.deepcopy(body["datasetList"])
        if "emailJobInitiator" in body:
            doc["contactEmail"] = body["emailJobInitiator"]

    doc = app.store.update_job(req.params["id"], mutate)
    if doc is None:
        _job(app, req.params["id"])
    return 200, j.to_v3(doc, native=True)


def dataset_details(app: Any, req: Request) -> tuple[int, Any]:
    """The datasets of ``?jobId=``, optionally with ``include`` relations."""
    doc = _job(app, req.query.get("jobId", ""))
    pids = [e.get("pid") for e in doc["jobParams"].get("datasetList", [])]
    raw = req.query.get("include") or ""
    try:
        include = json.loads(raw) if raw else []
    except ValueError:
        include = raw
    names = _relations({"include": include})
    found = app.store.query("datasets", {"where": {"pid": {"inq": pids}}})
    return 200, [_with_relations(app, d, names) for d in found]


def routes() -> list[Route]:
    base = "/api/v3"
    table = [Route("POST", f"{base}/Users/login", login, auth=False)]
    for method in ("PUT", "PATCH"):
        table.append(Route(method, f"{base}/Jobs/{{id}}", update_job))
        table.append(Route(method, f"{base}/Datasets/{{pid}}", update_dataset))
    return table + [
        Route("POST", f"{base}/Jobs", create_job),
        Route("GET", f"{base}/Jobs", list_jobs),
        Route("GET", f"{base}/Jobs/datasetDetails", dataset_details),
        Route("GET", f"{base}/Jobs/{{id}}", get_job),
        Route("POST", f"{base}/Datasets", create_dataset),
        Route("GET", f"{base}/Datasets", list_datasets),
        Route("GET", f"{base}/Datasets/{{pid}}", get_dataset),
        Route("DELETE", f"{base}/Datasets/{{pid}}", delete_dataset),
        Route("GET", f"{base}/Datasets/{{pid}}/origdatablocks", list_orig),
        Route("POST", f"{base}/Datasets/{{pid}}/origdatablocks", create_orig),
        Route("POST", f"{base}/OrigDatablocks", create_orig),
        Route("GET", f"{base}/OrigDatablocks", list_orig),
        Route("POST", f"{base}/Datasets/{{pid}}/attachments", create_attachment),
        Route("GET", f"{base}/Datasets/{{pid}}/datablocks", list_blocks),
        Route("POST", f"{base}/Datasets/{{pid}}/datablocks", create_block),
        Route("DELETE", f"{base}/Datasets/{{pid}}/datablocks/{{id}}", delete_block),
        Route("POST", f"{base}/Datablocks", create_block),
        Route("GET", f"{base}/Datablocks", list_blocks),
        Route("DELETE", f"{base}/Datablocks/{{id}}", delete_block),
    ]
