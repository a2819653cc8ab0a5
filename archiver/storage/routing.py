"""The ``routing`` storage: each dataset goes to the storage its ``storageLocation`` names.

``ARCHIVER_STORAGE=routing`` reads a table from the YAML or JSON file
``ARCHIVER_STORAGE_TABLE``::

    default: nas                      # for datasets without a storageLocation
    storages:
      nas:                            # a name a dataset's storageLocation may hold
        backend: filesystem
        settings: {archive_root: /archive/nas}
      cold:
        backend: s3
        settings: {ARCHIVER_S3_BUCKET: scicat-cold, ARCHIVER_S3_STORAGE_CLASS: DEEP_ARCHIVE}

Each entry's settings are the archiver's own settings (by name, ``archive_root``, or by
variable, ``ARCHIVER_ARCHIVE_ROOT``), parsed like the environment, on top of the process's
settings; credentials stay in the environment. Archiving picks the entry named by the
job's ``jobParams.storageLocation`` (for every dataset of the job), else by the dataset's
``datasetlifecycle.storageLocation`` (the field SciCat's job ``switch`` action routes on),
else ``default``; a name the table lacks is a user error of that
dataset, with a message listing the known names. Retrieval asks each entry which DataBlocks
it holds (by ``archiveId``), so data comes back from where it was written even if the
dataset's ``storageLocation`` changed since. The steps see one ordinary storage.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from archiver.errors import ConfigError, PermanentStorageError
from archiver.settings import BY_NAME, TABLE, Settings
from archiver.storage import work
from archiver.storage.base import ArchivedBlock, Discarded, RetrievedBlock, Storage
from archiver.storage.paths import is_within

#: Backends an entry may name (a routing table does not nest).
ROUTABLE = ("filesystem", "s3")


def load_table(path: str) -> dict[str, Any]:
    """The table in file ``path`` (YAML or JSON); ConfigError naming the setting if bad."""
    where = f"ARCHIVER_STORAGE_TABLE {path}"
    try:
        with open(path, encoding="utf-8") as source:
            text = source.read()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot be read: {exc.strerror or exc}") from exc
    try:
        if path.endswith(".json"):
            table = json.loads(text)
        else:
            import yaml

            table = yaml.safe_load(text)
    except ValueError as exc:  # json.JSONDecodeError and yaml.YAMLError's parents
        raise ConfigError(f"{where}: not valid JSON/YAML: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - yaml.YAMLError does not derive from ValueError
        raise ConfigError(f"{where}: not valid YAML: {exc}") from exc
    if not isinstance(table, dict) or not isinstance(table.get("storages"), dict):
        raise ConfigError(f"{where}: needs a 'storages' mapping of name -> entry")
    if not table["storages"]:
        raise ConfigError(f"{where}: 'storages' is empty")
    default = table.get("default")
    if default is not None and default not in table["storages"]:
        raise ConfigError(f"{where}: default {default!r} is not one of the storages")
    return table


def entry_settings(base: Settings, name: str, entry: Any, where: str) -> Settings:
    """``base`` with the entry's settings applied (parsed like environment values)."""
    if not isinstance(entry, dict) or entry.get("backend") not in ROUTABLE:
        raise ConfigError(
            f"{where}: storage {name!r} needs 'backend': one of {', '.join(ROUTABLE)}"
        )
    by_env = {s.env: s for s in TABLE}
    changes: dict[str, Any] = {"storage": entry["backend"]}
    for key, raw in (entry.get("settings") or {}).items():
        setting = BY_NAME.get(str(key)) or by_env.get(str(key))
        if setting is None or setting.name in ("storage", "storage_table") or setting.secret:
            raise ConfigError(f"{where}: storage {name!r}: {key!r} is not a storage setting")
        try:
            changes[setting.name] = setting.parse(str(raw))
        except ValueError as exc:
            raise ConfigError(f"{where}: storage {name!r}: {setting.env} {exc}") from None
    return base.replace(**changes)


def owns(storage: Storage, archive_id: str) -> bool:
    """Does ``storage`` write ``archiveId`` values like this one?"""
    root = getattr(storage, "archive_root", None)
    if root:
        return archive_id.startswith("/") and is_within(os.path.realpath(archive_id), root)
    bucket = getattr(storage, "bucket", None)
    if bucket:
        return archive_id.startswith(f"s3://{bucket}/{getattr(storage, 'prefix', '')}")
    return False


class RoutingStorage(Storage):
    """A table of storages; each dataset uses the one its ``storageLocation`` names."""

    name = "routing"

    def __init__(self, settings: Settings) -> None:
        from archiver.storage import get_storage

        if not settings.storage_table:
            raise ConfigError("ARCHIVER_STORAGE=routing needs ARCHIVER_STORAGE_TABLE (a file)")
        where = f"ARCHIVER_STORAGE_TABLE {settings.storage_table}"
        table = load_table(settings.storage_table)
        self.default: str | None = table.get("default")
        self.backends: dict[str, Storage] = {
            str(name): get_storage(entry_settings(settings, str(name), entry, where))
            for name, entry in table["storages"].items()
        }

    def route(self, dataset: Mapping[str, Any]) -> Storage:
        """The storage of ``dataset``: the job's ``jobParams.storageLocation``, else the
        dataset's ``datasetlifecycle.storageLocation``, else the default."""
        name = work.current().storage_location
        source, fix = "the job (jobParams.storageLocation)", "submit the job again with"
        if not name:
            life = dataset.get("datasetlifecycle")
            location = (
                str((life or {}).get("storageLocation") or "") if isinstance(life, Mapping) else ""
            )
            name = location or self.default
            source, fix = "the dataset", "set datasetlifecycle.storageLocation to"
        if name is None:
            raise work.UserStorageError(
                "the dataset has no datasetlifecycle.storageLocation and the storage table has "
                f"no default: set one of {', '.join(sorted(self.backends))}"
            )
        storage = self.backends.get(name)
        if storage is None:
            raise work.UserStorageError(
                f"storage location {name!r} of {source} is not in ARCHIVER_STORAGE_TABLE "
                f"(known: {', '.join(sorted(self.backends))}); {fix} one of them"
            )
        return storage

    def archive(
        self, dataset: Mapping[str, Any], origdatablocks: Iterable[Mapping[str, Any]]
    ) -> Iterator[ArchivedBlock]:
        return self.route(dataset).archive(dataset, origdatablocks)

    def retrieve(
        self,
        dataset: Mapping[str, Any],
        datablocks: Iterable[Mapping[str, Any]],
        destination: str | None,
    ) -> list[RetrievedBlock]:
        groups: dict[str, list[Mapping[str, Any]]] = {}
        for block in datablocks:
            archive_id = str(block.get("archiveId"))
            name = next((n for n, s in self.backends.items() if owns(s, archive_id)), None)
            if name is None:
                raise PermanentStorageError(
                    f"DataBlock {archive_id} is in none of the storages of ARCHIVER_STORAGE_TABLE"
                )
            groups.setdefault(name, []).append(block)
        restored: list[RetrievedBlock] = []
        for name in sorted(groups):
            restored += self.backends[name].retrieve(dataset, groups[name], destination)
        return restored

    def discard_parts(self, pid: str, job_id: str, destination: str | None) -> Discarded:
        report = Discarded()
        for storage in self.backends.values():
            report += storage.discard_parts(pid, job_id, destination)
        return report

    def forget_job(self, job_id: str) -> None:
        for storage in self.backends.values():
            storage.forget_job(job_id)
