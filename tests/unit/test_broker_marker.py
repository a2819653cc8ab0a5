"""The ``rabbitmq`` marker is attached to every test that needs the broker (tests/conftest.py),
so ``-m 'not rabbitmq'`` selects a subset that runs without one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _collected(*args: str) -> str:
    command = [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120).stdout


def test_pipeline_and_fault_tests_are_all_marked_through_their_fixtures():
    out = _collected("-m", "not rabbitmq", "tests/pipeline", "tests/faults/test_soak.py")
    assert "no tests collected" in out and "deselected" in out, out[-500:]


def test_tests_without_the_broker_are_not_marked():
    out = _collected("-m", "rabbitmq", "tests/unit/test_lazy_package.py")
    assert "no tests collected" in out, out[-500:]
