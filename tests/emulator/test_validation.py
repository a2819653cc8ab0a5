"""class-validator-style checks of request bodies, answered like v5.2.1 (observed there).

Job and lifecycle bodies: NestJS's ``{"statusCode": 400, "message": [...], "error": ...}``.
Dataset bodies (the controller validates its "obsolete" DTOs itself): ``{"status": 400,
"message": "<the class-validator errors as a JSON string>"}``.
"""

import json

import pytest

from archiver.emulator import validation as v

from .helpers import FILES, quote, raw_dataset


def _error(answer):
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["error"] == "Bad Request" and isinstance(body["message"], list)
    return body["message"]


def _dataset_error(answer):
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert set(body) == {"status", "message"} and body["status"] == 400
    errors = json.loads(body["message"])
    return [m for e in errors for m in e["constraints"].values()], errors


def test_owner_email_must_be_one_address(nxt):
    messages, errors = _dataset_error(
        nxt.post("/datasets", raw_dataset(ownerEmail="a@x.org;b@x.org"))
    )
    assert messages == ["ownerEmail must be an email"]
    assert errors == [
        {"property": "ownerEmail", "children": [],
         "constraints": {"isEmail": "ownerEmail must be an email"}}
    ]  # fmt: skip
    assert nxt.post("/datasets", raw_dataset(ownerEmail="a@x.org")).status_code == 201


def test_contact_email_may_be_one_address_or_a_semicolon_list_as_in_v5_2_1(nxt):
    assert nxt.post("/datasets", raw_dataset(contactEmail="a@x.org; b@x.org")).status_code == 201
    messages, _ = _dataset_error(nxt.post("/datasets", raw_dataset(contactEmail="alice")))
    assert messages == ["Expected an email or a list of semicolon separated emails, got alice"]


def test_every_wrong_field_is_reported_at_once_in_the_dtos_order(nxt):
    body = raw_dataset(creationTime="yesterday", ownerEmail="x", size=1.5, keywords=["a", 1])
    messages, _ = _dataset_error(nxt.post("/datasets", {**body, "colour": 1}))
    assert messages == [  # as v5.2.1 answered the same body
        "property colour should not exist",
        "ownerEmail must be an email",
        "size must be an integer number",
        "creationTime must be a valid ISO 8601 date string",
        "each value in keywords must be a string",
    ]


def test_a_missing_required_field_fails_its_type_check(nxt):
    body = raw_dataset()
    del body["owner"]
    assert _dataset_error(nxt.post("/datasets", body))[0] == ["owner must be a string"]


def test_a_patch_is_validated_too_and_changes_nothing_when_refused(nxt):
    pid = nxt.emu.add_dataset()
    answer = nxt.patch(f"/datasets/{quote(pid)}", {"ownerEmail": "a@x.org,b@x.org"})
    assert _dataset_error(answer)[0] == ["ownerEmail must be an email"]
    assert "ownerEmail" not in nxt.emu.dataset(pid)
    answer = nxt.patch(f"/datasets/{quote(pid)}", {"isPublished": "yes"})
    assert _dataset_error(answer)[0] == ["isPublished must be a boolean value"]


def test_the_dataset_type_is_an_enum(nxt):
    messages, _ = _dataset_error(nxt.post("/datasets", raw_dataset(type="measured")))
    assert messages == ["type must be one of the following values: raw, derived"]


def test_lifecycle_dates_and_strings_are_checked_on_the_merge_route(nxt):
    pid = nxt.emu.add_dataset()
    url = f"/datasets/{quote(pid)}/datasetlifecycle"
    message = _error(nxt.patch(url, {"dateOfDiskPurging": "soon", "archiveStatusMessage": 5}))
    assert sorted(message) == [
        "archiveStatusMessage must be a string",
        "dateOfDiskPurging must be a valid ISO 8601 date string",
    ]
    assert nxt.patch(url, {"dateOfDiskPurging": "2030-01-01T00:00:00Z"}).status_code == 200


def test_job_e_mails_are_checked_but_not_the_v3_execution_time(nxt):
    pid = nxt.emu.add_dataset()
    nxt.emu.add_origdatablock(pid, files=FILES)
    v4 = {"type": "archive", "jobParams": {"datasetList": [{"pid": pid, "files": []}]}}
    message = _error(nxt.post("/api/v4/jobs", {**v4, "contactEmail": "a@x.org;b@x.org"}))
    assert message == ["contactEmail must be an email"]
    v3 = {"type": "archive", "datasetList": [{"pid": pid, "files": []}]}
    # the shim maps the body onto the v4 DTO before validating it (observed on v5.2.1)
    assert _error(nxt.post("/jobs", {**v3, "emailJobInitiator": "ops"})) == [
        "contactEmail must be an email"
    ]
    assert nxt.emu.jobs() == []
    assert nxt.post("/jobs", {**v3, "executionTime": "later"}).status_code == 201


@pytest.mark.parametrize(
    "value,ok",
    [("a@x.org", True), ("first.last+tag@sub.example.org", True), ("a@b.c", False),
     ("a@x.org;b@x.org", False), ("a@x.org, b@x.org", False), ("Alice <a@x.org>", False),
     ("a..b@x.org", False), ("@x.org", False), ("a@", False), (5, False)],
)  # fmt: skip
def test_is_email_accepts_one_plain_address_only(value, ok):
    assert v.is_email(value) is ok


@pytest.mark.parametrize(
    "value,ok",
    [("2024-01-01", True), ("2024-01-01T10:00:00Z", True), ("2024-01-01T10:00:00.123+02:00", True),
     ("2024-13-01", False), ("2024-01-32", False), ("yesterday", False), ("", False), (0, False)],
)  # fmt: skip
def test_is_date_string_follows_iso_8601(value, ok):
    assert v.is_date_string(value) is ok
