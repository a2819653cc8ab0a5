"""backend-next OrigDatablock and DataBlock routes (only under /api/v3, as in the backend)."""

from __future__ import annotations

from typing import Any

from archiver.emulator import permissions as perm
from archiver.emulator import validation as v
from archiver.emulator.protocol import ApiError, Request
from archiver.emulator.router import Route
from archiver.emulator.store import acl_of


def _may_write(req: Request) -> bool:
    return bool(req.rights.dataset_tier != "user")


def _check(app: Any, req: Request, pid: str, action: str) -> None:
    perm.check_dataset(req.rights, app.store.acl(pid), action)


def _visible_blocks(req: Request, any_reader: bool) -> Any:
    """``keep`` for block queries: owner group, access groups or published (None: all)."""
    rights = req.rights
    if any_reader:
        return None
    return lambda doc: rights.read_blocks(acl_of(doc))


def _orig_body(req: Request, keys: frozenset[str]) -> dict[str, Any]:
    body = req.object_body()
    v.reject_unknown(body, keys)
    v.require(body, v.ORIG_REQUIRED | ({"datasetId"} if "datasetId" in keys else set()))
    v.check_int(body, "size")
    v.check_datafiles(body["dataFileList"])
    return body


def create_orig_sub(app: Any, req: Request) -> tuple[int, Any]:
    perm.guard(_may_write(req))
    body = _orig_body(req, v.ORIG_SUBROUTE_KEYS)
    _check(app, req, req.params["pid"], "create_blocks")
    return 201, app.store.add_origdatablock(req.params["pid"], body, req.username)


def create_orig(app: Any, req: Request) -> tuple[int, Any]:
    perm.guard(_may_write(req))
    body = _orig_body(req, v.ORIG_KEYS)
    pid = body.pop("datasetId")
    _check(app, req, pid, "create_blocks")
    return 201, app.store.add_origdatablock(pid, body, req.username)


def list_orig_sub(app: Any, req: Request) -> tuple[int, Any]:
    _check(app, req, req.params["pid"], "read_blocks")
    return 200, app.store.list_blocks("origdatablocks", req.params["pid"])


def list_orig(app: Any, req: Request) -> tuple[int, Any]:
    keep = _visible_blocks(req, req.rights.admin)
    return 200, app.store.query("origdatablocks", req.json_query("filter"), keep=keep)


def _block_body(req: Request, keys: frozenset[str]) -> dict[str, Any]:
    body = req.object_body()
    v.reject_unknown(body, keys)
    v.require(body, v.BLOCK_REQUIRED | ({"datasetId"} if "datasetId" in keys else set()))
    v.check_int(body, "size", "packedSize")
    if not isinstance(body["archiveId"], str) or not isinstance(body["version"], str):
        raise ApiError(400, ["archiveId and version must be strings"])
    v.check_datafiles(body["dataFileList"])
    return body


def create_block_sub(app: Any, req: Request) -> tuple[int, Any]:
    """The sub-route does not map the duplicate-key error: 500, as observed (backend.md 9)."""
    perm.guard(_may_write(req))
    body = _block_body(req, v.BLOCK_SUBROUTE_KEYS)
    _check(app, req, req.params["pid"], "create_blocks")
    try:
        return 201, app.store.add_datablock(req.params["pid"], body, req.username)
    except ApiError as exc:
        if exc.status == 409:
            raise ApiError(500, "Internal server error") from None
        raise


def create_block(app: Any, req: Request) -> tuple[int, Any]:
    """``POST /datablocks``: CREATE_DATASET_GROUPS members (literally: ``#all`` does not
    count here), CREATE_DATASET_PRIVILEGED_GROUPS, CREATE_DATASET_WITH_PID_GROUPS, admins."""
    body = _block_body(req, v.BLOCK_KEYS)
    if not req.rights.block_post:
        raise ApiError(403, "Forbidden")
    pid = body.pop("datasetId")
    return 201, app.store.add_datablock(pid, body, req.username)


def list_blocks_sub(app: Any, req: Request) -> tuple[int, Any]:
    _check(app, req, req.params["pid"], "read_blocks")
    return 200, app.store.list_blocks("datablocks", req.params["pid"])


def list_blocks(app: Any, req: Request) -> tuple[int, Any]:
    """Admins and DELETE_GROUPS see every DataBlock, others their groups' and published."""
    keep = _visible_blocks(req, req.rights.admin or req.rights.delete)
    return 200, app.store.query("datablocks", req.json_query("filter"), keep=keep)


def get_block(app: Any, req: Request) -> tuple[int, Any]:
    found = app.store.query("datablocks", {"where": {"_id": req.params["id"]}})
    if not found:
        raise ApiError(404, "Datablock not found")
    rights = req.rights
    if not (rights.admin or rights.delete or rights.read_blocks(acl_of(found[0]))):
        raise ApiError(401, "Unauthorized")  # the backend answers 401 here, not 403
    return 200, found[0]


def delete_block_sub(app: Any, req: Request) -> tuple[int, Any]:
    """DELETE_GROUPS only: an admin outside DELETE_GROUPS gets 403 (backend.md 10)."""
    perm.guard(req.rights.delete)
    app.store.acl(req.params["pid"])
    return 200, app.store.delete_datablock(req.params["did"], req.params["pid"])


def delete_blocks_sub(app: Any, req: Request) -> tuple[int, Any]:
    perm.guard(req.rights.delete)
    pid = req.params["pid"]
    app.store.dataset(pid)
    blocks = app.store.list_blocks("datablocks", pid)
    for block in blocks:
        app.store.delete_datablock(block["_id"], pid)
    return 200, {"acknowledged": True, "deletedCount": len(blocks)}


def delete_block(app: Any, req: Request) -> tuple[int, Any]:
    perm.guard(req.rights.delete)
    return 200, app.store.delete_datablock(req.params["id"])


def routes() -> list[Route]:
    return [
        Route("POST", "/api/v3/datasets/{pid}/origdatablocks", create_orig_sub),
        Route("GET", "/api/v3/datasets/{pid}/origdatablocks", list_orig_sub),
        Route("POST", "/api/v3/origdatablocks", create_orig),
        Route("GET", "/api/v3/origdatablocks", list_orig),
        Route("POST", "/api/v3/datasets/{pid}/datablocks", create_block_sub),
        Route("GET", "/api/v3/datasets/{pid}/datablocks", list_blocks_sub),
        Route("DELETE", "/api/v3/datasets/{pid}/datablocks/{did}", delete_block_sub),
        Route("DELETE", "/api/v3/datasets/{pid}/datablocks", delete_blocks_sub),
        Route("POST", "/api/v3/datablocks", create_block),
        Route("GET", "/api/v3/datablocks", list_blocks),
        Route("GET", "/api/v3/datablocks/{id}", get_block),
        Route("DELETE", "/api/v3/datablocks/{id}", delete_block),
    ]
