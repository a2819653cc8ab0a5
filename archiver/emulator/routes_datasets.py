"""backend-next dataset routes: datasets, their lifecycle sub-route and attachments."""

from __future__ import annotations

from typing import Any

from archiver.emulator import validation as v
from archiver.emulator.protocol import ApiError, Request
from archiver.emulator.router import Route

_NUMBERS = ("size", "packedSize", "numberOfFiles", "numberOfFilesArchived")


def _check_numbers(body: dict[str, Any]) -> None:
    for key in _NUMBERS:
        if key in body and not v.is_number(body[key]):
            raise ApiError(400, [f"{key} must be a number"])
    lifecycle = body.get("datasetlifecycle")
    if lifecycle is not None and not isinstance(lifecycle, dict):
        raise ApiError(400, ["datasetlifecycle must be an object"])


def create_dataset(app: Any, req: Request) -> tuple[int, Any]:
    body = req.object_body()
    kind = body.get("type")
    if kind not in v.DATASET_CREATE_KEYS:
        raise ApiError(400, ["type must be one of the following values: raw, derived"])
    v.reject_unknown(body, v.DATASET_CREATE_KEYS[kind])
    v.require(body, v.DATASET_REQUIRED[kind])
    _check_numbers(body)
    if body.get("datasetlifecycle"):
        v.check_lifecycle(body["datasetlifecycle"])
    return 201, app.store.insert_dataset(body, req.username)


def list_datasets(app: Any, req: Request) -> tuple[int, Any]:
    return 200, app.store.query("datasets", req.json_query("filter"))


def get_dataset(app: Any, req: Request) -> tuple[int, Any]:
    return 200, app.store.dataset(req.params["pid"])


def patch_dataset(app: Any, req: Request) -> tuple[int, Any]:
    """Partial update; a ``datasetlifecycle`` in it REPLACES the sub-document."""
    body = req.object_body()
    v.reject_unknown(body, v.DATASET_PATCH_KEYS)
    _check_numbers(body)
    if "datasetlifecycle" in body:
        lifecycle = body["datasetlifecycle"] or {}
        body["datasetlifecycle"] = {k: x for k, x in lifecycle.items() if k in v.LIFECYCLE_KEYS}
    return 200, app.store.update_dataset(req.params["pid"], body, "replace", req.username)


def delete_dataset(app: Any, req: Request) -> tuple[int, Any]:
    return 200, app.store.delete_dataset(req.params["pid"])


def get_lifecycle(app: Any, req: Request) -> tuple[int, Any]:
    return 200, app.store.dataset(req.params["pid"])["datasetlifecycle"]


def patch_lifecycle(app: Any, req: Request) -> tuple[int, Any]:
    """Merge into the lifecycle (backend-next >= 4.19); returns the whole lifecycle."""
    body = req.object_body()
    if not body:
        raise ApiError(400, "Update dataset lifecycle dto is empty")
    v.check_lifecycle(body)
    return 200, app.store.merge_lifecycle(req.params["pid"], body, req.username)


def create_attachment(app: Any, req: Request) -> tuple[int, Any]:
    body = req.object_body()
    v.reject_unknown(body, v.ATTACHMENT_KEYS)
    v.require(body, v.ATTACHMENT_REQUIRED)
    body.pop("datasetId", None)
    return 201, app.store.add_attachment(req.params["pid"], body, req.username)


def list_attachments(app: Any, req: Request) -> tuple[int, Any]:
    app.store.dataset(req.params["pid"])
    return 200, app.store.list_blocks("attachments", req.params["pid"])


def routes(lifecycle_route: bool) -> list[Route]:
    """The dataset routes of backend-next (``lifecycle_route``: >= 4.19 sub-route)."""
    table = [
        Route("POST", "/api/v3/datasets", create_dataset),
        Route("GET", "/api/v3/datasets", list_datasets),
        Route("GET", "/api/v3/datasets/{pid}", get_dataset),
        Route("PATCH", "/api/v3/datasets/{pid}", patch_dataset),
        Route("DELETE", "/api/v3/datasets/{pid}", delete_dataset),
        Route("POST", "/api/v3/datasets/{pid}/attachments", create_attachment),
        Route("GET", "/api/v3/datasets/{pid}/attachments", list_attachments),
    ]
    if lifecycle_route:
        table += [
            Route("GET", "/api/v3/datasets/{pid}/datasetlifecycle", get_lifecycle),
            Route("PATCH", "/api/v3/datasets/{pid}/datasetlifecycle", patch_lifecycle),
        ]
    return table
