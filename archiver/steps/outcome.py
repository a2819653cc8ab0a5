"""What happened to each dataset of a job, and the job status that follows.

Derived from SciCat at the end of a chain (never carried between steps): the finish step
and the failure path both read every dataset back and classify it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from archiver.scicat.base import FINISHED_DATASET_ERRORS, FINISHED_FAILED, FINISHED_OK


@dataclass(frozen=True)
class DatasetOutcome:
    """One dataset's result. ``error`` is ``""`` (done), ``"user"`` or ``"system"``."""

    pid: str
    error: str = ""
    code: str = ""
    message: str = ""
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.error

    def as_error(self) -> dict[str, str]:
        return {"pid": self.pid, "code": self.code, "kind": self.error, "message": self.message}


def job_status(outcomes: Iterable[DatasetOutcome]) -> str:
    """``finishedSuccessful`` if all went well, ``finishedUnsuccessful`` if any dataset hit a
    system error, else ``finishedWithDatasetErrors``."""
    errors = {o.error for o in outcomes if not o.ok}
    if not errors:
        return FINISHED_OK
    if "system" in errors:
        return FINISHED_FAILED
    return FINISHED_DATASET_ERRORS


def status_line(verb: str, outcomes: list[DatasetOutcome]) -> str:
    """A readable one-line ``statusMessage`` such as ``"2 of 3 datasets archived; 1 failed"``."""
    done = sum(1 for o in outcomes if o.ok)
    total = len(outcomes)
    if total == 0:
        return "the job lists no datasets"
    line = f"{done} of {total} dataset{'s' if total != 1 else ''} {verb}"
    failed = [o for o in outcomes if not o.ok]
    if failed:
        first = failed[0]
        line += f"; {len(failed)} failed (first: {first.pid}: {first.code}: {first.message})"
    return line[:500]
