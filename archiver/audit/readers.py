"""How the audit reads each storage backend: list its tars, check one, re-hash one.

A reader answers for the ``archiveId`` values its backend writes (a path under the
filesystem backend's archive root; an ``s3://`` URL in the S3 backend's bucket and prefix).
Nothing here writes to storage: in particular a cold S3 object is never restored by the
audit; only its size is checked and it is reported as not re-hashed.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from archiver.audit.compare import Member
from archiver.errors import ConfigError
from archiver.storage.base import Storage
from archiver.storage.paths import is_within, safe_name
from archiver.storage.tarpack import CHUNK, link_digest, read_tar


class Missing(Exception):
    """The DataBlock's tar or object does not exist."""


class Unreadable(Exception):
    """The tar exists but cannot be read as a tar (damaged)."""


class Cold(Exception):
    """The object is in a cold storage class and not restored: it cannot be re-read."""


@dataclass(frozen=True)
class Stored:
    """A tar storage holds: its ``archiveId``, size, and the pid folder it lies in."""

    archive_id: str
    size: int
    folder: str


class Reader:
    """Read access to one backend's tars, for the audit."""

    name = ""

    def owns(self, archive_id: str) -> bool:
        raise NotImplementedError

    def stored(self, pids: list[str] | None) -> Iterator[Stored]:
        """Every tar in storage (only those of ``pids`` when given)."""
        raise NotImplementedError

    def size(self, archive_id: str) -> int:
        """The tar's size in bytes; raises :class:`Missing` or :class:`Cold`."""
        raise NotImplementedError

    def members(self, archive_id: str, alg: str) -> Iterator[Member]:
        """Re-read the tar and hash every member; raises Missing, Cold or Unreadable."""
        raise NotImplementedError


class FilesystemReader(Reader):
    name = "filesystem"

    def __init__(self, storage: Any) -> None:
        self.root = storage.archive_root

    def owns(self, archive_id: str) -> bool:
        return archive_id.startswith("/") and is_within(os.path.realpath(archive_id), self.root)

    def stored(self, pids: list[str] | None) -> Iterator[Stored]:
        folders = [safe_name(p) for p in pids] if pids is not None else _subfolders(self.root)
        for folder in sorted(folders):
            path = os.path.join(self.root, folder)
            try:
                names = sorted(os.listdir(path))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for name in names:
                if name.endswith(".tar") and not name.startswith("."):
                    full = os.path.join(path, name)
                    yield Stored(full, os.path.getsize(full), folder)

    def size(self, archive_id: str) -> int:
        try:
            return os.stat(archive_id).st_size
        except FileNotFoundError as exc:
            raise Missing(f"{archive_id} does not exist") from exc

    def members(self, archive_id: str, alg: str) -> Iterator[Member]:
        if not os.path.exists(archive_id):
            raise Missing(f"{archive_id} does not exist")
        try:
            for info, digest in read_tar(archive_id, alg):
                if info.isreg() or info.issym():
                    yield Member(info.name, info.size, digest, info.issym())
        except (tarfile.TarError, EOFError, UnicodeError, OSError) as exc:
            raise Unreadable(f"{archive_id} cannot be read as a tar: {exc}") from exc


def _subfolders(root: str) -> list[str]:
    try:
        return [e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith(".")]
    except FileNotFoundError:
        return []


class S3Reader(Reader):
    name = "s3"

    def __init__(self, storage: Any) -> None:
        self.storage = storage

    def owns(self, archive_id: str) -> bool:
        prefix = f"s3://{self.storage.bucket}/{self.storage.prefix}"
        return archive_id.startswith(prefix)

    def _key(self, archive_id: str) -> str:
        return archive_id[len(f"s3://{self.storage.bucket}/") :]

    def stored(self, pids: list[str] | None) -> Iterator[Stored]:
        wanted = None if pids is None else {safe_name(p) for p in pids}
        prefix = self.storage.prefix
        for item in self.storage.list_objects():
            key = str(item["Key"])
            folder = key[len(prefix) :].split("/", 1)[0]
            if key.endswith(".tar") and (wanted is None or folder in wanted):
                yield Stored(self.storage.archive_id(key), int(item.get("Size") or 0), folder)

    def _head(self, archive_id: str) -> dict[str, Any]:
        head = self.storage.head(self._key(archive_id))
        if head is None:
            raise Missing(f"{archive_id} does not exist")
        return cast("dict[str, Any]", head)

    def size(self, archive_id: str) -> int:
        return int(self._head(archive_id).get("ContentLength") or 0)

    def members(self, archive_id: str, alg: str) -> Iterator[Member]:
        from archiver.storage.s3 import restore_state
        from archiver.storage.s3_client import is_missing, s3_failures, storage_error

        head = self._head(archive_id)
        if restore_state(head) != "ready":
            raise Cold(f"{archive_id} is in {head.get('StorageClass')} and not restored")
        storage = self.storage
        try:
            body = storage.client.get_object(Bucket=storage.bucket, Key=self._key(archive_id))
        except s3_failures() as exc:
            if is_missing(exc):
                raise Missing(f"{archive_id} does not exist") from exc
            raise storage_error(exc, f"reading {archive_id}", storage.bucket) from exc
        stream = body["Body"]
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                for info in tar:
                    if info.issym():
                        yield Member(info.name, 0, link_digest(alg, info.linkname), True)
                    elif info.isreg():
                        yield Member(info.name, info.size, _hash(tar, info, alg))
        except (tarfile.TarError, EOFError, UnicodeError) as exc:
            raise Unreadable(f"{archive_id} cannot be read as a tar: {exc}") from exc
        except s3_failures() as exc:
            raise storage_error(exc, f"reading {archive_id}", storage.bucket) from exc
        finally:
            stream.close()


def _hash(tar: tarfile.TarFile, info: tarfile.TarInfo, alg: str) -> str:
    digest = hashlib.new(alg)
    source = tar.extractfile(info)
    if source is None:
        raise tarfile.ReadError(f"{info.name}: no data")
    while chunk := source.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def readers_for(storage: Storage) -> list[Reader]:
    """The readers of a configured storage (a routing storage: of each of its backends)."""
    from archiver.storage.filesystem import FilesystemStorage
    from archiver.storage.s3 import S3Storage

    backends = getattr(storage, "backends", None)
    if isinstance(backends, dict):
        return [r for b in backends.values() for r in readers_for(b)]
    if isinstance(storage, FilesystemStorage):
        return [FilesystemReader(storage)]
    if isinstance(storage, S3Storage):
        return [S3Reader(storage)]
    raise ConfigError(
        f"ARCHIVER_STORAGE={storage.name}: nothing to audit (only filesystem, s3 and "
        "routing storages hold archived data)"
    )
