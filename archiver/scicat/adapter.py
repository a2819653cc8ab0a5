"""What every adapter shares: one HTTP transport, the default job e-mail, login and close."""

from __future__ import annotations

from archiver.scicat.base import SciCatClient
from archiver.scicat.http import HttpTransport

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

    def login(self) -> None:
        self.http.login()

    def close(self) -> None:
        self.http.close()
