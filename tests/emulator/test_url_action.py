"""The emulator's url job action, like backend-next's: templated URL and headers (``{{ }}``
HTML-escaped, ``{{{ }}}`` not), the job document as body, and the job request failing with
the endpoint's status (or 400 when nothing answers) while the job stays stored."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from archiver.cli.emulator import _url_action
from archiver.emulator import Emulator, UrlAction
from archiver.emulator.url_action import job_v3, render
from archiver.errors import SciCatError
from archiver.scicat import DatasetRef, connect
from archiver.settings import Settings

ARCHIVER = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "archiver"


class Endpoint(ThreadingHTTPServer):
    """Records each request; answers ``status`` with ``text``."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.status, self.text = 200, "ok"
        super().__init__(("127.0.0.1", 0), Recorder)


class Recorder(BaseHTTPRequestHandler):
    server: Endpoint

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        data = self.server.text.encode()
        self.send_response(self.server.status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = Endpoint()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def start(emulator_factory, url: str, **action: Any) -> tuple[Emulator, str]:
    emu = emulator_factory(flavour="next", url_action=UrlAction(url, **action))
    pid = emu.add_dataset(datasetName="d")
    emu.add_origdatablock(pid, files=[{"path": "a", "size": 1}])
    return emu, pid


def create(emu: Emulator, pid: str) -> str:
    settings = Settings(scicat_url=emu.url, scicat_user="admin", scicat_password="2jf70TPNZsS")
    with connect(settings) as client:
        return client.create_job("archive", [DatasetRef(pid)]).id


def test_each_created_job_is_posted_with_rendered_url_and_headers(
    emulator_factory, endpoint, monkeypatch
):
    monkeypatch.setenv("URL_ACTION_SECRET", "YTpi=")
    port = endpoint.server_address[1]
    emu, pid = start(
        emulator_factory,
        f"http://127.0.0.1:{port}/jobs?id={{{{ job.id }}}}",
        headers={
            "Authorization": "Basic {{{ env.URL_ACTION_SECRET }}}",
            "X-Escaped": "{{ env.URL_ACTION_SECRET }}",
        },  # fmt: skip
    )
    job_id = create(emu, pid)
    [seen] = endpoint.seen
    assert seen["path"] == f"/jobs?id={job_id}"
    assert seen["headers"]["Authorization"] == "Basic YTpi="
    assert seen["headers"]["X-Escaped"] == "YTpi&#x3D;"
    assert seen["headers"]["Content-Type"] == "text/plain;charset=UTF-8"
    document = json.loads(seen["body"])
    assert document == emu.job(job_id) and document["statusCode"] == "jobSubmitted"
    assert seen["body"].startswith(b'{\n   "')  # jsonify pretty-prints with 3 spaces


def test_an_error_answer_fails_the_job_request_with_its_status_and_keeps_the_job(
    emulator_factory, endpoint
):
    endpoint.status, endpoint.text = 503, "broker down"
    emu, pid = start(emulator_factory, f"http://127.0.0.1:{endpoint.server_address[1]}/jobs")
    with pytest.raises(SciCatError) as failed:
        create(emu, pid)
    assert failed.value.status == 503 and "Got response: broker down" in str(failed.value)
    assert emu.jobs() and all(j["statusCode"] == "jobSubmitted" for j in emu.jobs())


def test_nothing_listening_fails_the_job_request_with_400(emulator_factory, endpoint):
    port = endpoint.server_address[1]
    endpoint.shutdown()
    endpoint.server_close()
    emu, pid = start(emulator_factory, f"http://127.0.0.1:{port}/jobs")
    with pytest.raises(SciCatError) as failed:
        create(emu, pid)
    assert failed.value.status == 400
    assert "unable to perform action 'url'" in str(failed.value)


def test_updates_are_posted_only_when_configured(emulator_factory, endpoint):
    emu, pid = start(
        emulator_factory, f"http://127.0.0.1:{endpoint.server_address[1]}/", on=("update",)
    )
    job_id = create(emu, pid)
    assert endpoint.seen == []
    settings = Settings(scicat_url=emu.url, scicat_user="admin", scicat_password="2jf70TPNZsS")
    with connect(settings) as client:
        client.update_job(job_id, "inProgress", "working")
    [seen] = endpoint.seen
    assert json.loads(seen["body"])["statusCode"] == "inProgress"


def test_the_v3_body_is_what_the_job_v3_helper_makes():
    doc = {"id": "j", "type": "archive", "statusCode": "jobSubmitted", "createdBy": "alice",
           "contactEmail": "a@x.org", "createdAt": "t",
           "jobParams": {"datasetList": [{"pid": "p", "files": []}]}}  # fmt: skip
    assert job_v3(doc) == {
        "id": "j",
        "emailJobInitiator": "a@x.org",
        "type": "archive",
        "creationTime": "t",
        "jobParams": {"datasetList": [{"pid": "p", "files": []}], "username": "alice"},
        "jobStatusMessage": "jobSubmitted",
        "datasetList": [{"pid": "p", "files": []}],
    }
    assert render("{{job.type}}/{{ env.NO_SUCH_VARIABLE_X }}", doc) == "archive/"


def test_only_the_next_flavour_has_job_actions_and_the_cli_says_so():
    with pytest.raises(ValueError, match="only the next flavour"):
        Emulator(flavour="loopback", url_action=UrlAction("http://127.0.0.1:1/"))
    with pytest.raises(ValueError, match="'on' may only contain"):
        UrlAction("http://127.0.0.1:1/", on=("delete",))
    out = subprocess.run(
        [str(ARCHIVER), "emulator", "--amqp-url", "none", "--flavour", "loopback",
         "--url-action", "http://127.0.0.1:1/jobs"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert out.returncode == 2 and "only the next flavour" in out.stderr
    assert "Traceback" not in out.stderr
    action = _url_action(
        {"url_action": "http://h/jobs", "url_action_on": "create,update",
         "url_action_auth_env": "SERVE_BASIC"}
    )  # fmt: skip
    assert action.on == ("create", "update")
    assert action.headers["Authorization"] == "Basic {{{ env.SERVE_BASIC }}}"
