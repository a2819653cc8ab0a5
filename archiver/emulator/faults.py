"""Injected faults: the next N API requests matching a path regex fail or hang."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass


@dataclass
class Fault:
    """One armed fault. ``status=None`` only delays (a slow or hanging backend)."""

    pattern: re.Pattern[str]
    status: int | None
    count: int
    method: str | None
    delay_s: float


class FaultBook:
    """The armed faults, consumed first come first served. Thread-safe."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(
        self,
        path: str,
        status: int | None = 503,
        count: int = 1,
        method: str | None = None,
        delay_s: float = 0.0,
    ) -> None:
        fault = Fault(re.compile(path), status, int(count), method and method.upper(), delay_s)
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The first armed fault matching this request, with one use consumed."""
        with self._lock:
            for fault in self._faults:
                if fault.method and fault.method != method:
                    continue
                if fault.pattern.search(path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def describe(self) -> list[dict[str, object]]:
        with self._lock:
            return [
                {"path": f.pattern.pattern, "status": f.status, "count": f.count,
                 "method": f.method, "delay_s": f.delay_s}
                for f in self._faults
            ]  # fmt: skip
