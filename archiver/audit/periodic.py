"""The periodic fixity audit: what ``celery -A archiver beat`` runs every
``ARCHIVER_AUDIT_INTERVAL`` seconds (task ``archiver.audit.periodic``).

The same :class:`~archiver.audit.run.Audit` as ``archiver audit``, read-only (it never
records on the datasets), over every archived dataset, re-hashing an
``ARCHIVER_AUDIT_SAMPLE`` fraction of the DataBlocks; the sample's seed is the run's start
time, so successive runs re-hash different DataBlocks. Each finding is logged as an error
line; a run with findings ends with :class:`AuditFindings`, so the task shows as failed
(in Flower, in the worker log) with the counts.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from archiver.audit.readers import readers_for
from archiver.audit.run import Audit, Selection, kinds
from archiver.errors import AuditFindings
from archiver.scicat.base import SciCatClient
from archiver.storage.base import Storage

logger = logging.getLogger("archiver.audit")


def run_periodic(
    client: SciCatClient, storage: Storage, sample: float, now: datetime | None = None
) -> dict[str, Any]:
    """Audit every archived dataset; the summary, or :class:`AuditFindings` on findings."""
    seed = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    selection = Selection(sample=sample, seed=seed)
    result = Audit(client, readers_for(storage), selection, logger.debug).run()
    summary = result.summary()
    for note in result.notes:
        logger.warning("periodic audit: %s", note)
    for finding in result.findings:
        logger.error(
            "periodic audit: %s %s %s: %s",
            finding.kind,
            finding.pid,
            finding.archive_id,
            finding.detail,
        )
    logger.info("periodic audit (sample %s, seed %s): %s", sample, seed, summary)
    if result.findings:
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds(result.findings).items()))
        raise AuditFindings(
            f"the fixity audit found {counts} (see the log lines above; "
            "`archiver audit` shows them again)"
        )
    return summary
