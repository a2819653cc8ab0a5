"""Faults, latency, the request log, the Python API and the ``/emulator/`` admin API."""

import json
import time
import urllib.parse

import pytest
import requests

from .helpers import FILES


def test_an_injected_fault_answers_its_status_for_count_requests(nxt):
    nxt.emu.inject_fault(r"/datasets$", status=503, count=2)
    assert [nxt.get("/datasets").status_code for _ in range(3)] == [503, 503, 200]


def test_a_fault_can_be_limited_to_one_method_and_cleared(nxt):
    nxt.emu.inject_fault("/datasets", status=500, count=5, method="POST")
    assert nxt.get("/datasets").status_code == 200
    assert nxt.post("/datasets", {}).status_code == 500
    nxt.emu.clear_faults()
    assert nxt.post("/datasets", {}).status_code == 400


def test_a_fault_without_status_only_delays_the_answer(nxt):
    nxt.emu.inject_fault("/datasets", status=None, delay_s=0.3)
    start = time.monotonic()
    assert nxt.get("/datasets").status_code == 200
    assert time.monotonic() - start >= 0.3
    start = time.monotonic()
    nxt.get("/datasets")
    assert time.monotonic() - start < 0.3


def test_a_hanging_backend_makes_the_client_time_out(nxt):
    nxt.emu.inject_fault("/datasets", status=None, delay_s=1.0)
    try:
        nxt.get("/datasets", timeout=0.2)
    except requests.exceptions.ReadTimeout:
        pass
    else:
        raise AssertionError("expected a timeout")


def test_latency_is_added_to_api_routes_but_not_to_admin_routes(client_factory):
    client = client_factory("next", latency_ms=200)
    start = time.monotonic()
    client.get("/datasets")
    assert time.monotonic() - start >= 0.2
    start = time.monotonic()
    requests.get(client.emu.url + "/emulator/state")
    assert time.monotonic() - start < 0.2


def test_the_request_log_records_method_path_and_status(nxt):
    nxt.get("/datasets")
    nxt.get("/api/v4/jobs/nope")
    log = nxt.emu.request_log
    assert log[-2:] == [("GET", "/api/v3/datasets", 200), ("GET", "/api/v4/jobs/nope", 400)]
    assert log[0] == ("POST", "/api/v3/auth/login", 201)


def test_seeded_objects_are_visible_through_the_python_api(emulator_factory):
    emu = emulator_factory()
    pid = emu.add_dataset(ownerGroup="g", pid="my/pid")
    assert pid == "my/pid" and emu.dataset(pid)["datasetlifecycle"]["archivable"] is True
    oid = emu.add_origdatablock(pid, files=FILES + [{**FILES[0], "path": "b", "size": 5}])
    assert emu.origdatablocks(pid)[0]["_id"] == oid
    assert emu.dataset(pid)["size"] == 15 and emu.dataset(pid)["numberOfFiles"] == 2
    job_id = emu.add_job("retrieve", [pid], status="inProgress", params={"option": "x"})
    job = emu.job(job_id)
    assert job["type"] == "retrieve" and job["statusCode"] == "inProgress"
    assert job["jobParams"] == {"option": "x", "datasetList": [{"pid": pid, "files": []}]}
    assert [j["id"] for j in emu.jobs()] == [job_id] and emu.datablocks(pid) == []
    assert emu.published == 0


def test_the_emulator_is_a_context_manager(emulator_factory):
    from archiver.emulator import Emulator

    with Emulator(flavour="next") as emu:
        url = emu.url
        assert requests.get(url + "/api/v3/health").status_code == 200
    try:
        requests.get(url + "/api/v3/health", timeout=1)
    except requests.exceptions.ConnectionError:
        pass
    else:
        raise AssertionError("the stopped emulator still answers")


def test_the_admin_api_seeds_state_and_reports_it(nxt):
    admin = nxt.emu.url + "/emulator"
    pid = requests.post(f"{admin}/datasets", json={"ownerGroup": "g"}).json()["pid"]
    quoted = urllib.parse.quote(pid, safe="")
    answer = requests.post(f"{admin}/datasets/{quoted}/origdatablocks", json={"files": FILES})
    assert answer.status_code == 201
    job = requests.post(f"{admin}/jobs", json={"type": "archive", "pids": [pid]}).json()
    state = requests.get(f"{admin}/state").json()
    assert [d["pid"] for d in state["datasets"]] == [pid]
    assert len(state["origdatablocks"]) == 1 and state["datablocks"] == []
    assert [j["id"] for j in state["jobs"]] == [job["id"]]


def test_the_admin_api_arms_and_clears_faults_and_expires_tokens(nxt):
    admin = nxt.emu.url + "/emulator"
    body = {"path": "/datasets", "status": 502, "count": 1, "method": "GET", "delay_s": 0}
    assert requests.post(f"{admin}/faults", json=body).status_code == 201
    assert nxt.get("/datasets").status_code == 502
    requests.post(f"{admin}/faults", json={**body, "count": 3})
    assert len(requests.get(f"{admin}/faults").json()["faults"]) == 1
    requests.delete(f"{admin}/faults")
    assert nxt.get("/datasets").status_code == 200
    requests.post(f"{admin}/expire-tokens")
    assert nxt.get("/datasets").status_code == 401
    log = requests.get(f"{admin}/requests").json()
    assert log["counts"]["GET /api/v3/datasets"] == 3
    assert log["requests"][-1] == ["GET", "/api/v3/datasets", 401]


def test_many_parallel_requests_are_served_correctly(nxt):
    from concurrent.futures import ThreadPoolExecutor

    pids = [nxt.emu.add_dataset() for _ in range(50)]
    token = nxt.token

    def create(pid):
        body = {"type": "archive", "jobParams": {"datasetList": [{"pid": pid, "files": []}]},
                "contactEmail": "admin@example.org"}  # fmt: skip
        headers = {"Authorization": f"Bearer {token}"}
        return requests.post(nxt.emu.url + "/api/v4/jobs", json=body, headers=headers).status_code

    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(create, pids * 4)) == {201}
    assert len(nxt.emu.jobs()) == 200


# -- bodies sent without a JSON content type (``curl -d``) ------------------------------------
FORM = {"Content-Type": "application/x-www-form-urlencoded"}  # what ``curl -d`` sends


def test_a_json_body_sent_as_a_form_is_read_as_json(nxt):
    admin = nxt.emu.url + "/emulator"
    pid = nxt.emu.add_dataset()
    body = json.dumps({"type": "retrieve", "pids": [pid], "status": "inProgress"})
    answer = requests.post(f"{admin}/jobs", data=body, headers=FORM)
    assert answer.status_code == 201, answer.text
    job = nxt.emu.job(answer.json()["id"])
    assert job["type"] == "retrieve" and job["statusCode"] == "inProgress"
    assert job["jobParams"]["datasetList"] == [{"pid": pid, "files": []}]
    # README's example, byte for byte what curl -d sends
    readme = '{"path": "/datablocks", "status": 503, "count": 5}'
    assert requests.post(f"{admin}/faults", data=readme, headers=FORM).status_code == 201
    assert requests.get(f"{admin}/faults").json()["faults"][0]["count"] == 5


def test_a_body_that_is_not_a_json_object_answers_400_and_creates_nothing(nxt):
    admin = nxt.emu.url + "/emulator"
    pid = nxt.emu.add_dataset()
    for data in (f"type=archive&pids={pid}", "[1, 2]"):
        answer = requests.post(f"{admin}/jobs", data=data, headers=FORM)
        assert answer.status_code == 400
        message = answer.json()["message"]
        assert "JSON object" in message and "\n" not in message
    answer = requests.post(f"{admin}/jobs", data="type=archive", headers=FORM)
    assert "Content-Type: application/json" in answer.json()["message"]
    assert nxt.emu.jobs() == []


@pytest.mark.parametrize(
    "body,words",
    [({"type": "archive"}, "pids"), ({"type": "archive", "pids": []}, "pids"),
     ({"type": "archive", "pids": ["PID.SAMPLE.PREFIX/none"]}, "no dataset"),
     ({"type": "teleport", "pids": ["x"]}, "type"),
     ({"type": "archive", "pid": ["x"]}, "unknown key")],
)  # fmt: skip
def test_a_seeded_job_is_exactly_what_was_asked_or_nothing(nxt, body, words):
    answer = requests.post(nxt.emu.url + "/emulator/jobs", json=body)
    assert answer.status_code == 400 and words in answer.json()["message"]
    assert nxt.emu.jobs() == []


def test_fault_bodies_are_checked(nxt):
    admin = nxt.emu.url + "/emulator"
    assert requests.post(f"{admin}/faults", json={"path": "/x", "count": "many"}).status_code == 400
    assert requests.post(f"{admin}/faults", json={"path": "/x", "stauts": 500}).status_code == 400
    assert requests.get(f"{admin}/faults").json()["faults"] == []
