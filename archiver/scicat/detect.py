"""Find out which SciCat generation answers at a URL, with a few unauthenticated requests.

1. ``GET /api/v4/jobs`` answers 200, 401 or 403 only on backend-next >= 4.14  -> ``next``;
2. else ``POST /api/v3/auth/login`` without credentials is a known route (400/401/403/2xx)
   only on backend-next                                                      -> ``next-legacy``;
3. else ``POST /api/v3/Users/login`` without credentials is a known route    -> ``loopback``.

No credentials or tokens are sent. A server that does not answer raises
:class:`~archiver.errors.TransientSciCatError`; one that matches none of the above raises
:class:`~archiver.errors.ConfigError`.
"""

from __future__ import annotations

import logging

from archiver.errors import ConfigError, TransientSciCatError
from archiver.scicat.http import HttpTransport

log = logging.getLogger(__name__)

OPERATION = "detect SciCat generation"


def _is_route(status: int) -> bool:
    """Whether an answer shows the route exists (404/405: it does not; 5xx: cannot tell)."""
    if status == 429 or status >= 500:
        raise TransientSciCatError(OPERATION, "the server is not ready", status)
    return status not in (404, 405)


def _probe(probe: HttpTransport) -> tuple[str, str]:
    status = probe.probe("GET", "/api/v4/jobs", OPERATION)
    if status in (200, 401, 403):
        return "next", "it has the /api/v4/jobs route"
    _is_route(status)
    status = probe.probe("POST", "/api/v3/auth/login", OPERATION)
    if _is_route(status):
        return "next-legacy", "it has /api/v3/auth/login but no /api/v4/jobs"
    status = probe.probe("POST", "/api/v3/Users/login", OPERATION)
    if _is_route(status):
        return "loopback", "it has /api/v3/Users/login but no /api/v3/auth/login"
    raise ConfigError(
        "ARCHIVER_SCICAT_URL does not look like a SciCat backend (no /api/v4/jobs, "
        "/api/v3/auth/login or /api/v3/Users/login); check the URL or set ARCHIVER_SCICAT_API"
    )


def detect_generation(root: str, timeout: float) -> str:
    """Return ``"next"``, ``"next-legacy"`` or ``"loopback"`` for the server at ``root``."""
    probe = HttpTransport(root, timeout, login_path="", token_field="")
    try:
        found, why = _probe(probe)
    finally:
        probe.close()
    log.info("SciCat at %s: using API generation %s (%s)", root, found, why)
    return found
