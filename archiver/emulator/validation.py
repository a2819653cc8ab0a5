"""Which keys each request body may carry, and the checks the backend applies to them.

The key lists are copied by hand from the backend's OpenAPI (``tests/emulator/
test_openapi_contract.py`` fails when they drift apart). Deliberate differences are listed
in :data:`DOCUMENTED_DIFFERENCES`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from archiver.emulator.protocol import ApiError

_OWNABLE = frozenset({"ownerGroup", "accessGroups", "instrumentGroup"})

_DATASET_COMMON = _OWNABLE | {
    "owner", "ownerEmail", "orcidOfOwner", "contactEmail", "sourceFolder", "sourceFolderHost",
    "size", "packedSize", "numberOfFiles", "numberOfFilesArchived", "creationTime",
    "validationStatus", "keywords", "description", "datasetName", "classification", "license",
    "isPublished", "techniques", "sharedWith", "relationships", "datasetlifecycle",
    "scientificMetadata", "scientificMetadataSchema", "scientificMetadataValid", "comment",
    "dataQualityMetrics", "proposalId", "runNumber", "investigator", "inputDatasets",
    "usedSoftware", "jobParameters", "jobLogData", "pid", "version", "type",
}  # fmt: skip
_RAW_ONLY = frozenset(
    {"principalInvestigator", "startTime", "endTime", "creationLocation", "dataFormat",
     "sampleId", "instrumentId"}
)  # fmt: skip

#: ``POST /api/v3/datasets`` (CreateRawDatasetObsoleteDto / CreateDerivedDatasetObsoleteDto).
DATASET_CREATE_KEYS = {"raw": _DATASET_COMMON | _RAW_ONLY, "derived": _DATASET_COMMON}
_REQ_COMMON = ("ownerGroup", "owner", "contactEmail", "sourceFolder", "creationTime", "type")
DATASET_REQUIRED = {
    "raw": frozenset(_REQ_COMMON + ("principalInvestigator", "creationLocation")),
    "derived": frozenset(_REQ_COMMON + ("investigator", "inputDatasets", "usedSoftware")),
}
#: ``PATCH /api/v3/datasets/{pid}`` (PartialUpdate*DatasetObsoleteDto): no pid, no version.
DATASET_PATCH_KEYS = (_DATASET_COMMON | _RAW_ONLY) - {"pid", "version", "type"}

LIFECYCLE_KEYS = frozenset(
    {"archivable", "retrievable", "publishable", "dateOfDiskPurging", "archiveRetentionTime",
     "dateOfPublishing", "publishedOn", "isOnCentralDisk", "archiveStatusMessage",
     "retrieveStatusMessage", "archiveReturnMessage", "retrieveReturnMessage", "exportedTo",
     "retrieveIntegrityCheck", "storageLocation"}
)  # fmt: skip
_LIFECYCLE_DATES = ("dateOfDiskPurging", "archiveRetentionTime", "dateOfPublishing", "publishedOn")
_LIFECYCLE_STRINGS = ("archiveStatusMessage", "retrieveStatusMessage")
_LIFECYCLE_TYPES: dict[str, type | tuple[type, ...]] = {
    "archivable": bool, "retrievable": bool, "publishable": bool, "isOnCentralDisk": bool,
    "retrieveIntegrityCheck": bool, "archiveReturnMessage": dict, "retrieveReturnMessage": dict,
}  # fmt: skip

DATAFILE_KEYS = frozenset({"path", "size", "time", "chk", "uid", "gid", "perm", "type", "metadata"})
DATAFILE_REQUIRED = frozenset({"path", "size", "time"})

ORIG_SUBROUTE_KEYS = frozenset({"size", "chkAlg", "dataFileList", "isPublished"})
ORIG_KEYS = ORIG_SUBROUTE_KEYS | _OWNABLE | {"datasetId"}
ORIG_REQUIRED = frozenset({"size", "dataFileList"})

BLOCK_SUBROUTE_KEYS = frozenset(
    {"archiveId", "size", "packedSize", "chkAlg", "version", "dataFileList"}
)
BLOCK_KEYS = BLOCK_SUBROUTE_KEYS | _OWNABLE | {"datasetId"}
BLOCK_REQUIRED = frozenset({"archiveId", "size", "packedSize", "version", "dataFileList"})

JOB_V4_CREATE_KEYS = frozenset({"type", "jobParams", "ownerUser", "ownerGroup", "contactEmail"})
JOB_V4_UPDATE_KEYS = frozenset({"statusCode", "statusMessage", "jobResultObject"})
JOB_V3_CREATE_KEYS = frozenset(
    {"emailJobInitiator", "type", "jobParams", "datasetList", "executionTime",
     "jobStatusMessage", "jobResultObject"}
)  # fmt: skip
JOB_V3_UPDATE_KEYS = frozenset({"jobStatusMessage", "jobResultObject", "executionTime"})
JOB_LEGACY_CREATE_KEYS = JOB_V3_CREATE_KEYS - {"jobStatusMessage"}

ATTACHMENT_KEYS = _OWNABLE | {"id", "datasetId", "proposalId", "sampleId", "thumbnail", "caption"}
ATTACHMENT_REQUIRED = frozenset({"ownerGroup", "caption"})

#: Where the emulator knowingly differs from the OpenAPI document, and why.
DOCUMENTED_DIFFERENCES = {
    "dataset.datasetName": "OpenAPI marks it required; the backend defaults it from "
    "sourceFolder (backend.md section 6), so the emulator does too",
    "datafile.metadata": "accepted by 5.2.x (DATAFILES_METADATA_SCHEMA) but absent from the "
    "OpenAPI DataFile schema",
}


def reject_unknown(body: Mapping[str, Any], allowed: Iterable[str], where: str = "") -> None:
    """400 with the NestJS wording when ``body`` has a key outside ``allowed``."""
    allowed_set = allowed if isinstance(allowed, (set, frozenset)) else set(allowed)
    unknown = [k for k in body if k not in allowed_set]
    if unknown:
        prefix = f"{where}." if where else ""
        raise ApiError(400, [f"property {prefix}{k} should not exist" for k in unknown])


def require(body: Mapping[str, Any], keys: Iterable[str], status: int = 400) -> None:
    """``status`` when a required key is missing."""
    missing = sorted(k for k in keys if k not in body or body[k] is None)
    if missing:
        raise ApiError(status, [f"{k} should not be empty" for k in missing])


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_int(body: Mapping[str, Any], *keys: str) -> None:
    for key in keys:
        if key in body and not is_int(body[key]):
            raise ApiError(400, [f"{key} must be an integer number"])


def check_datafiles(files: Any, strict: bool = True) -> None:
    """A non-empty list of DataFile objects (unknown keys rejected when ``strict``)."""
    if not isinstance(files, list) or not files:
        raise ApiError(400, ["dataFileList should not be empty"])
    for index, entry in enumerate(files):
        where = f"dataFileList.{index}"
        if not isinstance(entry, dict):
            raise ApiError(400, [f"{where} must be an object"])
        if strict:
            reject_unknown(entry, DATAFILE_KEYS, where)
        require(entry, DATAFILE_REQUIRED)
        if not isinstance(entry["path"], str) or not is_number(entry["size"]):
            raise ApiError(400, [f"{where}: path must be a string and size a number"])
        if not isinstance(entry["time"], str):
            raise ApiError(400, [f"{where}.time must be a valid ISO 8601 date string"])


def check_lifecycle(changes: Mapping[str, Any]) -> None:
    """Unknown lifecycle keys, wrongly typed flags and malformed dates give 400."""
    reject_unknown(changes, LIFECYCLE_KEYS)
    errors = field_errors(changes, _LIFECYCLE_CHECKS)
    if errors:
        raise ApiError(400, errors)
    for key, kind in _LIFECYCLE_TYPES.items():
        if key in changes and not isinstance(changes[key], kind):
            raise ApiError(400, [f"{key} has the wrong type"])


# -- class-validator's checks -------------------------------------------------------------------
#: validator.js's ``isISO8601`` pattern (what class-validator's ``@IsDateString()`` uses).
_ISO8601 = re.compile(
    r"^([+-]?\d{4}(?!\d{2}\b))((-?)((0[1-9]|1[0-2])(\3([12]\d|0[1-9]|3[01]))?|W([0-4]\d|5[0-3])"
    r"(-?[1-7])?|(00[1-9]|0[1-9]\d|[12]\d{2}|3([0-5]\d|6[1-6])))([T\s]((([01]\d|2[0-3])"
    r"((:?)[0-5]\d)?|24:?00)([.,]\d+(?!:))?)?(\17[0-5]\d([.,]\d+)?)?([zZ]|([+-])([01]\d|2[0-3])"
    r":?([0-5]\d)?)?)?)?$"
)
_EMAIL = re.compile(
    r"^(?!\.)(?!.*\.\.)[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}(?<!\.)@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


def is_email(value: Any) -> bool:
    """One e-mail address, as class-validator's ``@IsEmail()`` (no lists, no display names)."""
    return isinstance(value, str) and len(value) <= 254 and bool(_EMAIL.match(value))


def is_email_list(value: Any) -> bool:
    """v5.2.1's ``CustomEmailList``: one address or several separated by ``;``."""
    return (
        isinstance(value, str)
        and bool(value)
        and all(is_email(part.strip()) for part in value.split(";"))
    )


def is_date_string(value: Any) -> bool:
    return isinstance(value, str) and bool(_ISO8601.match(value))


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


#: (check, class-validator constraint name, message)
_Check = tuple[Callable[[Any], bool], str, str]
_STRING: _Check = (lambda x: isinstance(x, str), "isString", "{key} must be a string")
_DATE: _Check = (is_date_string, "isDateString", "{key} must be a valid ISO 8601 date string")
_INT: _Check = (is_int, "isInt", "{key} must be an integer number")
_BOOL: _Check = (lambda x: isinstance(x, bool), "isBoolean", "{key} must be a boolean value")
_STRINGS: _Check = (_is_string_list, "isString", "each value in {key} must be a string")
_OBJECT: _Check = (lambda x: isinstance(x, dict), "isObject", "{key} must be an object")
_EMAIL_CHECK: _Check = (is_email, "isEmail", "{key} must be an email")
_EMAIL_LIST: _Check = (
    is_email_list,
    "customEmailList",
    "Expected an email or a list of semicolon separated emails, got {value}",
)

#: Per-key checks of the dataset DTOs of v5.2.1 (``update-dataset-obsolete.dto.ts`` and the
#: raw/derived variants), in the DTOs' property order (the order errors are reported in).
DATASET_FIELD_CHECKS: dict[str, _Check] = {
    "pid": _STRING, "version": _STRING,
    "ownerGroup": _STRING, "accessGroups": _STRINGS, "instrumentGroup": _STRING,
    "owner": _STRING, "ownerEmail": _EMAIL_CHECK, "orcidOfOwner": _STRING,
    "contactEmail": _EMAIL_LIST, "sourceFolder": _STRING,
    "size": _INT, "packedSize": _INT, "numberOfFiles": _INT, "numberOfFilesArchived": _INT,
    "creationTime": _DATE, "validationStatus": _STRING, "keywords": _STRINGS,
    "description": _STRING, "datasetName": _STRING, "classification": _STRING,
    "license": _STRING, "isPublished": _BOOL, "sharedWith": _STRINGS,
    "scientificMetadata": _OBJECT, "scientificMetadataSchema": _STRING,
    "scientificMetadataValid": _BOOL, "comment": _STRING, "proposalId": _STRING,
    "runNumber": _STRING, "principalInvestigator": _STRING, "startTime": _DATE,
    "endTime": _DATE, "creationLocation": _STRING, "dataFormat": _STRING,
    "sampleId": _STRING, "instrumentId": _STRING, "investigator": _STRING,
    "inputDatasets": _STRINGS, "usedSoftware": _STRINGS, "jobParameters": _OBJECT,
}  # fmt: skip

_LIFECYCLE_CHECKS: dict[str, _Check] = {
    **dict.fromkeys(_LIFECYCLE_DATES, _DATE),
    **dict.fromkeys(_LIFECYCLE_STRINGS, _STRING),
    **{k: _BOOL for k, kind in _LIFECYCLE_TYPES.items() if kind is bool},
}


def _failures(
    body: Mapping[str, Any], checks: Mapping[str, _Check], required: Iterable[str] = ()
) -> list[tuple[str, str, str]]:
    """``(property, constraint, message)`` of every failed check, in ``checks`` order; a
    missing required key fails its check with the value ``undefined``."""
    needed = set(required)
    out = []
    for key, (check, constraint, message) in checks.items():
        value = body.get(key)
        if value is None and key not in needed:
            continue
        if value is None or not check(value):
            shown = "undefined" if value is None else value
            out.append((key, constraint, message.format(key=key, value=shown)))
    return out


def field_errors(body: Mapping[str, Any], checks: Mapping[str, _Check]) -> list[str]:
    """Every class-validator message for ``body`` (NestJS reports them all at once)."""
    return [message for _, _, message in _failures(body, checks)]


def check_dataset_body(
    body: Mapping[str, Any], allowed: Iterable[str], required: Iterable[str] = ()
) -> None:
    """The datasets controller validates its "obsolete" DTOs itself and answers
    ``{"status": 400, "message": "<JSON list of class-validator errors>"}`` (observed on
    v5.2.1): unknown keys (``whitelistValidation``) first, then each failed field check.
    ``datasetlifecycle`` is not checked field by field here (backend.md 3.2)."""
    allowed_set = set(allowed)
    errors: list[dict[str, Any]] = [
        {"property": k, "constraints": {"whitelistValidation": f"property {k} should not exist"}}
        for k in body
        if k not in allowed_set
    ]
    errors += [
        {"property": key, "children": [], "constraints": {constraint: message}}
        for key, constraint, message in _failures(body, DATASET_FIELD_CHECKS, required)
    ]
    lifecycle = body.get("datasetlifecycle")
    if lifecycle is not None and not isinstance(lifecycle, Mapping):
        message = "datasetlifecycle must be an object"
        errors.append(
            {"property": "datasetlifecycle", "children": [], "constraints": {"isObject": message}}
        )
    if errors:
        raise dataset_error(errors)


def dataset_error(errors: list[dict[str, Any]]) -> ApiError:
    """The datasets controller's 400: the class-validator errors as a JSON string."""
    messages = [m for e in errors for m in e["constraints"].values()]
    text = json.dumps(errors, separators=(",", ":"))
    return ApiError(400, messages, body={"status": 400, "message": text})


def check_email(body: Mapping[str, Any], key: str) -> None:
    """``@IsEmail() @IsOptional()``: 400 when ``key`` is given and not one address."""
    if body.get(key) is not None and not is_email(body[key]):
        raise ApiError(400, [f"{key} must be an email"])
