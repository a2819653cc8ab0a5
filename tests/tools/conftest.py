"""Helpers of the operator-tool tests: dataset folders, the CLI runner, credentials."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from archiver.cli.main import cli

ADMIN = ("admin", "2jf70TPNZsS")

#: A complete transfer.yaml (every key of the old example file, plus instrumentId).
TRANSFER: dict[str, Any] = {
    "accessGroups": ["a_group", "b_group"],
    "contactEmail": "another@uni.org",
    "creationLocation": "University",
    "datasetName": "Loot Dataset",
    "description": "Example description",
    "instrumentGroup": "exampleInstrumentGroup",
    "isPublished": False,
    "keywords": ["keyword1", "keyword2"],
    "license": "Some License",
    "ownerGroup": "anothergroup",
    "owners": [
        {"name": "Ada", "email": "ada@uni.org", "orcid": "https://orcid.org/0000-0002-1825-0097"},
        {"name": "Bob", "email": "bob@uni.org"},
    ],
    "principalInvestigators": ["Grace", "Alan"],
    "sampleId": "anotherIdExample356",
    "validationStatus": "uncertain",
    "instrumentId": "instrument-1",
}


@pytest.fixture(autouse=True)
def _no_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the flags of each test configure the CLI."""
    for name in list(os.environ):
        if name.startswith("ARCHIVER_") or name in ("SCI_URL", "SCI_USER", "SCI_PW", "TOKEN"):
            monkeypatch.delenv(name)


def make_dataset(
    parent: Path,
    name: str = "ds",
    files: dict[str, bytes] | None = None,
    transfer: dict[str, Any] | str | None = None,
) -> Path:
    """A dataset folder with ``files`` and a transfer.yaml (``TRANSFER`` by default)."""
    folder = parent / name
    folder.mkdir(parents=True, exist_ok=True)
    for rel, data in (files or {"raw/a.dat": b"aaaa", "raw/b.dat": b"bb", "c.txt": b"c"}).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    text = transfer if isinstance(transfer, str) else yaml.safe_dump(transfer or TRANSFER)
    (folder / "transfer.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def secret_file(tmp_path: Path) -> Callable[[str], str]:
    def write(password: str) -> str:
        path = tmp_path / f"pw-{abs(hash(password))}"
        path.write_text(password + "\n", encoding="utf-8")
        return str(path)

    return write


@pytest.fixture
def archiver(secret_file: Callable[[str], str]) -> Iterator[Callable[..., Result]]:
    """``archiver(emulator, *args, user=..., password=...)`` runs the CLI against it."""

    def run(emu: Any, *args: str, user: str = ADMIN[0], password: str = ADMIN[1]) -> Result:
        flags = ["--scicat-url", emu.url, "--scicat-user", user]
        flags += ["--scicat-password-file", secret_file(password), "--scicat-timeout", "5"]
        return CliRunner().invoke(cli, [*flags, *args], catch_exceptions=False)

    yield run
