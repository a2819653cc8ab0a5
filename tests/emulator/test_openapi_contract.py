"""Contract test: the ``next`` flavour against the backend's OpenAPI document.

Checks that every route the emulator serves exists there, that the request-body keys it
accepts (and requires) are the DTO properties, and that its answers validate against the
response schemas. Deliberate differences are listed here and in
``archiver.emulator.validation.DOCUMENTED_DIFFERENCES``; anything else failing is drift.
The OpenAPI document is ``tests/emulator/data/scicat-openapi.json`` (SciCat's public API
description, trimmed to what these tests read by ``tests/emulator/data/trim_openapi.py``,
whose docstring says how to refresh it), or ``$ARCHIVER_OPENAPI_FILE`` (e.g. a full,
untrimmed document); the test fails when it is missing.
"""

import copy
import json
import os
import re
from pathlib import Path

import jsonschema
import pytest
import requests

from archiver.emulator import ROUTES
from archiver.emulator import validation as v

from .helpers import ADMIN, FILES, block_body, quote, raw_dataset

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "scicat-openapi.json"


@pytest.fixture(scope="module")
def openapi():
    path = Path(os.environ.get("ARCHIVER_OPENAPI_FILE") or DEFAULT_FILE)
    if not path.is_file():
        pytest.fail(f"OpenAPI file {path} is missing (set ARCHIVER_OPENAPI_FILE)")
    return json.loads(path.read_text(encoding="utf-8"))


def _template(path):
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_every_route_of_the_next_flavour_exists_in_the_openapi(openapi):
    known = {(m.upper(), _template(p)) for p, ops in openapi["paths"].items() for m in ops}
    missing = [(m, p) for m, p in ROUTES if (m, _template(p)) not in known]
    assert not missing, f"routes not in the OpenAPI: {missing}"


# (endpoint, schema, emulator keys, emulator required keys, keys the emulator adds/drops)
BODIES = [
    (("post", "/api/v3/datasets"), "CreateRawDatasetObsoleteDto",
     v.DATASET_CREATE_KEYS["raw"], v.DATASET_REQUIRED["raw"], {"required": {"datasetName"}}),
    (("post", "/api/v3/datasets"), "CreateDerivedDatasetObsoleteDto",
     v.DATASET_CREATE_KEYS["derived"], v.DATASET_REQUIRED["derived"],
     {"required": {"datasetName"}}),
    (("patch", "/api/v3/datasets/{pid}"), "PartialUpdateRawDatasetObsoleteDto",
     v.DATASET_PATCH_KEYS, frozenset(), {}),
    (("patch", "/api/v3/datasets/{pid}/datasetlifecycle"), "PartialUpdateDatasetLifecycleDto",
     v.LIFECYCLE_KEYS, frozenset(), {}),
    (("post", "/api/v3/datasets/{pid}/origdatablocks"), "CreateDatasetOrigDatablockDto",
     v.ORIG_SUBROUTE_KEYS, v.ORIG_REQUIRED, {}),
    (("post", "/api/v3/origdatablocks"), "CreateOrigDatablockDto",
     v.ORIG_KEYS, v.ORIG_REQUIRED | {"datasetId"}, {}),
    (("post", "/api/v3/datasets/{pid}/datablocks"), "CreateDatasetDatablockDto",
     v.BLOCK_SUBROUTE_KEYS, v.BLOCK_REQUIRED, {}),
    (("post", "/api/v3/datablocks"), "CreateDatablockDto",
     v.BLOCK_KEYS, v.BLOCK_REQUIRED | {"datasetId"}, {}),
    (None, "DataFile", v.DATAFILE_KEYS, v.DATAFILE_REQUIRED, {"extra": {"metadata"}}),
    (("post", "/api/v4/jobs"), "CreateJobDto",
     v.JOB_V4_CREATE_KEYS, frozenset({"type", "jobParams"}), {}),
    (("patch", "/api/v4/jobs/{id}"), "UpdateJobDto",
     v.JOB_V4_UPDATE_KEYS, frozenset({"statusCode", "statusMessage"}), {}),
    (("post", "/api/v3/jobs"), "CreateJobDtoV3",
     v.JOB_V3_CREATE_KEYS, frozenset({"type", "datasetList"}), {}),
    (("patch", "/api/v3/jobs/{id}"), "UpdateJobDtoV3", v.JOB_V3_UPDATE_KEYS, frozenset(), {}),
    (("post", "/api/v3/datasets/{pid}/attachments"), "CreateAttachmentV3Dto",
     v.ATTACHMENT_KEYS, v.ATTACHMENT_REQUIRED, {}),
]  # fmt: skip


def _request_refs(openapi, method, path):
    content = openapi["paths"][path][method]["requestBody"]["content"]["application/json"]
    schema = content["schema"]
    refs = [s["$ref"] for s in schema.get("anyOf", [schema]) if "$ref" in s]
    return {r.rsplit("/", 1)[1] for r in refs}


@pytest.mark.parametrize("endpoint,name,keys,required,known", BODIES, ids=[b[1] for b in BODIES])
def test_accepted_request_keys_are_the_openapi_properties(
    openapi, endpoint, name, keys, required, known
):
    schema = openapi["components"]["schemas"][name]
    if endpoint is not None:
        assert name in _request_refs(openapi, *endpoint), f"{endpoint} no longer takes {name}"
    assert set(keys) - known.get("extra", set()) == set(schema["properties"])
    assert set(required) == set(schema.get("required", [])) - known.get("required", set())


def test_documented_differences_are_explained():
    assert set(v.DOCUMENTED_DIFFERENCES) == {"dataset.datasetName", "datafile.metadata"}


# -- responses ---------------------------------------------------------------------------------
def _nullable(node):
    if isinstance(node, dict):
        node = {k: _nullable(x) for k, x in node.items()}
        if node.pop("nullable", False) and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_nullable(x) for x in node]
    return node


# Keys the emulator returns beyond a schema's properties (the backend does the same).
EXTRA_RESPONSE_KEYS = {
    "JobClass": {"_id", "__v"},
    "PartialOutputJobDto": {"_id", "__v", "accessGroups", "isPublished"},
    "Datablock": {"id"},
    "OrigDatablock": {"id"},
    "Attachment": {"_id", "datasetId"},
}


def _check(openapi, doc, schema, name=None):
    components = _nullable(openapi["components"])
    if name is not None:
        schema = copy.deepcopy(components["schemas"][name])
        if name == "PartialOutputJobDto":  # datasets/datasetDetails only with filter.include
            schema["required"] = [r for r in schema["required"] if not r.startswith("dataset")]
        extra = set(doc) - set(schema["properties"]) - EXTRA_RESPONSE_KEYS.get(name, set())
        assert not extra, f"{name}: keys unknown to the OpenAPI: {sorted(extra)}"
    root = {"allOf": [_nullable(schema)], "components": components}
    jsonschema.Draft7Validator(root).validate(doc)


def _response_schema(openapi, method, path, status):
    content = openapi["paths"][path][method]["responses"][status]["content"]
    schema = content["application/json"]["schema"]
    ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
    return schema, ref and ref.rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def answers():
    from archiver.emulator import Emulator

    with Emulator(flavour="next") as emu:
        http = requests.Session()
        api = emu.url + "/api/v3"
        login = http.post(f"{api}/auth/login", json=ADMIN)
        http.headers["Authorization"] = "Bearer " + login.json()["access_token"]
        pid = http.post(f"{api}/datasets", json=raw_dataset()).json()["pid"]
        ds = f"{api}/datasets/{quote(pid)}"
        http.post(f"{ds}/origdatablocks", json={"size": 10, "dataFileList": FILES})
        block = http.post(f"{ds}/datablocks", json=block_body())
        body = {"type": "archive", "jobParams": {"datasetList": [{"pid": pid, "files": []}]},
                "contactEmail": "admin@example.org"}  # fmt: skip
        job = http.post(emu.url + "/api/v4/jobs", json=body).json()
        update = {"statusCode": "inProgress", "statusMessage": "x", "jobResultObject": {"a": 1}}
        attachment = {"caption": "c", "thumbnail": "t", "ownerGroup": "g"}
        yield {
            ("post", "/api/v3/auth/login", "201"): login.json(),
            ("get", "/api/v3/health", "200"): http.get(f"{api}/health").json(),
            ("get", "/api/v3/datasets/{pid}", "200"): http.get(ds).json(),
            ("patch", "/api/v3/datasets/{pid}", "200"): http.patch(ds, json={}).json(),
            ("get", "/api/v3/datasets/{pid}/datasetlifecycle", "200"): http.get(
                f"{ds}/datasetlifecycle"
            ).json(),
            ("patch", "/api/v3/datasets/{pid}/datasetlifecycle", "200"): http.patch(
                f"{ds}/datasetlifecycle", json={"archivable": False}
            ).json(),
            ("post", "/api/v3/datasets/{pid}/datablocks", "201"): block.json(),
            ("get", "/api/v3/datasets/{pid}/datablocks", "200"): http.get(
                f"{ds}/datablocks"
            ).json(),
            ("get", "/api/v3/datasets/{pid}/origdatablocks", "200"): http.get(
                f"{ds}/origdatablocks"
            ).json(),
            ("post", "/api/v3/datasets/{pid}/attachments", "201"): http.post(
                f"{ds}/attachments", json=attachment
            ).json(),
            ("post", "/api/v4/jobs", "201"): job,
            ("get", "/api/v4/jobs/{id}", "200"): http.get(
                f"{emu.url}/api/v4/jobs/{job['id']}"
            ).json(),
            ("patch", "/api/v4/jobs/{id}", "200"): http.patch(
                f"{emu.url}/api/v4/jobs/{job['id']}", json=update
            ).json(),
            ("get", "/api/v3/jobs/{id}", "200"): http.get(f"{api}/jobs/{job['id']}").json(),
            ("get", "/api/v4/jobs", "200"): http.get(f"{emu.url}/api/v4/jobs").json(),
        }


RESPONSES = [
    ("post", "/api/v3/auth/login", "201"),
    ("get", "/api/v3/health", "200"),
    ("get", "/api/v3/datasets/{pid}", "200"),
    ("patch", "/api/v3/datasets/{pid}", "200"),
    ("get", "/api/v3/datasets/{pid}/datasetlifecycle", "200"),
    ("patch", "/api/v3/datasets/{pid}/datasetlifecycle", "200"),
    ("post", "/api/v3/datasets/{pid}/datablocks", "201"),
    ("get", "/api/v3/datasets/{pid}/datablocks", "200"),
    ("get", "/api/v3/datasets/{pid}/origdatablocks", "200"),
    ("post", "/api/v3/datasets/{pid}/attachments", "201"),
    ("post", "/api/v4/jobs", "201"),
    ("get", "/api/v4/jobs/{id}", "200"),
    ("patch", "/api/v4/jobs/{id}", "200"),
    ("get", "/api/v3/jobs/{id}", "200"),
]


@pytest.mark.parametrize("key", RESPONSES, ids=[f"{m} {p}" for m, p, _ in RESPONSES])
def test_answers_validate_against_the_openapi_response_schema(openapi, answers, key):
    schema, name = _response_schema(openapi, *key)
    doc = answers[key]
    for item in doc if isinstance(doc, list) else [doc]:
        if name is None:
            _check(openapi, item, schema)
        else:
            _check(openapi, item, None, name)
    assert doc, "the emulator answered nothing to validate"


def test_the_schema_check_catches_a_wrong_answer(openapi):
    bad = {"_id": "x", "datasetId": "p", "archiveId": 5, "size": 1, "packedSize": 1}
    with pytest.raises(jsonschema.ValidationError):
        _check(openapi, bad, None, "Datablock")
    with pytest.raises(AssertionError):
        _check(openapi, {"colour": "red"}, None, "UpdateDatasetLifecycleDto")
