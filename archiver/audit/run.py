"""One fixity audit run: which DataBlocks, what storage holds, what differs.

1. **Catalogue.** The datasets given (``pids``), or every dataset SciCat lists as archived
   (``archiveStatusMessage`` = ``datasetOnArchiveDisk``, up to ``max_datasets``), and their
   DataBlocks. Datasets being archived right now (``started``) are read too: their tars are
   not reported as orphans (their DataBlocks may not be registered yet).
2. **Selection.** DataBlocks created inside the time range (``since``/``until`` on the
   DataBlock's ``createdAt``); of those, a ``sample`` fraction (chosen by a seeded hash of
   the ``archiveId``, so a seed repeats a choice) is re-read and re-hashed; the others are
   only checked for existence and size.
3. **Storage.** Every tar each configured backend holds (under the given datasets' folders
   when ``pids`` are given) that no DataBlock points to is an orphan. Skipped when the
   catalogue was cut at ``max_datasets`` (then not every DataBlock is known).

Findings: ``missing`` (the tar/object is gone), ``damaged`` (unreadable, wrong size, or files
whose checksum, size or presence differs), ``orphan`` and ``unknown`` (an ``archiveId`` no
configured backend writes). The audit never writes to storage.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from archiver.audit import compare
from archiver.audit.readers import Cold, Missing, Reader, Unreadable
from archiver.errors import NotFoundError
from archiver.scicat.base import SciCatClient
from archiver.steps.marks import ON_ARCHIVE_DISK, STARTED

MISSING, DAMAGED, ORPHAN, UNKNOWN = "missing", "damaged", "orphan", "unknown"


@dataclass(frozen=True)
class Finding:
    kind: str
    pid: str
    archive_id: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "pid": self.pid,
            "archiveId": self.archive_id,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Selection:
    """Which part of the catalogue to audit."""

    pids: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    sample: float = 1.0
    seed: str = ""
    max_datasets: int = 10_000


@dataclass
class AuditResult:
    findings: list[Finding] = field(default_factory=list)
    datasets: int = 0
    datablocks: int = 0
    rehashed: int = 0
    cold: int = 0
    files: int = 0
    bytes_read: int = 0
    stored: int = 0
    orphans_checked: bool = True
    notes: list[str] = field(default_factory=list)
    #: pid -> findings and counts, for recording on the dataset
    per_dataset: dict[str, dict[str, Any]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "datasets": self.datasets,
            "datablocks": self.datablocks,
            "rehashed": self.rehashed,
            "notRehashedCold": self.cold,
            "files": self.files,
            "bytesRead": self.bytes_read,
            "storedTars": self.stored,
            "orphansChecked": self.orphans_checked,
            "findings": len(self.findings),
        }


def _created(block: Mapping[str, Any]) -> datetime | None:
    text = str(block.get("createdAt") or "")
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def in_sample(archive_id: str, rate: float, seed: str) -> bool:
    if rate >= 1.0:
        return True
    digest = hashlib.sha256(f"{seed}\0{archive_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def _in_range(block: Mapping[str, Any], selection: Selection) -> bool:
    if selection.since is None and selection.until is None:
        return True
    created = _created(block)
    if created is None:
        return False
    if selection.since is not None and created < selection.since:
        return False
    return selection.until is None or created < selection.until


class Audit:
    """Runs one audit against SciCat (read-only) and the configured storage readers."""

    def __init__(
        self,
        client: SciCatClient,
        readers: list[Reader],
        selection: Selection,
        progress: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.client, self.readers, self.selection, self.progress = (
            client,
            readers,
            selection,
            progress,
        )

    def _datasets(self, result: AuditResult) -> tuple[list[dict[str, Any]], set[str]]:
        """The datasets to audit, and the folders of datasets being archived now."""
        sel = self.selection
        busy: set[str] = set()
        if sel.pids:
            found = []
            for pid in sel.pids:
                try:
                    found.append(self.client.get_dataset(pid))
                except NotFoundError:
                    result.findings.append(Finding(UNKNOWN, pid, "", "no such dataset in SciCat"))
            return found, busy
        where = {"datasetlifecycle.archiveStatusMessage": ON_ARCHIVE_DISK}
        found = self.client.find_datasets(where, limit=sel.max_datasets)
        if len(found) >= sel.max_datasets:
            result.orphans_checked = False
            result.notes.append(
                f"more than {sel.max_datasets} archived datasets: only the first were audited "
                "and orphans were not looked for (use --max-datasets or --dataset)"
            )
        started = {"datasetlifecycle.archiveStatusMessage": STARTED}
        from archiver.storage.paths import safe_name

        busy = {safe_name(str(d.get("pid"))) for d in self.client.find_datasets(started, 1000)}
        return found, busy

    def run(self) -> AuditResult:
        result = AuditResult()
        datasets, busy = self._datasets(result)
        result.datasets = len(datasets)
        catalogue: dict[str, str] = {}
        todo: list[tuple[str, dict[str, Any]]] = []
        for dataset in datasets:
            pid = str(dataset.get("pid"))
            blocks = self.client.list_datablocks(pid)
            result.per_dataset[pid] = {"dataset": dataset, "findings": [], "datablocks": 0}
            for block in blocks:
                archive_id = str(block.get("archiveId"))
                catalogue[archive_id] = pid
                if _in_range(block, self.selection):
                    todo.append((pid, block))
        result.datablocks = len(todo)
        self.progress(f"audit: {len(datasets)} dataset(s), {len(todo)} DataBlock(s) to check")
        for number, (pid, block) in enumerate(todo, 1):
            self._check(pid, block, result)
            self.progress(
                f"audit: {number}/{len(todo)} DataBlocks checked, {result.bytes_read} bytes "
                f"read, {len(result.findings)} finding(s)"
            )
        if result.orphans_checked:
            self._orphans(catalogue, busy, result)
        for finding in result.findings:
            entry = result.per_dataset.get(finding.pid)
            if entry is not None:
                entry["findings"].append(finding)
        return result

    def _reader(self, archive_id: str) -> Reader | None:
        return next((r for r in self.readers if r.owns(archive_id)), None)

    def _check(self, pid: str, block: Mapping[str, Any], result: AuditResult) -> None:
        archive_id = str(block.get("archiveId"))
        result.per_dataset[pid]["datablocks"] += 1
        reader = self._reader(archive_id)
        if reader is None:
            result.findings.append(
                Finding(UNKNOWN, pid, archive_id, "no configured storage holds this archiveId")
            )
            return
        packed = block.get("packedSize")
        try:
            if not in_sample(archive_id, self.selection.sample, self.selection.seed):
                size = reader.size(archive_id)
                if packed is not None and int(packed) != size:
                    result.findings.append(
                        Finding(DAMAGED, pid, archive_id, f"{size} bytes, packedSize {packed}")
                    )
                return
            members = list(reader.members(archive_id, str(block.get("chkAlg") or "sha256")))
        except Missing as exc:
            result.findings.append(Finding(MISSING, pid, archive_id, str(exc)))
            return
        except Unreadable as exc:
            result.findings.append(Finding(DAMAGED, pid, archive_id, str(exc)))
            return
        except Cold as exc:
            result.cold += 1
            size = reader.size(archive_id)
            if packed is not None and int(packed) != size:
                result.findings.append(
                    Finding(DAMAGED, pid, archive_id, f"{size} bytes, packedSize {packed}")
                )
            result.notes.append(f"{exc}: size checked, files not re-hashed")
            return
        result.rehashed += 1
        result.files += len(members)
        result.bytes_read += sum(m.size for m in members)
        found, _ = compare.problems(block, members)
        if found:
            result.findings.append(Finding(DAMAGED, pid, archive_id, compare.summarise(found)))

    def _orphans(self, catalogue: Mapping[str, str], busy: set[str], result: AuditResult) -> None:
        pids = list(self.selection.pids) or None
        for reader in self.readers:
            for stored in reader.stored(pids):
                result.stored += 1
                if stored.archive_id in catalogue or stored.folder in busy:
                    continue
                detail = f"{stored.size} bytes in {reader.name} storage; no DataBlock points to it"
                pid = urllib.parse.unquote(stored.folder)
                result.findings.append(Finding(ORPHAN, pid, stored.archive_id, detail))


def kinds(findings: Iterable[Finding]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.kind] = counts.get(finding.kind, 0) + 1
    return counts
