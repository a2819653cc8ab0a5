"""Fixtures of the audit tests: datasets archived into a real storage and registered in the
SciCat emulator, on the filesystem backend and on S3 (moto's server on loopback)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from storage.conftest import make_dataset, origdatablocks, roots  # noqa: F401 - fixtures
from storage.s3_server import moto_server, s3_env, s3_settings  # noqa: F401 - fixtures

from archiver.scicat import SciCatClient, connect
from archiver.settings import Settings
from archiver.storage import Storage, get_storage

ADMIN = ("admin", "2jf70TPNZsS")


@dataclass
class Archived:
    """A SciCat emulator whose datasets were archived into ``storage``."""

    emulator: Any
    settings: Settings
    storage: Storage
    client: SciCatClient
    roots: dict[str, Path]
    pids: list[str]

    def blocks(self, pid: str) -> list[dict[str, Any]]:
        return sorted(self.emulator.datablocks(pid), key=lambda b: b["archiveId"])


def archive_dataset(archived: Archived, folder: str) -> str:
    paths = make_dataset(archived.roots["data"] / folder)
    pid = archived.emulator.add_dataset(datasetName=folder, sourceFolder=f"/scicat/data/{folder}")
    archived.emulator.add_origdatablock(pid, files=[{"path": p, "size": 1} for p in paths])
    dataset = archived.client.get_dataset(pid)
    for block in archived.storage.archive(dataset, origdatablocks(paths)):
        archived.client.create_datablock(pid, block.body)
    archived.client.update_lifecycle(
        pid,
        {
            "archivable": False,
            "retrievable": True,
            "archiveStatusMessage": "datasetOnArchiveDisk",
            "archiveReturnMessage": {"jobId": "job-0", "message": "archived"},
        },
    )
    return pid


@pytest.fixture(params=["filesystem", "s3"])
def archived(request, emulator_factory, roots):  # noqa: F811
    emu = emulator_factory(
        flavour="next", delete_groups="admin,archivemanager"
    )  # tests delete blocks as admin
    scicat = {
        "scicat_url": emu.url,
        "scicat_user": ADMIN[0],
        "scicat_password": ADMIN[1],
        "scicat_timeout": 5.0,
    }
    if request.param == "filesystem":
        settings = Settings(
            storage="filesystem",
            archive_root=str(roots["archive"]),
            retrieve_root=str(roots["retrieve"]),
            source_path_map=(("/scicat/data", str(roots["data"])),),
            tar_max_bytes=200_000,
            **scicat,
        )
    else:
        settings = request.getfixturevalue("s3_settings").replace(**scicat)
    client = connect(settings)
    result = Archived(emu, settings, get_storage(settings), client, roots, [])
    result.pids = [archive_dataset(result, "one"), archive_dataset(result, "two")]
    yield result
    client.close()
