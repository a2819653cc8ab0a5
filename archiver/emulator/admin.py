"""The ``/emulator/`` admin API (no authentication, no latency, no faults, not logged).

- ``GET /emulator/state``: jobs, datasets, datablocks, origdatablocks, attachments.
- ``POST /emulator/faults`` ``{path, status, count, method, delay_s}``: arm a fault.
- ``GET /emulator/faults``: the armed faults. ``DELETE /emulator/faults``: disarm all.
- ``POST /emulator/expire-tokens``: every token issued so far is expired.
- ``POST /emulator/datasets`` (fields) -> ``{pid}``: seed a dataset.
- ``POST /emulator/datasets/{pid}/origdatablocks`` ``{files, ...}`` -> ``{id}``.
- ``POST /emulator/jobs`` ``{type, pids, status?, params?, publish?}`` -> the v4 job.
- ``GET /emulator/requests``: ``{"requests": [[method, path, status], ...],
  "counts": {"METHOD path": n}}``.
"""

from __future__ import annotations

import collections
import urllib.parse
from typing import Any

from archiver.emulator import seed
from archiver.emulator.protocol import ApiError, Request


def _faults(app: Any, req: Request) -> tuple[int, Any]:
    if req.method == "DELETE":
        app.faults.clear()
        return 200, {"faults": []}
    if req.method == "POST":
        body = req.object_body()
        if not isinstance(body.get("path"), str):
            raise ApiError(400, "path (a regex) is required")
        app.faults.add(
            body["path"],
            body.get("status", 503),
            int(body.get("count", 1)),
            body.get("method"),
            float(body.get("delay_s", 0.0)),
        )
    return 200 if req.method == "GET" else 201, {"faults": app.faults.describe()}


def _requests(app: Any) -> dict[str, Any]:
    with app._log_lock:
        rows = list(app.request_log)
    counts = collections.Counter(f"{m} {p}" for m, p, _ in rows)
    return {"requests": [list(r) for r in rows], "counts": dict(counts)}


def _seed_job(app: Any, req: Request) -> tuple[int, Any]:
    body = req.object_body()
    doc = seed.job(
        app.store, body.get("type", "archive"), body.get("pids", []),
        body.get("status", "jobSubmitted"), body.get("params"),
    )  # fmt: skip
    if body.get("publish"):
        app.publish(doc, "create")
    return 201, doc


def handle(app: Any, req: Request) -> tuple[int, Any]:
    """Dispatch one admin request."""
    parts = [urllib.parse.unquote(p) for p in req.path.strip("/").split("/")[1:]]
    key = (req.method, parts[0] if parts else "")
    if key == ("GET", "state"):
        return 200, app.store.snapshot()
    if parts[:1] == ["faults"] and req.method in ("GET", "POST", "DELETE"):
        return _faults(app, req)
    if key == ("POST", "expire-tokens"):
        app.tokens.expire_all()
        return 200, {"expired": True}
    if key == ("GET", "requests"):
        return 200, _requests(app)
    if key == ("POST", "jobs"):
        return _seed_job(app, req)
    if key == ("POST", "datasets") and len(parts) == 1:
        return 201, {"pid": seed.dataset(app.store, req.object_body())}
    if key == ("POST", "datasets") and len(parts) == 3 and parts[2] == "origdatablocks":
        body = req.object_body()
        files = body.pop("files", None)
        return 201, {"id": seed.origdatablock(app.store, parts[1], files, body)}
    raise ApiError(404, f"Cannot {req.method} {req.path}")
