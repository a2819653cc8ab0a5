"""The retry budget of a pipeline step: by time since the first transient failure, not by count.

A step that meets a transient error (SciCat unreachable, timeout, 429, 5xx, a proxy's error
page, a busy storage, and a login refused at run time) is retried until
``ARCHIVER_RETRY_WINDOW`` seconds have passed since its first transient failure; the failure
path (``archiver.job.fail``) uses ``ARCHIVER_FAIL_RETRY_WINDOW``, which is much longer, so a
job is never left ``jobSubmitted`` or ``inProgress`` by an outage. The deprecated
``ARCHIVER_MAX_RETRIES``, when set, still ends a step's retries after that many attempts.

Waits follow capped exponential backoff with *equal jitter*: before retry ``n`` the wait is
between half and all of ``min(cap, 2**n)`` seconds. The lower bound is deterministic, and the
budget is measured in elapsed time, so jitter changes how many attempts fit into the window,
never how long the window is. The last wait is shortened so one attempt falls at the end of
the window.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from archiver.errors import AuthError

#: Exponents above this give the cap anyway; keeps ``2.0**n`` far from overflowing.
_MAX_EXPONENT = 60


def backoff_ceiling(retries: int, cap: float) -> float:
    """The longest wait before retry ``retries + 1``: ``min(cap, 2**retries)``, any ``retries``."""
    return min(float(cap), 2.0 ** min(max(retries, 0), _MAX_EXPONENT))


def backoff(retries: int, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry ``retries + 1``: equal jitter in [ceiling/2, ceiling]."""
    ceiling = backoff_ceiling(retries, cap)
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def is_login_refused(exc: BaseException) -> bool:
    """A login SciCat refused (wrong user or password): retried while the operator fixes it."""
    return isinstance(exc, AuthError) and exc.operation == "login" and exc.status in (400, 401, 403)


@dataclass(frozen=True)
class Verdict:
    """What to do after a transient failure: ``delay`` seconds, or give up (``None``)."""

    delay: float | None
    reason: str

    @property
    def give_up(self) -> bool:
        return self.delay is None


def decide(
    *,
    retries: int,
    elapsed: float,
    window: float,
    cap: float,
    max_retries: int | None = None,
    rng: random.Random | None = None,
) -> Verdict:
    """Retry or give up, ``elapsed`` seconds after the step's first transient failure."""
    if max_retries is not None and retries >= max_retries:
        return Verdict(None, f"{retries} retries made (ARCHIVER_MAX_RETRIES={max_retries})")
    left = window - elapsed
    if left <= 0:
        return Verdict(None, f"still failing after {elapsed:.0f} s (window {window:g} s)")
    return Verdict(min(backoff(retries, cap, rng), left), f"{left:.0f} s of the window left")
