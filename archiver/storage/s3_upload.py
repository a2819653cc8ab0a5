"""Streaming a tar of dataset files into one S3 object with a multipart upload.

The tar is byte for byte what the filesystem backend writes (POSIX pax headers from
:meth:`~archiver.storage.tarpack.Member.header`, data padded to 512 bytes, two zero blocks
and padding to the record size), but it never exists on local disk: it is cut into parts of
``part_bytes`` held in memory, each part is uploaded (in a helper thread, while the next part
is packed) with its SHA-256 so the service checks what it received, and every file's checksum
is computed from the same bytes on the way.

After completion the object's own checksums are compared with the ones computed here: the
composite SHA-256 (SHA-256 of the parts' SHA-256 digests, what S3 reports as the object's
``ChecksumSHA256`` for a multipart upload) and the ETag of a multipart upload (MD5 of the
parts' MD5 digests, ``-`` and the part count). A difference deletes the object and is a
transient error (the step writes it again).
"""

from __future__ import annotations

import base64
import hashlib
import math
import tarfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from archiver.storage.tarpack import CHUNK, Member, link_digest, open_source

#: Smallest part S3 accepts (except the last one).
MIN_PART = 5 * 1024**2
#: Most parts of one multipart upload.
MAX_PARTS = 10_000
_ZEROS = bytes(tarfile.RECORDSIZE)


@dataclass(frozen=True)
class Uploaded:
    """What was uploaded: per-member checksums and the object's expected identity."""

    sums: list[str]
    size: int
    etag: str
    checksum_sha256: str
    parts: int


class SourceChanged(OSError):
    """A source file got shorter while it was being uploaded."""


def part_size(planned: int, wanted: int) -> int:
    """The part size for a tar of about ``planned`` bytes: ``wanted``, at least 5 MiB, and
    large enough to stay under S3's 10 000 parts."""
    return max(MIN_PART, wanted, math.ceil(planned / (MAX_PARTS - 1)))


def composite_sha256(digests: list[bytes]) -> str:
    """S3's composite checksum of a multipart object: base64 SHA-256 of the part digests."""
    return base64.b64encode(hashlib.sha256(b"".join(digests)).digest()).decode()


def multipart_etag(md5s: list[bytes]) -> str:
    return f'"{hashlib.md5(b"".join(md5s), usedforsecurity=False).hexdigest()}-{len(md5s)}"'


class _PartWriter:
    """Buffers the tar stream and uploads it part by part, one upload in flight."""

    def __init__(self, client: Any, bucket: str, key: str, upload_id: str, size: int) -> None:
        self.client, self.bucket, self.key, self.upload_id = client, bucket, key, upload_id
        self.size = size
        self.buffer = bytearray()
        self.parts: list[dict[str, Any]] = []
        self.sha256s: list[bytes] = []
        self.md5s: list[bytes] = []
        self.total = 0
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="s3-part")
        self.pending: Future[dict[str, Any]] | None = None

    def write(self, data: bytes | memoryview) -> None:
        self.buffer += data
        self.total += len(data)
        while len(self.buffer) >= self.size:
            chunk = bytes(self.buffer[: self.size])
            del self.buffer[: self.size]
            self._send(chunk)

    def _send(self, chunk: bytes) -> None:
        number = len(self.sha256s) + 1
        sha = hashlib.sha256(chunk).digest()
        self.sha256s.append(sha)
        self.md5s.append(hashlib.md5(chunk, usedforsecurity=False).digest())
        self._wait()
        self.pending = self.pool.submit(self._upload, number, chunk, sha)

    def _upload(self, number: int, chunk: bytes, sha: bytes) -> dict[str, Any]:
        checksum = base64.b64encode(sha).decode()
        answer = self.client.upload_part(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=chunk,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=checksum,
        )
        return {"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": checksum}

    def _wait(self) -> None:
        if self.pending is not None:
            self.parts.append(self.pending.result())
            self.pending = None

    def finish(self) -> None:
        if self.buffer or not self.sha256s:
            chunk = bytes(self.buffer)
            self.buffer.clear()
            self._send(chunk)
        self._wait()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def upload_tar(
    client: Any,
    bucket: str,
    key: str,
    members: list[Member],
    alg: str,
    wanted_part: int,
    storage_class: str,
    progress: Callable[[int], None],
) -> Uploaded:
    """Upload ``members`` as one tar object at ``key``; return what S3 must now report.

    Raises botocore errors as they come (the caller classifies them); on any failure the
    multipart upload is aborted, so no partial object is left behind.
    """
    planned = sum(m.packed_size() for m in members) + 2 * tarfile.BLOCKSIZE
    extra = {} if storage_class == "STANDARD" else {"StorageClass": storage_class}
    started = client.create_multipart_upload(
        Bucket=bucket,
        Key=key,
        ChecksumAlgorithm="SHA256",
        ContentType="application/x-tar",
        **extra,
    )
    upload_id = started["UploadId"]
    writer = _PartWriter(client, bucket, key, upload_id, part_size(planned, wanted_part))
    sums: list[str] = []
    try:
        try:
            for member in members:
                header = member.header()
                writer.write(header)
                if member.link is not None:
                    sums.append(link_digest(alg, member.link))
                    continue
                sums.append(_stream_file(member, alg, writer))
                writer.write(_ZEROS[: -member.size % tarfile.BLOCKSIZE])
                progress(member.size)
            end = 2 * tarfile.BLOCKSIZE
            end += -(writer.total + end) % tarfile.RECORDSIZE
            writer.write(_ZEROS[:end])
            writer.finish()
        finally:
            writer.close()
        client.complete_multipart_upload(
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": writer.parts},
        )
    except BaseException:
        try:
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except Exception:  # noqa: BLE001 - the original error is the one to report
            pass
        raise
    return Uploaded(
        sums,
        writer.total,
        multipart_etag(writer.md5s),
        composite_sha256(writer.sha256s),
        len(writer.sha256s),
    )


def _stream_file(member: Member, alg: str, writer: _PartWriter) -> str:
    digest = hashlib.new(alg)
    left = member.size
    with open_source(member.local) as source:
        while left > 0:
            chunk = source.read(min(CHUNK, left))
            if not chunk:
                raise SourceChanged(f"{member.path} got shorter while being archived")
            digest.update(chunk)
            writer.write(chunk)
            left -= len(chunk)
    return digest.hexdigest()
