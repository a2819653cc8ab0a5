"""The subset of the LoopBack / backend-next ``filter`` language the emulator understands.

``where``: equality on (dotted) fields, ``{"inq": [...]}`` / ``{"$in": [...]}``,
``{"nin"|"$nin": [...]}``, ``{"neq"|"$ne": x}``, ``{"gt"|"gte"|"lt"|"lte": x}`` (also with
``$``), and ``and`` / ``or`` (``$and`` / ``$or``) lists. Paging: ``limits`` (backend-next:
``limit``, ``skip``, ``sort``) or LoopBack's top-level ``limit``, ``skip``, ``order``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from archiver.emulator.protocol import ApiError

_MISSING = object()


def get_field(doc: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted path; lists along the way are searched element-wise."""
    value: Any = doc
    for part in dotted.split("."):
        if isinstance(value, Mapping):
            value = value.get(part, _MISSING)
        elif isinstance(value, list):
            value = [v.get(part, _MISSING) for v in value if isinstance(v, Mapping)]
        else:
            return _MISSING
        if value is _MISSING:
            return _MISSING
    return value


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, list) and not isinstance(expected, list):
        return expected in actual
    return bool(actual == expected)


def _compare(op: str, actual: Any, arg: Any) -> bool:
    if op in ("inq", "in"):
        return any(_equal(actual, a) for a in arg)
    if op in ("nin",):
        return not any(_equal(actual, a) for a in arg)
    if op in ("neq", "ne"):
        return not _equal(actual, arg)
    if op == "eq":
        return _equal(actual, arg)
    if op == "exists":
        return (actual is not _MISSING) == bool(arg)
    if actual is _MISSING or actual is None:
        return False
    try:
        compared = {
            "gt": actual > arg,
            "gte": actual >= arg,
            "lt": actual < arg,
            "lte": actual <= arg,
        }
        return bool(compared[op])
    except (KeyError, TypeError):
        raise ApiError(400, f"unsupported filter operator {op!r}") from None


def _matches_value(actual: Any, expected: Any) -> bool:
    if (
        isinstance(expected, Mapping)
        and expected
        and all(isinstance(k, str) and (k.startswith("$") or k in _OPS) for k in expected)
    ):
        return all(_compare(op.lstrip("$"), actual, arg) for op, arg in expected.items())
    return actual is not _MISSING and _equal(actual, expected)


_OPS = {"inq", "nin", "neq", "gt", "gte", "lt", "lte", "eq", "exists"}


def matches(doc: Mapping[str, Any], where: Mapping[str, Any]) -> bool:
    """Whether ``doc`` satisfies the ``where`` clause."""
    for key, expected in where.items():
        name = key.lstrip("$")
        if name == "and" and isinstance(expected, list):
            if not all(matches(doc, sub) for sub in expected):
                return False
        elif name == "or" and isinstance(expected, list):
            if not any(matches(doc, sub) for sub in expected):
                return False
        elif not _matches_value(get_field(doc, key), expected):
            return False
    return True


def _sort_spec(filt: Mapping[str, Any]) -> list[tuple[str, bool]]:
    limits = filt.get("limits") or {}
    spec: list[tuple[str, bool]] = []
    sort = limits.get("sort") if isinstance(limits, Mapping) else None
    if isinstance(sort, Mapping):
        spec = [(k, str(v).lower() in ("desc", "-1")) for k, v in sort.items()]
    order = filt.get("order")
    if isinstance(order, str):
        order = [order]
    for item in order or []:
        field, _, direction = str(item).partition(" ")
        spec.append((field, direction.strip().upper() == "DESC"))
    return spec


def _paging(filt: Mapping[str, Any]) -> tuple[int, int | None]:
    given = filt.get("limits")
    limits: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    skip = limits.get("skip", filt.get("skip", 0)) or 0
    limit = limits.get("limit", filt.get("limit"))
    try:
        return int(skip), (int(limit) if limit not in (None, "") else None)
    except (TypeError, ValueError):
        raise ApiError(400, "limit and skip must be integers") from None


def _sort_by(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda doc: _sort_key(get_field(doc, name))


def apply(
    docs: Iterable[dict[str, Any]],
    filt: Mapping[str, Any],
    translate: Callable[[str], str] = lambda k: k,
) -> list[dict[str, Any]]:
    """Filter, sort and page ``docs``; ``translate`` maps filter field names to stored ones."""
    where = _translate_where(filt.get("where") or {}, translate)
    if not isinstance(where, Mapping):
        raise ApiError(400, "where must be an object")
    found = [d for d in docs if matches(d, where)]
    for field, descending in reversed(_sort_spec(filt)):
        name = translate(field)
        found.sort(key=_sort_by(name), reverse=descending)
    skip, limit = _paging(filt)
    return found[skip : None if limit is None else skip + limit]


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is _MISSING or value is None:
        return (0, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    return (2, str(value))


def _translate_where(where: Any, translate: Callable[[str], str]) -> Any:
    if not isinstance(where, Mapping):
        return where
    out: dict[str, Any] = {}
    for key, value in where.items():
        if key.lstrip("$") in ("and", "or") and isinstance(value, list):
            out[key] = [_translate_where(v, translate) for v in value]
        else:
            out[translate(key)] = value
    return out
