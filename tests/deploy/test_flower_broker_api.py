"""Flower reads queue lengths from RabbitMQ's management API without a password in a URL.

The compose files give ``FLOWER_BROKER_API=http://rabbitmq:15672/api/`` (no credentials);
Flower 2.2 then logs in to the API with the user and password of the broker URL, which the
archiver builds from ARCHIVER_BROKER_USER/PASSWORD with URL-unsafe characters quoted. A
small HTTP server stands in for the management API and records what Flower sends. Flower
runs in a subprocess: in this test process ``flower`` is the tests' package of that name.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import yaml

from archiver.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
#: Flower's own broker client asks for the queue lengths (broker URL and API from the env).
QUEUES = (
    "import asyncio, json, os; from flower.utils.broker import Broker; "
    "b = Broker(os.environ['BROKER'], broker_options={}, http_api=os.environ['API']); "
    "print(json.dumps(asyncio.run(b.queues(['archiver.tasks']))))"
)


class ManagementAPI(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        ManagementAPI.seen.append(self.headers.get("Authorization", ""))
        body = json.dumps([{"name": "archiver.tasks", "messages": 3}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_flower_logs_in_to_the_management_api_with_the_broker_credentials():
    password = "p@ss/w:rd?#%"
    settings = load_settings(
        {"ARCHIVER_BROKER_URL": "rabbit", "ARCHIVER_BROKER_PASSWORD": password},
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ManagementAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api = f"http://127.0.0.1:{server.server_port}/api/"
        env = dict(os.environ, BROKER=settings.broker, API=api)
        done = subprocess.run(
            [sys.executable, "-c", QUEUES], env=env, cwd="/", capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        queues = json.loads(done.stdout)
    finally:
        server.shutdown()
    assert queues == [{"name": "archiver.tasks", "messages": 3}]
    [header] = ManagementAPI.seen
    assert base64.b64decode(header.removeprefix("Basic ")).decode() == f"guest:{password}"


def test_the_compose_files_give_flower_a_broker_api_without_credentials():
    for name in ("docker-compose.yml", "docker-compose.scicatlive.yml"):
        flower = yaml.safe_load((ROOT / name).read_text())["services"]["flower"]
        api = flower["environment"]["FLOWER_BROKER_API"]
        assert api.startswith("http://") and "@" not in api and "$" not in api, (name, api)
