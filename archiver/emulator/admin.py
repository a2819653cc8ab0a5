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
- ``GET /emulator/jobs``: ``{"jobs": [{id, type, statusCode, createdAt, updatedAt}]}``, a
  cheap poll (benchmarks in capacity mode must not spend the API's capacity on polling).

Bodies are JSON objects whatever the ``Content-Type`` says (``curl -d`` sends
``application/x-www-form-urlencoded``); a body that is not a JSON object, an unknown key or a
wrongly typed value answers 400 with one line saying what to send, and nothing is created.
"""

from __future__ import annotations

import collections
import json
import urllib.parse
from collections.abc import Iterable
from typing import Any

from archiver.emulator import seed
from archiver.emulator.jobs import JOB_TYPES
from archiver.emulator.protocol import ApiError, Request

_EXAMPLE = """curl -H 'Content-Type: application/json' -d '{"type": "archive", "pids": ["..."]}'"""
_JOB_KEYS = ("type", "pids", "status", "params", "publish")
_FAULT_KEYS = ("path", "status", "count", "method", "delay_s")


def json_body(req: Request) -> dict[str, Any]:
    """The body as a JSON object, whatever the content type; ``{}`` when empty."""
    raw = req.raw_body.strip()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(
            400, f"{req.path}: the body is not JSON; send a JSON object, e.g. {_EXAMPLE}"
        ) from None
    if not isinstance(body, dict):
        raise ApiError(400, f"{req.path}: send a JSON object, not {type(body).__name__}")
    return body


def _only(body: dict[str, Any], keys: Iterable[str], path: str) -> None:
    unknown = sorted(set(body) - set(keys))
    if unknown:
        raise ApiError(400, f"{path}: unknown key(s) {unknown}; use {', '.join(keys)}")


def _faults(app: Any, req: Request) -> tuple[int, Any]:
    if req.method == "DELETE":
        app.faults.clear()
        return 200, {"faults": []}
    if req.method == "POST":
        body = json_body(req)
        _only(body, _FAULT_KEYS, req.path)
        if not isinstance(body.get("path"), str):
            raise ApiError(400, f'{req.path}: path (a regex, e.g. "/datablocks") is required')
        try:
            count, delay = int(body.get("count", 1)), float(body.get("delay_s", 0.0))
        except (TypeError, ValueError):
            raise ApiError(400, f"{req.path}: count must be an integer, delay_s seconds") from None
        app.faults.add(body["path"], body.get("status", 503), count, body.get("method"), delay)
    return 200 if req.method == "GET" else 201, {"faults": app.faults.describe()}


def _requests(app: Any) -> dict[str, Any]:
    with app._log_lock:
        rows = list(app.request_log)
    counts = collections.Counter(f"{m} {p}" for m, p, _ in rows)
    return {"requests": [list(r) for r in rows], "counts": dict(counts)}


def _seed_job(app: Any, req: Request) -> tuple[int, Any]:
    body = json_body(req)
    _only(body, _JOB_KEYS, req.path)
    if body.get("type", "archive") not in JOB_TYPES:
        raise ApiError(400, f"{req.path}: type must be one of {', '.join(JOB_TYPES)}")
    pids = body.get("pids")
    if not isinstance(pids, list) or not pids or not all(isinstance(p, str) for p in pids):
        raise ApiError(400, f"{req.path}: pids must be a non-empty list of dataset pids")
    missing = app.store.missing_pids(pids)
    if missing:
        raise ApiError(400, f"{req.path}: no dataset with pid {', '.join(missing)}")
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
    if key == ("GET", "jobs") and len(parts) == 1:
        return 200, {"jobs": app.store.job_summaries()}
    if key == ("POST", "datasets") and len(parts) == 1:
        return 201, {"pid": seed.dataset(app.store, json_body(req))}
    if key == ("POST", "datasets") and len(parts) == 3 and parts[2] == "origdatablocks":
        body = json_body(req)
        files = body.pop("files", None)
        if files is not None and not (isinstance(files, list) and files):
            raise ApiError(400, f"{req.path}: files must be a non-empty list of DataFile objects")
        return 201, {"id": seed.origdatablock(app.store, parts[1], files, body)}
    raise ApiError(404, f"Cannot {req.method} {req.path}")
