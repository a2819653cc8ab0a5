"""Importing a pure module of the package loads neither Celery nor the HTTP client; the
Celery app is built on first use of ``archiver.app`` (``celery -A archiver`` still finds it)."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_settings_and_message_parsing_import_without_celery():
    for module in ("archiver.settings", "archiver.intake.messages", "archiver.errors"):
        loaded = _modules_after(f"import {module}")
        assert "celery" not in loaded, module


def test_the_app_is_built_on_first_use():
    loaded = _modules_after("import archiver\nassert archiver.app.main == 'archiver'")
    assert "celery" in loaded
