"""Request bodies of an ingest, per SciCat generation.

All generations take the v3 raw-dataset body (``POST /api/v3/Datasets`` on LoopBack,
``POST /api/v3/datasets`` with the "obsolete" DTO on backend-next, which rejects unknown
keys). They differ in the OrigDatablock and attachment bodies: LoopBack's are Ownable and
need ``ownerGroup``/``accessGroups``; backend-next's dataset sub-routes forbid them on
OrigDatablocks. The dataset's ``size`` and ``numberOfFiles`` are left out on purpose: SciCat
adds each OrigDatablock's size and file count to the dataset when the block is created.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from archiver.ingest.scan import FileBlock, FolderTotals
from archiver.ingest.transfer import Attachment, TransferSpec

#: transfer.yaml keys copied into the dataset body unchanged.
COPIED = (
    "accessGroups", "contactEmail", "creationLocation", "datasetName", "description",
    "instrumentGroup", "isPublished", "keywords", "license", "ownerGroup", "sampleId",
    "validationStatus", "instrumentId", "proposalId", "scientificMetadata",
)  # fmt: skip


def _joined(values: list[str | None]) -> str | None:
    text = ";".join(v for v in values if v)
    return text or None


def dataset_body(spec: TransferSpec, found: FolderTotals, generation: str) -> dict[str, Any]:
    """The raw-dataset body for ``spec``'s folder (``generation`` kept for later shapes)."""
    values = spec.values
    body: dict[str, Any] = {"type": "raw"}
    body.update({k: values[k] for k in COPIED if k in values})
    body["owner"] = _joined([o.name for o in spec.owners])
    emails = [o.email for o in spec.owners if o.email]
    orcid = _joined([o.orcid for o in spec.owners])
    if emails:
        body["ownerEmail"] = emails[0]  # SciCat validates one address (class-validator isEmail)
    if orcid:
        body["orcidOfOwner"] = orcid
    body["principalInvestigator"] = ";".join(values["principalInvestigators"])
    body["sourceFolder"] = str(spec.folder)
    body["creationTime"] = found.creation_time
    body.setdefault("scientificMetadata", {})
    if len(spec.owners) > 1:
        # ownerEmail holds one address: every owner, with their e-mails, is kept here.
        body["scientificMetadata"] = {"owners": owner_records(spec), **body["scientificMetadata"]}
    return body


def owner_records(spec: TransferSpec) -> list[dict[str, str]]:
    """The owners of ``transfer.yaml`` as small records (only the keys given)."""
    return [
        {k: v for k, v in (("name", o.name), ("email", o.email), ("orcid", o.orcid)) if v}
        for o in spec.owners
    ]


def _ownable(dataset: Mapping[str, Any]) -> dict[str, Any]:
    owned = {"ownerGroup": dataset["ownerGroup"], "accessGroups": dataset.get("accessGroups", [])}
    if dataset.get("instrumentGroup"):
        owned["instrumentGroup"] = dataset["instrumentGroup"]
    return owned


def origdatablock_body(
    block: FileBlock, algorithm: str, dataset: Mapping[str, Any], generation: str
) -> dict[str, Any]:
    """One OrigDatablock body for the dataset sub-route of ``generation``."""
    body: dict[str, Any] = {"size": block.size, "dataFileList": block.files}
    if algorithm != "none":
        body["chkAlg"] = algorithm
    if generation == "loopback":
        body.update(_ownable(dataset))
    return body


def thumbnail(attachment: Attachment) -> str:
    """The attachment file as a ``data:image/<type>;base64,...`` URI."""
    data = base64.b64encode(attachment.path.read_bytes()).decode("ascii")
    return f"data:image/{attachment.type};base64,{data}"


def attachment_body(attachment: Attachment, dataset: Mapping[str, Any]) -> dict[str, Any]:
    """An attachment body (Ownable in every generation)."""
    return {"caption": attachment.caption, "thumbnail": thumbnail(attachment), **_ownable(dataset)}
