"""The archiver's error tree: every exception class the archiver raises on purpose.

Every one derives from :class:`ArchiverError`::

    ArchiverError
    ├── ConfigError                 a setting is missing or malformed (fails at start)
    ├── MessageError                a queue message we cannot use (quarantined, never retried)
    ├── SciCatError                 a call to SciCat failed; carries status, operation, body
    │   ├── TransientSciCatError    connection error, timeout, 429, 5xx: retry later
    │   └── PermanentSciCatError    other 4xx: retrying will not help
    │       ├── AuthError           login refused (401/403 on login), or no right to a call
    │       │   └── JobApiRefused   backend-next 4.4-4.13: its job API refuses every account
    │       └── NotFoundError       404 (also a LookupError)
    ├── StorageError                the storage backend failed; carries operation, path
    │   ├── TransientStorageError   busy disk, broken connection: retry later
    │   └── PermanentStorageError   retrying will not help
    │       ├── UserStorageError    [user] the request is at fault (missing files, refused
    │       │                       destination, unknown storage name)
    │       └── UnsafeMember        a tar member would be written outside its folder
    ├── ContinueLater               a step used up its time budget: run it again (control flow)
    ├── ChainStop                   the job is finished or another run owns it: stop quietly
    ├── WatchTimeout                ``archiver job watch``: the job did not finish in time
    ├── AuditFindings               the periodic audit found missing, damaged or orphaned data
    ├── IngestError                 ``archiver ingest`` failed (``pid``: what was left behind)
    ├── TransferError               ``transfer.yaml`` is invalid (``problems``, by line)
    └── StageFailed                 ``archiver selftest``: a stage saw something unexpected

Whose fault an error is, when it ends a dataset's step, is declared on the class:
:attr:`ArchiverError.kind` is ``"system"`` unless the class says ``"user"`` (marked
``[user]`` above); a user error leaves the dataset for its owner to fix, a system error
marks it failed.

The SciCat client is the only place that turns HTTP outcomes into these classes. Messages
never contain tokens or passwords: the client scrubs them before building an error.

Not in the tree, on purpose: private signals that never leave their module
(``BridgeStopped`` in the bridge, the audit readers' ``Missing``/``Unreadable``/``Cold``,
``SourceChanged`` (an ``OSError``) in the tar writers) and the SciCat emulator's own
errors (it models the backend, not the archiver).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar, Literal

#: Whose fault an error is: the request's (``"user"``) or ours (``"system"``).
Kind = Literal["user", "system"]


class ArchiverError(Exception):
    """Root of every error the archiver raises on purpose."""

    #: Whose fault it is when it ends a dataset's step (see the module docstring).
    kind: ClassVar[Kind] = "system"


class ConfigError(ArchiverError):
    """A setting is missing or malformed. The message names the setting."""


class MessageError(ArchiverError):
    """A job message cannot be used (not JSON, not an object, no id, unknown shape)."""


class SciCatError(ArchiverError):
    """A SciCat call failed.

    Attributes:
        operation: what we tried, e.g. ``"update job"``.
        status: HTTP status code, or ``None`` when no answer came back.
        body: the server's answer, trimmed, never containing a secret.
    """

    def __init__(self, operation: str, message: str, status: int | None = None, body: str = ""):
        self.operation = operation
        self.status = status
        self.body = body
        self.message = message
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f"HTTP {self.status}" if self.status is not None else "no answer"
        text = f"{self.operation}: {where}: {self.message}"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the error picklable / re-creatable from its parts (Celery serialises it).
        return (self.__class__, (self.operation, self.message, self.status, self.body))


class TransientSciCatError(SciCatError):
    """Connection error, timeout, 429 or 5xx: the same call may succeed later.

    ``outcome_unknown`` is true for a write that may have been applied although no answer
    came back (read timeout, connection dropped after sending, gateway timeout): re-read
    before repeating it.
    """

    def __init__(
        self,
        operation: str,
        message: str,
        status: int | None = None,
        body: str = "",
        outcome_unknown: bool = False,
    ):
        self.outcome_unknown = outcome_unknown
        super().__init__(operation, message, status, body)

    def __reduce__(self) -> tuple[Any, ...]:
        args = (self.operation, self.message, self.status, self.body, self.outcome_unknown)
        return (self.__class__, args)


class PermanentSciCatError(SciCatError):
    """A 4xx answer (other than 429): the request itself is wrong or not allowed."""


class AuthError(PermanentSciCatError):
    """The login was refused or the account lacks the rights."""


class JobApiRefused(AuthError):
    """SciCat refuses its own job API to the archiver's account (403 on reading or updating
    jobs). backend-next 4.4.0-4.13.x do this to every account, admin included; nothing can
    work until SciCat is upgraded. The message names the cause and the remedy."""


class NotFoundError(PermanentSciCatError, LookupError):
    """The object does not exist in SciCat."""


class StorageError(ArchiverError):
    """The storage backend failed.

    Attributes:
        operation: what the backend was doing, e.g. ``"write tar"`` (``""``: not said).
        path: the file, folder or object it was doing it to (``""``: not said).
    """

    def __init__(self, message: str, *, operation: str = "", path: str = "") -> None:
        self.operation = operation
        self.path = path
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        # Celery serialises errors: keep operation and path through pickling.
        return (_storage_error, (self.__class__, str(self), self.operation, self.path))


def _storage_error(cls: type[StorageError], message: str, operation: str, path: str) -> Any:
    return cls(message, operation=operation, path=path)


class TransientStorageError(StorageError):
    """A storage failure that may go away (busy disk, network share hiccup)."""


class PermanentStorageError(StorageError):
    """A storage failure that will not go away by retrying."""


class UserStorageError(PermanentStorageError):
    """A permanent storage error caused by the request itself (missing files, a refused
    destination): reported as a user error of the dataset, not a system failure."""

    kind = "user"


class UnsafeMember(PermanentStorageError):
    """A tar member, or something found in the target, that would lead a write outside."""


class ContinueLater(ArchiverError):
    """The step used up its time budget after finishing a unit of work; run it again."""


class ChainStop(ArchiverError):
    """Stop the chain quietly: the job is finished or another run owns it."""


class AuditFindings(ArchiverError):
    """The periodic audit found missing, damaged, orphaned or unknown DataBlocks."""


class WatchTimeout(ArchiverError):
    """The job did not finish within the allowed time."""


class IngestError(ArchiverError):
    """An ingest failed; ``pid`` is the dataset left behind if the clean-up failed too."""

    def __init__(self, message: str, pid: str | None = None) -> None:
        self.pid = pid
        super().__init__(message)


def _line_of(problem: str) -> int:
    found = re.match(r"line (\d+):", problem)
    return int(found.group(1)) if found else 0


class TransferError(ArchiverError):
    """``transfer.yaml`` is missing, unreadable or invalid; ``problems`` lists every issue,
    in the order of their lines."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = sorted(problems, key=_line_of)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{path}: {len(self.problems)} problem(s):\n{lines}")


class StageFailed(ArchiverError):
    """A self-test stage saw something other than what it expects; the message says what."""
