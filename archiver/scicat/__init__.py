"""The SciCat client: one interface (:class:`SciCatClient`), three adapters, one funnel.

``connect(settings)`` returns the adapter for ``settings.scicat_api``; with ``auto`` it probes
the server once (a few unauthenticated requests, see :mod:`archiver.scicat.detect`). No login
happens in ``connect``: the first call logs in (or call ``client.login()`` to fail early).
With ``ARCHIVER_SCICAT_TOKEN`` the given token is used as is and never renewed.
"""

from __future__ import annotations

from collections.abc import Callable

from archiver.scicat import loopback, next_legacy
from archiver.scicat.base import (
    FINISHED_DATASET_ERRORS,
    FINISHED_FAILED,
    FINISHED_OK,
    IN_PROGRESS,
    SUBMITTED,
    DatasetRef,
    Job,
    SciCatClient,
)
from archiver.scicat.detect import detect_generation
from archiver.scicat.http import HttpTransport
from archiver.scicat.loopback import LoopBackClient
from archiver.scicat.next import NextClient
from archiver.scicat.next_legacy import NextLegacyClient
from archiver.settings import Settings

__all__ = [
    "FINISHED_DATASET_ERRORS",
    "FINISHED_FAILED",
    "FINISHED_OK",
    "IN_PROGRESS",
    "SUBMITTED",
    "DatasetRef",
    "Job",
    "LoopBackClient",
    "NextClient",
    "NextLegacyClient",
    "SciCatClient",
    "connect",
]


def connect(settings: Settings, default_email: str | None = None) -> SciCatClient:
    """The SciCat client the settings ask for (detecting the generation for ``auto``).

    ``default_email`` is the ``emailJobInitiator`` of v3 jobs created without a contact
    e-mail (v3 requires one); without it the adapters use a placeholder address.
    """
    root = settings.require_scicat()
    generation = settings.scicat_api
    if generation == "auto":
        generation = detect_generation(root, settings.scicat_timeout)
    make_transport, kind = _ADAPTERS[generation]
    transport = make_transport(
        root,
        settings.scicat_timeout,
        username=settings.scicat_user,
        password=settings.scicat_password,
        token=settings.scicat_token,
    )
    email = default_email or getattr(settings, "scicat_contact_email", None)
    client = kind(transport, email) if email else kind(transport)
    if isinstance(client, NextClient):
        client.job_details = settings.scicat_job_join
    return client


_ADAPTERS: dict[str, tuple[Callable[..., HttpTransport], type[LoopBackClient | NextLegacyClient]]]
_ADAPTERS = {
    "loopback": (loopback.make_transport, LoopBackClient),
    "next-legacy": (next_legacy.make_transport, NextLegacyClient),
    "next": (next_legacy.make_transport, NextClient),
}
