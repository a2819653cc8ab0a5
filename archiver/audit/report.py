"""Showing an audit's result: a table, JSON, and (``--record``) a note on each dataset.

**Where the result is recorded.** In the dataset's lifecycle, under
``archiveReturnMessage.fixity``, merged with what is there (the job mark the pipeline
relies on, ``jobId``, is kept). The lifecycle is where the archive system reports on the
archived copy ("details/errors from the archive system", free form), the archiver's
account already has the right to update it (scicatlive's archive manager may update the
lifecycle but not always the whole dataset, so ``scientificMetadata`` could be refused), and
it is not the users' own metadata. A later archive job of the dataset replaces the message,
which is right: that audit described the old copy.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from archiver.audit.run import AuditResult, Finding, kinds
from archiver.scicat.base import SciCatClient

#: Most findings written into one dataset's record.
MAX_RECORDED = 20


def table(result: AuditResult) -> str:
    """The findings as an aligned text table, then a summary line."""
    rows = [("FINDING", "DATASET", "OBJECT", "DETAIL")]
    rows += [(f.kind, f.pid or "-", f.archive_id or "-", f.detail) for f in result.findings]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = []
    if result.findings:
        for row in rows:
            lines.append(
                "  ".join(c.ljust(w) for c, w in zip(row[:3], widths, strict=True)) + "  " + row[3]
            )
    counts = kinds(result.findings)
    found = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no findings"
    lines.append(
        f"{result.datasets} dataset(s), {result.datablocks} DataBlock(s), {result.rehashed} "
        f"re-hashed ({result.files} files, {result.bytes_read} bytes), {result.stored} stored "
        f"tar(s) listed: {found}"
    )
    lines.extend(f"note: {note}" for note in result.notes)
    return "\n".join(lines)


def as_json(result: AuditResult) -> str:
    document = {
        "summary": result.summary(),
        "findings": [f.as_dict() for f in result.findings],
        "notes": result.notes,
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def record(client: SciCatClient, result: AuditResult, now: datetime | None = None) -> int:
    """Write each audited dataset's outcome into its lifecycle; return how many."""
    stamp = (now or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    written = 0
    for pid, entry in result.per_dataset.items():
        findings: list[Finding] = entry["findings"]
        lifecycle = dict(entry["dataset"].get("datasetlifecycle") or {})
        message = lifecycle.get("archiveReturnMessage")
        message = dict(message) if isinstance(message, dict) else {}
        fixity: dict[str, Any] = {
            "checkedAt": stamp,
            "result": "failed" if findings else "ok",
            "datablocks": entry["datablocks"],
            "findings": [f.as_dict() for f in findings[:MAX_RECORDED]],
        }
        message["fixity"] = fixity
        client.update_lifecycle(pid, {"archiveReturnMessage": message})
        written += 1
    return written
