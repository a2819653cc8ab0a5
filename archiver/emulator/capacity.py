"""Capacity mode: the emulator serves at most N API requests per second, one at a time.

A saturated SciCat answers requests one after the other at its own pace, whatever the
number of clients. :class:`Capacity` models that: every API request waits for the single
service slot, starts no earlier than ``1 / rate`` seconds after the previous one started,
and holds the slot until its answer is ready. So N requests take at least ``(N - 1) / rate``
seconds, and concurrent clients only queue. The clock and the sleep are injectable, so the
pacing is tested without timing anything.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator


class Capacity:
    """One service slot, paced to ``rate`` requests per second (``rate`` > 0)."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not rate > 0:
            raise ValueError(
                f"capacity must be a positive number of requests per second, not {rate}"
            )
        self.rate = float(rate)
        self.interval = 1.0 / self.rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_start: float | None = None
        #: requests served so far
        self.served = 0

    @contextlib.contextmanager
    def slot(self) -> Iterator[float]:
        """Hold the service slot for one request; yields the time the request started."""
        with self._lock:
            now = self._clock()
            start = now if self._next_start is None else max(now, self._next_start)
            if start > now:
                self._sleep(start - now)
            self._next_start = start + self.interval
            self.served += 1
            yield start


class Unlimited:
    """No capacity limit: requests are served concurrently, as they come."""

    rate = 0.0

    @contextlib.contextmanager
    def slot(self) -> Iterator[float]:
        yield 0.0


def make_capacity(rate: float | None) -> Capacity | Unlimited:
    """``Capacity(rate)`` for a positive rate; :class:`Unlimited` for ``None`` or 0."""
    if not rate:
        return Unlimited()
    return Capacity(rate)
