"""backend-next OrigDatablock and DataBlock routes (only under /api/v3, as in the backend)."""

from __future__ import annotations

from typing import Any

from archiver.emulator import validation as v
from archiver.emulator.protocol import ApiError, Request
from archiver.emulator.router import Route


def _orig_body(req: Request, keys: frozenset[str]) -> dict[str, Any]:
    body = req.object_body()
    v.reject_unknown(body, keys)
    v.require(body, v.ORIG_REQUIRED | ({"datasetId"} if "datasetId" in keys else set()))
    v.check_int(body, "size")
    v.check_datafiles(body["dataFileList"])
    return body


def create_orig_sub(app: Any, req: Request) -> tuple[int, Any]:
    body = _orig_body(req, v.ORIG_SUBROUTE_KEYS)
    return 201, app.store.add_origdatablock(req.params["pid"], body, req.username)


def create_orig(app: Any, req: Request) -> tuple[int, Any]:
    body = _orig_body(req, v.ORIG_KEYS)
    pid = body.pop("datasetId")
    return 201, app.store.add_origdatablock(pid, body, req.username)


def list_orig_sub(app: Any, req: Request) -> tuple[int, Any]:
    app.store.dataset(req.params["pid"])
    return 200, app.store.list_blocks("origdatablocks", req.params["pid"])


def list_orig(app: Any, req: Request) -> tuple[int, Any]:
    return 200, app.store.query("origdatablocks", req.json_query("filter"))


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
    body = _block_body(req, v.BLOCK_SUBROUTE_KEYS)
    try:
        return 201, app.store.add_datablock(req.params["pid"], body, req.username)
    except ApiError as exc:
        if exc.status == 409:
            raise ApiError(500, "Internal server error") from None
        raise


def create_block(app: Any, req: Request) -> tuple[int, Any]:
    body = _block_body(req, v.BLOCK_KEYS)
    pid = body.pop("datasetId")
    return 201, app.store.add_datablock(pid, body, req.username)


def list_blocks_sub(app: Any, req: Request) -> tuple[int, Any]:
    app.store.dataset(req.params["pid"])
    return 200, app.store.list_blocks("datablocks", req.params["pid"])


def list_blocks(app: Any, req: Request) -> tuple[int, Any]:
    return 200, app.store.query("datablocks", req.json_query("filter"))


def get_block(app: Any, req: Request) -> tuple[int, Any]:
    found = app.store.query("datablocks", {"where": {"_id": req.params["id"]}})
    if not found:
        raise ApiError(404, "Datablock not found")
    return 200, found[0]


def delete_block_sub(app: Any, req: Request) -> tuple[int, Any]:
    return 200, app.store.delete_datablock(req.params["did"], req.params["pid"])


def delete_blocks_sub(app: Any, req: Request) -> tuple[int, Any]:
    pid = req.params["pid"]
    app.store.dataset(pid)
    blocks = app.store.list_blocks("datablocks", pid)
    for block in blocks:
        app.store.delete_datablock(block["_id"], pid)
    return 200, {"acknowledged": True, "deletedCount": len(blocks)}


def delete_block(app: Any, req: Request) -> tuple[int, Any]:
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
