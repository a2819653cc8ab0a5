"""Small facts one step hands to the next step of its chain, so the next need not re-read.

A step returns a :data:`Facts` dict; the task puts it into the next task's message
(``facts`` keyword), so a redelivered or retried next step gets exactly the same input.
What must survive a crash still lives in SciCat (the job claim and the datasets' marks);
facts only spare reads:

- ``work``: the pids the next step acts on (e.g. the datasets this job marked started);
- ``outcomes``: pid → the final outcome of datasets already settled (user errors, failures,
  done), so that ``finish`` writes the job result without reading every dataset back;
- ``docs``: pid → the dataset as read (with its OrigDatablocks / DataBlocks), left out when
  larger than :data:`DOCS_MAX_BYTES` or when the step that holds them is repeated, in
  which case the next step reads them itself, one batched query per page of pids.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from archiver.plan import JobContext
from archiver.scicat.base import SciCatClient
from archiver.steps.marks import STARTED
from archiver.steps.outcome import DatasetOutcome

Facts = dict[str, Any]

#: Keys of a dataset document no later step uses (attachments carry thumbnails).
UNUSED_KEYS = ("attachments", "scientificMetadata")
#: Largest JSON size of the dataset documents carried to the next step.
DOCS_MAX_BYTES = 256 * 1024


def make(
    work: Iterable[str],
    outcomes: Mapping[str, DatasetOutcome],
    docs: Mapping[str, Mapping[str, Any]] | None = None,
) -> Facts:
    """The facts for the next step (``docs`` dropped when too large)."""
    facts: Facts = {
        "work": list(work),
        "outcomes": {pid: as_dict(o) for pid, o in outcomes.items()},
    }
    if docs is not None:
        kept = {
            pid: {k: v for k, v in docs[pid].items() if k not in UNUSED_KEYS}
            for pid in facts["work"]
            if pid in docs
        }
        if len(json.dumps(kept, default=str)) <= DOCS_MAX_BYTES:
            facts["docs"] = kept
    return facts


def as_dict(outcome: DatasetOutcome) -> dict[str, Any]:
    return {
        "pid": outcome.pid,
        "error": outcome.error,
        "code": outcome.code,
        "message": outcome.message,
        "summary": dict(outcome.summary),
    }


def outcomes_of(facts: Facts | None) -> dict[str, DatasetOutcome]:
    """The settled outcomes the facts carry (none without facts)."""
    found = (facts or {}).get("outcomes") or {}
    return {
        str(pid): DatasetOutcome(
            str(o.get("pid", pid)),
            str(o.get("error", "")),
            str(o.get("code", "")),
            str(o.get("message", "")),
            dict(o.get("summary") or {}),
        )
        for pid, o in found.items()
        if isinstance(o, Mapping)
    }


def work_of(facts: Facts | None) -> list[str] | None:
    """The pids to act on, or ``None`` when there are no facts (read SciCat instead)."""
    if not facts or not isinstance(facts.get("work"), list):
        return None
    return [str(p) for p in facts["work"]]


def docs_of(facts: Facts | None, pids: Iterable[str]) -> dict[str, dict[str, Any]] | None:
    """The carried documents of ``pids``, or ``None`` unless every one is there."""
    docs = (facts or {}).get("docs")
    if not isinstance(docs, Mapping):
        return None
    wanted = list(pids)
    if any(not isinstance(docs.get(p), Mapping) for p in wanted):
        return None
    return {p: dict(docs[p]) for p in wanted}


def settled(facts: Facts | None, pids: Iterable[str]) -> dict[str, DatasetOutcome] | None:
    """Every dataset's outcome, when the facts settle all of ``pids``; else ``None``."""
    known = outcomes_of(facts)
    wanted = list(pids)
    if facts is None or any(p not in known for p in wanted):
        return None
    return {p: known[p] for p in wanted}


def work_and_docs(
    client: SciCatClient,
    ctx: JobContext,
    facts: Facts | None,
    relations: Sequence[str],
    state: Callable[[Mapping[str, Any], str], str | None],
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The pids a step acts on and their documents: from the facts, else read (batched);
    without facts, the work is the datasets this job left ``started`` (``state``)."""
    work = work_of(facts)
    docs = docs_of(facts, work) if work is not None else None
    if docs is None:
        docs = client.datasets(work if work is not None else ctx.pids, relations)
    if work is None:
        work = [p for p, d in docs.items() if state(d, ctx.job_id) == STARTED]
    return work, docs
