"""Trim SciCat's OpenAPI document to what tests/emulator/test_openapi_contract.py reads.

Kept: every path and method, each operation's ``requestBody`` and ``responses`` (schemas
only), and every component schema reachable from them. Dropped: descriptions, summaries,
examples, parameters, tags, operation ids, security, servers. Refresh from a running backend
(NestJS serves the document at ``/explorer-json``)::

    curl -s http://localhost:3000/explorer-json > /tmp/openapi.json
    cd tests/emulator/data && python trim_openapi.py /tmp/openapi.json scicat-openapi.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

_DROP = {"description", "summary", "example", "examples", "title", "deprecated"}


def _strip(node: Any, in_properties: bool = False) -> Any:
    """``node`` without documentation keys (property NAMES such as ``description`` stay)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if not in_properties and key in _DROP and not isinstance(value, dict | list):
                continue
            if not in_properties and key in ("example", "examples"):
                continue
            out[key] = _strip(value, in_properties=key == "properties" and not in_properties)
        return out
    if isinstance(node, list):
        return [_strip(x) for x in node]
    return node


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def trim(doc: dict[str, Any]) -> dict[str, Any]:
    paths = {
        path: {
            method: _strip({k: op[k] for k in ("requestBody", "responses") if k in op})
            for method, op in ops.items()
        }
        for path, ops in doc["paths"].items()
    }
    schemas = doc["components"]["schemas"]
    wanted: set[str] = set()
    _refs(paths, wanted)
    done: set[str] = set()
    while wanted - done:
        name = (wanted - done).pop()
        done.add(name)
        _refs(schemas.get(name, {}), wanted)
    kept = {name: _strip(schemas[name]) for name in sorted(done) if name in schemas}
    return {
        "openapi": doc["openapi"],
        "info": {**doc["info"], "x-trimmed-by": "tests/emulator/data/trim_openapi.py"},
        "paths": paths,
        "components": {"schemas": kept},
    }


def main(source: str, target: str) -> None:
    doc = json.loads(Path(source).read_text(encoding="utf-8"))
    text = json.dumps(trim(doc), indent=1, sort_keys=False)
    Path(target).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:3])
