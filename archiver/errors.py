"""The archiver's error tree.

Every error the archiver raises on purpose derives from :class:`ArchiverError`::

    ArchiverError
    ├── ConfigError                 a setting is missing or malformed (fails at start)
    ├── MessageError                a queue message we cannot use (quarantined, never retried)
    ├── SciCatError                 a call to SciCat failed; carries status, operation, body
    │   ├── TransientSciCatError    connection error, timeout, 429, 5xx: retry later
    │   └── PermanentSciCatError    other 4xx: retrying will not help
    │       ├── AuthError           login refused (401/403 on login), or no right to a call
    │       │   └── JobApiRefused   backend-next 4.4-4.13: its job API refuses every account
    │       └── NotFoundError       404 (also a LookupError)
    └── StorageError                the storage backend failed
        ├── TransientStorageError
        └── PermanentStorageError

The SciCat client is the only place that turns HTTP outcomes into these classes. Messages
never contain tokens or passwords: the client scrubs them before building an error.
"""

from __future__ import annotations


class ArchiverError(Exception):
    """Root of every error the archiver raises on purpose."""


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

    transient = False

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

    def __reduce__(self) -> tuple:
        # Keep the error picklable / re-creatable from its parts (Celery serialises it).
        return (self.__class__, (self.operation, self.message, self.status, self.body))


class TransientSciCatError(SciCatError):
    """Connection error, timeout, 429 or 5xx: the same call may succeed later.

    ``outcome_unknown`` is true for a write that may have been applied although no answer
    came back (read timeout, connection dropped after sending, gateway timeout): re-read
    before repeating it.
    """

    transient = True

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

    def __reduce__(self) -> tuple:
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
    """The storage backend failed."""

    transient = False


class TransientStorageError(StorageError):
    """A storage failure that may go away (busy disk, network share hiccup)."""

    transient = True


class PermanentStorageError(StorageError):
    """A storage failure that will not go away by retrying."""
