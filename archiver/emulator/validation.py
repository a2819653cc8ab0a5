"""Which keys each request body may carry, and the checks the backend applies to them.

The key lists are copied by hand from the backend's OpenAPI (``tests/emulator/
test_openapi_contract.py`` fails when they drift apart). Deliberate differences are listed
in :data:`DOCUMENTED_DIFFERENCES`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    """Unknown lifecycle keys and wrongly typed flags give 400."""
    reject_unknown(changes, LIFECYCLE_KEYS)
    for key, kind in _LIFECYCLE_TYPES.items():
        if key in changes and not isinstance(changes[key], kind):
            raise ApiError(400, [f"{key} has the wrong type"])
