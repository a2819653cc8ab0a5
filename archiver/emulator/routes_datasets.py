"""backend-next dataset routes: datasets, their lifecycle sub-route and attachments."""

from __future__ import annotations

from typing import Any

from archiver.emulator import permissions as perm
from archiver.emulator import validation as v
from archiver.emulator.protocol import ApiError, Request
from archiver.emulator.router import Route
from archiver.emulator.store import acl_of

_NUMBERS = ("size", "packedSize", "numberOfFiles", "numberOfFilesArchived")


def _reset_counters(version: tuple[int, int]) -> tuple[str, ...]:
    """The counters a PATCH resets to their DTO default 0 (by the DTOs of each release)."""
    if version < (4, 6) or version >= (4, 15):
        return ()
    return _NUMBERS if version >= (4, 10) else _NUMBERS[:3]


def _may_write(req: Request) -> bool:
    """The class-level DatasetCreate/DatasetUpdate grant (every CREATE_DATASET* tier)."""
    return bool(req.rights.dataset_tier != "user")


def create_dataset(app: Any, req: Request) -> tuple[int, Any]:
    perm.guard(_may_write(req))
    body = req.object_body()
    kind = body.get("type")
    if kind not in v.DATASET_CREATE_KEYS:
        message = "type must be one of the following values: raw, derived"
        raise v.dataset_error(
            [{"property": "type", "children": [], "constraints": {"isEnum": message}}]
        )
    v.check_dataset_body(body, v.DATASET_CREATE_KEYS[kind], v.DATASET_REQUIRED[kind])
    if body.get("datasetlifecycle"):
        v.check_lifecycle(body["datasetlifecycle"])
    rights = req.rights
    if not rights.all and not rights.create_dataset(body.get("ownerGroup"), bool(body.get("pid"))):
        raise ApiError(403, "Unauthorized to create this dataset")
    return 201, app.store.insert_dataset(body, req.username)


def visible_datasets(req: Request) -> Any:
    """``keep`` for queries: the datasets the caller may read (None: all of them)."""
    rights = req.rights
    if rights.admin or rights.lifecycle_any:
        return None
    return lambda doc: rights.read_dataset(acl_of(doc))


#: Relations ``filter.include`` may name on ``GET /datasets`` (``[{"relation": name}]``).
INCLUDABLE = ("attachments", "origdatablocks", "datablocks")


def list_datasets(app: Any, req: Request) -> tuple[int, Any]:
    """Datasets the caller may not read are left out (no error), as the backend does.
    ``filter.include`` adds each dataset's relations (``origdatablocks``, ``datablocks``,
    ``attachments``) under their names; an unknown relation is a 400."""
    filt = req.json_query("filter")
    docs = app.store.query("datasets", filt, keep=visible_datasets(req))
    include = filt.get("include") or []
    include = include if isinstance(include, list) else [include]
    names = [i.get("relation") if isinstance(i, dict) else i for i in include]
    unknown = [n for n in names if n not in INCLUDABLE]
    if unknown:
        raise ApiError(400, f"include: unknown relation {unknown[0]!r}")
    for doc in docs:
        for name in names:
            doc[name] = app.store.list_blocks(name, doc["pid"])
    return 200, docs


def get_dataset(app: Any, req: Request) -> tuple[int, Any]:
    """404 when absent, 403 "Unauthorized access" when the caller may not read it."""
    perm.check_dataset(req.rights, app.store.acl(req.params["pid"]), "read_dataset")
    return 200, app.store.dataset(req.params["pid"])


def patch_dataset(app: Any, req: Request) -> tuple[int, Any]:
    """Partial update; a ``datasetlifecycle`` in it REPLACES the sub-document.

    Versions 4.6-4.14 also reset counters to 0 unless the body carries them: from 4.6 the
    PATCH body goes through ``plainToInstance`` of a DTO with ``size = 0``-style defaults
    (4.6-4.9: size, packedSize, numberOfFiles; 4.10-4.14 also numberOfFilesArchived; gone
    in 4.15; observed on real v4.13.0, not on v4.5.1 or v5.2.1).
    """
    perm.guard(_may_write(req))
    body = req.object_body()
    v.check_dataset_body(body, v.DATASET_PATCH_KEYS)
    perm.check_dataset(req.rights, app.store.acl(req.params["pid"]), "update_dataset")
    if "datasetlifecycle" in body:
        lifecycle = body["datasetlifecycle"] or {}
        body["datasetlifecycle"] = {k: x for k, x in lifecycle.items() if k in v.LIFECYCLE_KEYS}
    body = {**dict.fromkeys(_reset_counters(app.config.version), 0), **body}
    return 200, app.store.update_dataset(req.params["pid"], body, "replace", req.username)


def delete_dataset(app: Any, req: Request) -> tuple[int, Any]:
    """DELETE_GROUPS only (admins outside DELETE_GROUPS get 403 too)."""
    perm.guard(req.rights.delete)
    return 200, app.store.delete_dataset(req.params["pid"])


def get_lifecycle(app: Any, req: Request) -> tuple[int, Any]:
    perm.check_dataset(req.rights, app.store.acl(req.params["pid"]), "read_dataset")
    return 200, app.store.dataset(req.params["pid"])["datasetlifecycle"]


def patch_lifecycle(app: Any, req: Request) -> tuple[int, Any]:
    """Merge into the lifecycle (backend-next >= 4.19); returns the whole lifecycle."""
    perm.guard(_may_write(req) or req.rights.lifecycle_any)
    body = req.object_body()
    if not body:
        raise ApiError(400, "Update dataset lifecycle dto is empty")
    v.check_lifecycle(body)
    perm.check_dataset(req.rights, app.store.acl(req.params["pid"]), "update_lifecycle")
    return 200, app.store.merge_lifecycle(req.params["pid"], body, req.username)


def create_attachment(app: Any, req: Request) -> tuple[int, Any]:
    perm.guard(_may_write(req))
    body = req.object_body()
    v.reject_unknown(body, v.ATTACHMENT_KEYS)
    v.require(body, v.ATTACHMENT_REQUIRED)
    body.pop("datasetId", None)
    perm.check_dataset(req.rights, app.store.acl(req.params["pid"]), "create_blocks")
    return 201, app.store.add_attachment(req.params["pid"], body, req.username)


def list_attachments(app: Any, req: Request) -> tuple[int, Any]:
    perm.check_dataset(req.rights, app.store.acl(req.params["pid"]), "read_blocks")
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
