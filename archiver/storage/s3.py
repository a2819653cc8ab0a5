"""The ``s3`` storage: one tar object per DataBlock in an S3-compatible bucket.

Object layout (see ``docs/storage.md``)::

    s3://<ARCHIVER_S3_BUCKET>/<ARCHIVER_S3_PREFIX><pid, percent-encoded>/block-00000.tar
                                                                       block-00000.tar.json

``block-N.tar`` is the tar the filesystem backend would write, streamed with a multipart
upload (:mod:`archiver.storage.s3_upload`) in ``ARCHIVER_S3_STORAGE_CLASS``; its DataBlock's
``archiveId`` is its ``s3://`` URL and ``dataFileList`` has every file's checksum. After the
upload the object's checksums (composite SHA-256 and multipart ETag) are compared with the
ones computed while streaming. ``block-N.tar.json`` (always STANDARD, so it is readable
without a restore) holds the DataBlock and the object's ETag and checksum: a repeated step
finds a tar whose manifest matches the planned files and whose object still has that ETag and
size, and keeps it (idempotent on redelivery); any other tar is uploaded again.

Retrieval first makes sure every object of the dataset is readable: a GLACIER/DEEP_ARCHIVE
object gets a restore request (``ARCHIVER_S3_RESTORE_DAYS``, ``ARCHIVER_S3_RESTORE_TIER``);
while any restore is under way the step checks every ``ARCHIVER_S3_RESTORE_POLL_SECONDS``
and, once its time budget is used, raises :class:`~archiver.storage.work.ContinueLater`, so
it goes on in a new task run like the long steps do. Each object is then downloaded to a
temporary file under the retrieve root's ``.archiver`` folder and restored with the
filesystem backend's safe restore code (every file checked against the DataBlock), into
``<ARCHIVER_RETRIEVE_ROOT>/<job id>/<pid>/`` or ``<destinationPath>/<pid>/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tarfile
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, cast

from archiver.errors import ConfigError, PermanentStorageError, TransientStorageError
from archiver.settings import Settings
from archiver.storage import sources, tarblocks, work
from archiver.storage.base import ArchivedBlock, Discarded, RetrievedBlock, Storage
from archiver.storage.folders import NEW_FILE, Target, discard_parts, retrieval_target
from archiver.storage.paths import safe_name
from archiver.storage.restore import (
    check_restored,
    restore_blocks,
    restore_tar,
    restored_before,
    state_folder,
)
from archiver.storage.s3_client import is_missing, make_client, s3_failures, storage_error
from archiver.storage.s3_upload import SourceChanged, Uploaded, upload_tar
from archiver.storage.tarpack import CHUNK, Member

#: Packing-format version written into every DataBlock (``version``).
VERSION = "scicat-archiver-s3tar/1"
#: Storage classes whose objects must be restored before they can be read.
COLD_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
MANIFEST_SUFFIX = ".json"


def parse_archive_id(archive_id: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> ``(bucket, key)``; anything else is a permanent error."""
    if not archive_id.startswith("s3://") or "/" not in archive_id[5:]:
        raise PermanentStorageError(f"DataBlock {archive_id} is not an s3:// object")
    bucket, _, key = archive_id[5:].partition("/")
    return bucket, key


def restore_state(head: Mapping[str, Any]) -> str:
    """``"ready"``, ``"cold"`` (needs a restore request) or ``"restoring"``."""
    if str(head.get("StorageClass") or "STANDARD") not in COLD_CLASSES:
        return "ready"
    restore = str(head.get("Restore") or "")
    if not restore:
        return "cold"
    return "restoring" if 'ongoing-request="true"' in restore else "ready"


class S3Storage(Storage):
    """Archive to tar objects in a bucket; retrieve into per-job folders."""

    name = "s3"

    def __init__(self, settings: Settings) -> None:
        if not settings.retrieve_root:
            raise ConfigError(
                "ARCHIVER_STORAGE=s3 needs ARCHIVER_RETRIEVE_ROOT (an absolute folder): "
                "retrievals land there"
            )
        self.client = make_client(settings)
        self.bucket = str(settings.s3_bucket)
        prefix = settings.s3_prefix.strip("/")
        self.prefix = f"{prefix}/" if prefix else ""
        self.storage_class = settings.s3_storage_class
        self.part_bytes = settings.s3_part_bytes
        self.restore_days = settings.s3_restore_days
        self.restore_tier = settings.s3_restore_tier
        self.poll_seconds = settings.s3_restore_poll_seconds
        self.retrieve_root = os.path.realpath(settings.retrieve_root)
        self.allowed_roots = (self.retrieve_root, *settings.retrieve_allowed_roots)
        self.path_map = settings.source_path_map
        self.roots = sources.source_roots(settings)
        self.alg = settings.checksum
        self.max_bytes = settings.tar_max_bytes
        self.max_files = settings.block_max_files

    # -- naming ----------------------------------------------------------------------------
    def key(self, pid: str, index: int) -> str:
        return f"{self.prefix}{safe_name(pid)}/block-{index:05d}.tar"

    def archive_id(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _call(self, what: str, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, method)(**kwargs)
        except s3_failures() as exc:
            raise storage_error(exc, what, self.bucket) from exc

    def head(self, key: str) -> dict[str, Any] | None:
        """The object's metadata (with its checksum), or ``None`` when it does not exist."""
        try:
            return cast(
                "dict[str, Any] | None",
                self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED"),
            )
        except s3_failures() as exc:
            if is_missing(exc):
                return None
            raise storage_error(exc, f"reading s3://{self.bucket}/{key}", self.bucket) from exc

    def read_manifest(self, key: str) -> dict[str, Any] | None:
        """The manifest stored beside tar ``key``, or ``None`` if absent or unreadable."""
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key + MANIFEST_SUFFIX)
            manifest = json.loads(answer["Body"].read())
        except s3_failures() as exc:
            if is_missing(exc):
                return None
            raise storage_error(exc, f"reading {key}{MANIFEST_SUFFIX}", self.bucket) from exc
        except ValueError:
            return None
        return manifest if isinstance(manifest, dict) else None

    # -- archive ---------------------------------------------------------------------------
    def archive(
        self, dataset: Mapping[str, Any], origdatablocks: Iterable[Mapping[str, Any]]
    ) -> Iterator[ArchivedBlock]:
        pid = str(dataset["pid"])
        members = sources.dataset_members(dataset, origdatablocks, self.path_map, self.roots)
        blocks = sources.plan_blocks(members, self.max_bytes, self.max_files)
        yield from tarblocks.archive_blocks(
            pid,
            blocks,
            lambda index, block: self._existing(self.key(pid, index), block),
            lambda index, block, done, total: self._upload(
                pid, self.key(pid, index), block, done, total
            ),
            "uploaded",
        )

    def _existing(self, key: str, block: list[Member]) -> dict[str, Any] | None:
        """The DataBlock of an uploaded, verified tar that matches ``block``."""
        manifest = self.read_manifest(key)
        if manifest is None:
            return None
        body = manifest.get("block")
        if not tarblocks.matches_plan(body, block, self.alg):
            return None
        head = self.head(key)
        if head is None or not self._matches(head, manifest.get("object") or {}):
            return None
        return body

    @staticmethod
    def _matches(head: Mapping[str, Any], expected: Mapping[str, Any]) -> bool:
        """Does the object S3 describes carry the size and checksums we uploaded?"""
        if int(head.get("ContentLength") or -1) != int(expected.get("size") or -2):
            return False
        reported = str(head.get("ChecksumSHA256") or "")
        if reported:
            # S3 writes a composite checksum as "<base64>-<parts>"; some services omit "-N"
            if reported.split("-")[0] != expected.get("checksumSHA256"):
                return False
        return str(head.get("ETag") or "") == expected.get("etag")

    def _upload(
        self, pid: str, key: str, block: list[Member], done: int, total: int
    ) -> dict[str, Any]:
        packed = tarblocks.packing_progress(pid, done, total)
        self._abort_stale_uploads(key)
        where = self.archive_id(key)
        try:
            uploaded = upload_tar(
                self.client,
                self.bucket,
                key,
                block,
                self.alg,
                self.part_bytes,
                self.storage_class,
                packed,
            )
        except (FileNotFoundError, PermissionError) as exc:
            raise work.UserStorageError(f"1 file(s) cannot be archived: {exc}") from exc
        except SourceChanged as exc:
            raise TransientStorageError(f"uploading {where}: {exc}") from exc
        except s3_failures() as exc:
            raise storage_error(exc, f"uploading {where}", self.bucket) from exc
        self._verify(key, uploaded)
        body = tarblocks.datablock(where, block, uploaded.sums, uploaded.size, self.alg, VERSION)
        manifest = {
            "format": VERSION,
            "object": {
                "size": uploaded.size,
                "etag": uploaded.etag,
                "checksumSHA256": uploaded.checksum_sha256,
                "parts": uploaded.parts,
                "storageClass": self.storage_class,
            },
            "block": body,
        }
        text = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
        self._call(
            f"writing {where}{MANIFEST_SUFFIX}",
            "put_object",
            Bucket=self.bucket,
            Key=key + MANIFEST_SUFFIX,
            Body=text,
            ContentType="application/json",
        )
        return body

    def _verify(self, key: str, uploaded: Uploaded) -> None:
        """Compare the object's own checksum and ETag with what was streamed."""
        head = self.head(key)
        expected = {
            "size": uploaded.size,
            "etag": uploaded.etag,
            "checksumSHA256": uploaded.checksum_sha256,
        }
        if head is None or not self._matches(head, expected):
            with contextlib.suppress(*s3_failures()):
                self.client.delete_object(Bucket=self.bucket, Key=key)
            raise TransientStorageError(
                f"{self.archive_id(key)}: the object's checksum differs from the uploaded "
                "bytes; will upload again"
            )

    def _abort_stale_uploads(self, key: str) -> None:
        """Abort unfinished multipart uploads of ``key`` (left by a killed worker)."""
        answer = self._call(
            f"listing uploads of {self.archive_id(key)}",
            "list_multipart_uploads",
            Bucket=self.bucket,
            Prefix=key,
        )
        for upload in answer.get("Uploads") or ():
            if upload.get("Key") == key:
                with contextlib.suppress(*s3_failures()):
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=key, UploadId=upload["UploadId"]
                    )

    # -- retrieve --------------------------------------------------------------------------
    def retrieve(
        self,
        dataset: Mapping[str, Any],
        datablocks: Iterable[Mapping[str, Any]],
        destination: str | None,
    ) -> list[RetrievedBlock]:
        pid = str(dataset["pid"])
        job_id = work.current().job_id
        target = retrieval_target(pid, job_id, destination, self.retrieve_root, self.allowed_roots)
        state = state_folder(self.retrieve_root, job_id, pid)
        blocks = sorted(datablocks, key=lambda b: str(b.get("archiveId")))
        todo = [b for b in blocks if restored_before(state, str(b.get("archiveId"))) is None]
        self._await_readable(pid, todo)

        def one(archive_id: str, target: Target, block: Mapping[str, Any]) -> list[str]:
            return self._restore(archive_id, target, block, state)

        return restore_blocks(pid, blocks, target, state, one)

    def discard_parts(self, pid: str, job_id: str, destination: str | None) -> Discarded:
        return discard_parts(pid, job_id, destination, self.retrieve_root, self.allowed_roots)

    def forget_job(self, job_id: str) -> None:
        """Remove the job's retrieval markers and temporary downloads."""
        tarblocks.forget_retrievals(self.retrieve_root, job_id)

    def _own_key(self, archive_id: str) -> str:
        bucket, key = parse_archive_id(archive_id)
        if bucket != self.bucket or not key.startswith(self.prefix):
            raise PermanentStorageError(
                f"DataBlock {archive_id} is not in s3://{self.bucket}/{self.prefix}"
            )
        return key

    def _await_readable(self, pid: str, blocks: list[Mapping[str, Any]]) -> None:
        """Request restores of cold objects and wait for them within the step's budget."""
        keys = [self._own_key(str(b.get("archiveId"))) for b in blocks]
        while True:
            waiting = 0
            for key in keys:
                head = self.head(key)
                if head is None:
                    raise PermanentStorageError(f"{self.archive_id(key)} does not exist")
                status = restore_state(head)
                if status == "cold":
                    self._request_restore(key)
                if status != "ready":
                    waiting += 1
            if not waiting:
                return
            work.report("Restoring from cold storage", pid, len(keys) - waiting, len(keys))
            if work.out_of_time():
                raise work.ContinueLater(
                    f"{pid}: waiting for {waiting} of {len(keys)} object(s) to be restored"
                )
            deadline = work.current().deadline
            pause = self.poll_seconds
            if deadline is not None:
                pause = max(0.0, min(pause, deadline - time.monotonic()))
            time.sleep(pause)

    def _request_restore(self, key: str) -> None:
        try:
            self.client.restore_object(
                Bucket=self.bucket,
                Key=key,
                RestoreRequest={
                    "Days": self.restore_days,
                    "GlacierJobParameters": {"Tier": self.restore_tier},
                },
            )
        except s3_failures() as exc:
            from archiver.storage.s3_client import error_code

            if error_code(exc) == "RestoreAlreadyInProgress":
                return
            raise storage_error(exc, f"restoring {self.archive_id(key)}", self.bucket) from exc

    def _restore(
        self, archive_id: str, target: Target, block: Mapping[str, Any], state: str
    ) -> list[str]:
        key = self._own_key(archive_id)
        temp = os.path.join(state, "download.tar.part")
        try:
            self._download(key, temp, int(block.get("packedSize") or -1))
            try:
                restored = restore_tar(temp, target, block)
            except PermanentStorageError:
                raise
            except (tarfile.TarError, EOFError, UnicodeError) as exc:
                raise PermanentStorageError(f"{archive_id} is damaged: {exc}") from exc
            except OSError as exc:
                raise TransientStorageError(f"restoring {archive_id}: {exc}") from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
        return check_restored(archive_id, restored)

    def _download(self, key: str, path: str, expected_size: int) -> None:
        where = self.archive_id(key)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
            with os.fdopen(os.open(path, NEW_FILE, 0o600), "wb") as out:
                for chunk in answer["Body"].iter_chunks(CHUNK):
                    out.write(chunk)
                size = out.tell()
        except s3_failures() as exc:
            if is_missing(exc):
                raise PermanentStorageError(f"{where} does not exist") from exc
            raise storage_error(exc, f"downloading {where}", self.bucket) from exc
        if expected_size >= 0 and size != expected_size:
            raise PermanentStorageError(
                f"{where} has {size} bytes, the DataBlock says packedSize {expected_size}"
            )

    # -- listing (audit) -------------------------------------------------------------------
    def list_objects(self) -> Iterator[dict[str, Any]]:
        """Every tar object under the prefix (manifests left out): key, size, ETag."""
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents") or ():
                    if not str(item["Key"]).endswith(MANIFEST_SUFFIX):
                        yield item
        except s3_failures() as exc:
            raise storage_error(
                exc, f"listing s3://{self.bucket}/{self.prefix}", self.bucket
            ) from exc
