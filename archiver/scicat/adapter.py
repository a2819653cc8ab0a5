"""What every adapter shares: one HTTP transport, the default job e-mail, login and close,
and the job write that is re-read, not repeated, when its outcome is unknown."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from archiver.errors import NotFoundError, TransientSciCatError
from archiver.scicat.base import PAGE_PIDS, RELATIONS, SciCatClient
from archiver.scicat.http import HttpTransport

log = logging.getLogger(__name__)

#: ``emailJobInitiator`` of v3 jobs created without a contact e-mail (v3 requires one).
DEFAULT_EMAIL = "scicat-archiver@example.org"


class TransportClient(SciCatClient):
    """A :class:`SciCatClient` whose calls all go through one :class:`HttpTransport`."""

    def __init__(self, transport: HttpTransport, default_email: str = DEFAULT_EMAIL) -> None:
        self.http = transport
        self.default_email = default_email

    def initiator_email(self, contact_email: str | None) -> str:
        """``emailJobInitiator`` of a v3 job: the given contact, else a configured default,
        else the logged-in account's address, else the placeholder :data:`DEFAULT_EMAIL`."""
        if contact_email:
            return contact_email
        if self.default_email != DEFAULT_EMAIL:
            return self.default_email
        self.http.ensure_login()
        return self.http.account_email or DEFAULT_EMAIL

    def datasets(
        self, pids: Iterable[str], relations: Sequence[str] = ()
    ) -> dict[str, dict[str, Any]]:
        """One request per :data:`PAGE_PIDS` pids (``where pid in [...]``, relations
        included); a pid the page left out is read on its own (absent, or not readable)."""
        wanted = [r for r in RELATIONS if r in relations]
        unique = list(dict.fromkeys(pids))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(unique), PAGE_PIDS):
            page = unique[start : start + PAGE_PIDS]
            for doc in self._dataset_page(page, wanted):
                if isinstance(doc, dict) and doc.get("pid") in page:
                    for name in wanted:
                        doc[name] = doc[name] if isinstance(doc.get(name), list) else []
                    found[str(doc["pid"])] = doc
            for pid in page:
                if pid in found:
                    continue
                try:
                    found[pid] = self.get_dataset(pid)
                except NotFoundError:
                    continue
                self._attach(found[pid], wanted)
        return found

    def _dataset_page(self, pids: list[str], relations: list[str]) -> list[Any]:
        """The datasets of ``pids`` with ``relations`` included, in one request."""
        raise NotImplementedError

    def login(self) -> None:
        self.http.login()

    def close(self) -> None:
        self.http.close()

    def _write_job(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any],
        job_id: str,
        status: str,
        result: Mapping[str, Any] | None,
    ) -> None:
        """Send a job update. When no answer came back (the outcome is unknown), read the
        job: if it already shows the status (and result) written, the write landed and is
        not repeated; otherwise the transient error goes to the caller's retry."""
        try:
            self.http.call(method, path, "update job", json_body=dict(body))
        except TransientSciCatError as exc:
            if not exc.outcome_unknown:
                raise
            job = self.get_job(job_id)
            if job.status != status or (result is not None and dict(job.result) != dict(result)):
                raise
            log.info("[job %r] update job: no answer, but SciCat shows it applied", job_id)
