"""deploy/rabbitmq/render_definitions.py: the broker user from the environment, hashed."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import kombu
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "rabbitmq" / "render_definitions.py"

spec = importlib.util.spec_from_file_location("render_definitions", SCRIPT)
render_definitions = importlib.util.module_from_spec(spec)
spec.loader.exec_module(render_definitions)


def test_hash_is_rabbitmq_sha256_with_a_four_byte_salt():
    raw = base64.b64decode(render_definitions.password_hash("s3cret", b"\x01\x02\x03\x04"))
    assert raw[:4] == b"\x01\x02\x03\x04"
    assert raw[4:] == hashlib.sha256(b"\x01\x02\x03\x04s3cret").digest()
    first = render_definitions.password_hash("s3cret")
    assert first != render_definitions.password_hash("s3cret"), "salted"


def test_render_adds_the_user_and_keeps_the_template():
    template = json.loads((SCRIPT.parent / "definitions.json").read_text("utf-8"))
    out = render_definitions.render(template, "archiver", "Plain-Text-Pw-1")
    assert out["queues"] == template["queues"] and out["policies"] == template["policies"]
    (user,) = out["users"]
    assert user["name"] == "archiver" and "password" not in user
    assert user["hashing_algorithm"] == "rabbit_password_hashing_sha256"
    assert out["permissions"] == [
        {"user": "archiver", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}
    ]
    assert "Plain-Text-Pw-1" not in json.dumps(out)
    with pytest.raises(ValueError, match="RABBITMQ_PASSWORD"):
        render_definitions.render(template, "archiver", "")


def test_script_writes_the_file_and_refuses_missing_credentials(tmp_path):
    out = tmp_path / "gen" / "definitions.json"
    template = str(SCRIPT.parent / "definitions.json")
    env = {"RABBITMQ_USER": "archiver", "RABBITMQ_PASSWORD": "Very-Secret-1"}
    done = subprocess.run([sys.executable, str(SCRIPT), template, str(out)], env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Very-Secret-1" not in out.read_text() and "Very-Secret-1" not in done.stdout
    assert json.loads(out.read_text())["users"][0]["name"] == "archiver"
    missing = subprocess.run([sys.executable, str(SCRIPT), template, str(out)], env={},
                             capture_output=True, text=True, check=False)  # fmt: skip
    assert missing.returncode == 1 and "RABBITMQ_USER" in missing.stderr


def test_real_rabbitmq_accepts_the_rendered_user(broker_url):
    """Import a rendered user into the test broker, log in with it, delete it again."""
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        pytest.fail("rabbitmqctl is not on this machine: the broker tests need it")
    user, password = f"archiver-test-{uuid.uuid4().hex[:8]}", 'p"w\\ with spaces ü'
    rendered = render_definitions.render({"vhosts": [{"name": "/"}]}, user, password)
    # rabbitmqctl may run as the rabbitmq user: the file must be readable by everyone.
    with tempfile.TemporaryDirectory() as folder:
        Path(folder).chmod(0o755)
        path = Path(folder) / "definitions.json"
        path.write_text(json.dumps(rendered), encoding="utf-8")
        path.chmod(0o644)
        done = subprocess.run([ctl, "import_definitions", str(path)], capture_output=True,
                              text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    try:
        host = broker_url.rsplit("@", 1)[-1]
        quoted = __import__("urllib.parse").parse.quote(password, safe="")
        with kombu.Connection(f"amqp://{user}:{quoted}@{host}", connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=1)
        with pytest.raises(Exception, match="ACCESS_REFUSED"):
            with kombu.Connection(f"amqp://{user}:wrong@{host}", connect_timeout=5) as conn:
                conn.ensure_connection(max_retries=1)
    finally:
        subprocess.run([ctl, "delete_user", user], capture_output=True, timeout=60, check=False)
