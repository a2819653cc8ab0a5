"""Render RabbitMQ's boot definitions: the shipped topology plus the user from the environment.

RabbitMQ does not create its default user when definitions are loaded at boot, and the
definitions file cannot read environment variables. This script (run by the one-shot
compose service ``rabbitmq-definitions`` before RabbitMQ starts) adds the user named by
``RABBITMQ_USER`` with a salted SHA-256 hash of ``RABBITMQ_PASSWORD`` (RabbitMQ's
``rabbit_password_hashing_sha256``) and full permissions on every vhost of the template, so
no password is ever written in the repository or in the rendered file.

Usage: ``python render_definitions.py TEMPLATE OUTPUT`` (standard library only).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

HASHING_ALGORITHM = "rabbit_password_hashing_sha256"


def password_hash(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's SHA-256 password hash: base64(salt + sha256(salt + password)), 4-byte salt."""
    salt = secrets.token_bytes(4) if salt is None else salt
    digest = hashlib.sha256(salt + password.encode("utf-8")).digest()
    return base64.b64encode(salt + digest).decode("ascii")


def render(template: Mapping[str, Any], user: str, password: str) -> dict[str, Any]:
    """The template with ``user`` (administrator, all permissions on its vhosts) added."""
    if not user or not password:
        raise ValueError("RABBITMQ_USER and RABBITMQ_PASSWORD must both be set (see .env.example)")
    out = dict(template)
    vhosts = [v["name"] for v in template.get("vhosts", [])] or ["/"]
    out["users"] = [
        {
            "name": user,
            "password_hash": password_hash(password),
            "hashing_algorithm": HASHING_ALGORITHM,
            "tags": ["administrator"],
        }
    ]
    out["permissions"] = [
        {"user": user, "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"}
        for vhost in vhosts
    ]
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: render_definitions.py TEMPLATE OUTPUT", file=sys.stderr)
        return 2
    template = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    try:
        rendered = render(
            template, os.environ.get("RABBITMQ_USER", ""), os.environ.get("RABBITMQ_PASSWORD", "")
        )
    except ValueError as exc:
        print(f"render_definitions: {exc}", file=sys.stderr)
        return 1
    output = Path(argv[2])
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(rendered, indent=2) + "\n", encoding="utf-8")
    output.chmod(0o644)
    print(f"render_definitions: wrote {output} for user {rendered['users'][0]['name']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
