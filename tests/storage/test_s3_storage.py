"""The s3 storage against a real S3 API (moto's server on loopback): archive, verify,
retrieve, cold restores, redelivery and how errors are classified."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile

import pytest

from archiver.errors import PermanentStorageError, TransientStorageError
from archiver.storage import get_storage, s3_upload, work
from archiver.storage.s3 import VERSION, parse_archive_id

from .conftest import make_dataset, origdatablocks, tree
from .s3_server import restore_after, s3_client

PID = "PID.TEST/ds 1"


def archive(settings, roots, folder="ds", paths=None):
    if paths is None:
        paths = make_dataset(roots["data"] / folder)
    dataset = {"pid": PID, "sourceFolder": f"/scicat/data/{folder}"}
    storage = get_storage(settings)
    return storage, dataset, [b.body for b in storage.archive(dataset, origdatablocks(paths))]


def object_bytes(settings, archive_id) -> bytes:
    bucket, key = parse_archive_id(archive_id)
    return s3_client(settings.s3_endpoint_url).get_object(Bucket=bucket, Key=key)["Body"].read()


def damage_alpha(settings, blocks) -> dict:
    """Overwrite ``sub/a.txt`` inside its object; return that block."""
    small = next(b for b in blocks if any(f["path"] == "sub/a.txt" for f in b["dataFileList"]))
    data = bytearray(object_bytes(settings, small["archiveId"]))
    offset = bytes(data).index(b"alpha\n")
    data[offset : offset + 5] = b"ALPHA"
    bucket, key = parse_archive_id(small["archiveId"])
    s3_client(settings.s3_endpoint_url).put_object(Bucket=bucket, Key=key, Body=bytes(data))
    return small


def test_a_folder_is_archived_to_objects_and_restored_byte_for_byte(s3_settings, roots):
    storage, dataset, blocks = archive(s3_settings, roots)
    assert len(blocks) >= 3
    for body in blocks:
        assert body["archiveId"].startswith(f"s3://{s3_settings.s3_bucket}/archive/PID.TEST%2F")
        assert body["version"] == VERSION and body["chkAlg"] == "sha256"
        data = object_bytes(s3_settings, body["archiveId"])
        assert body["packedSize"] == len(data)
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            assert tar.getnames() == [f["path"] for f in body["dataFileList"]]
    files = {f["path"]: f for b in blocks for f in b["dataFileList"]}
    assert files["sub/a.txt"]["chk"] == hashlib.sha256(b"alpha\n").hexdigest()
    assert files["sub/link-to-a"]["perm"].startswith("l")
    with work.step_run(job_id="job-1"):
        restored = storage.retrieve(dataset, blocks, None)
    target = roots["retrieve"] / "job-1" / "PID.TEST%2Fds%201"
    assert tree(target) == tree(roots["data"] / "ds")
    assert all(r.verified and r.location == str(target) for r in restored)
    assert not any((roots["retrieve"] / ".archiver").rglob("*.part"))


def test_the_object_is_the_tar_the_filesystem_backend_writes(s3_settings, roots):
    _, _, s3_blocks = archive(s3_settings, roots)
    fs = s3_settings.replace(storage="filesystem", archive_root=str(roots["archive"]))
    fs_storage = get_storage(fs)
    dataset = {"pid": PID, "sourceFolder": "/scicat/data/ds"}
    paths = [f["path"] for b in s3_blocks for f in b["dataFileList"]]
    fs_blocks = [b.body for b in fs_storage.archive(dataset, origdatablocks(paths))]
    assert len(fs_blocks) == len(s3_blocks)
    for fs_body, s3_body in zip(fs_blocks, s3_blocks, strict=True):
        with open(fs_body["archiveId"], "rb") as tar:
            assert object_bytes(s3_settings, s3_body["archiveId"]) == tar.read()
        assert fs_body["dataFileList"] == s3_body["dataFileList"]


def test_a_large_tar_goes_up_in_parts_and_its_checksums_are_the_objects(s3_settings, roots):
    folder = roots["data"] / "large"
    folder.mkdir()
    content = os.urandom(12 * 1024**2 + 17)
    (folder / "big.bin").write_bytes(content)
    settings = s3_settings.replace(tar_max_bytes=100 * 1024**2)
    _, _, [body] = archive(settings, roots, folder="large", paths=["big.bin"])
    bucket, key = parse_archive_id(body["archiveId"])
    head = s3_client(settings.s3_endpoint_url).head_object(
        Bucket=bucket, Key=key, ChecksumMode="ENABLED"
    )
    assert head["ETag"].endswith('-3"')  # 5 MiB + 5 MiB + the rest
    data = object_bytes(settings, body["archiveId"])
    parts = [data[i : i + 5 * 1024**2] for i in range(0, len(data), 5 * 1024**2)]
    digests = [hashlib.sha256(p).digest() for p in parts]
    assert head["ChecksumSHA256"].split("-")[0] == s3_upload.composite_sha256(digests)
    assert body["dataFileList"][0]["chk"] == hashlib.sha256(content).hexdigest()


def test_a_redelivered_step_keeps_the_objects_and_replaces_a_changed_one(s3_settings, roots):
    storage, dataset, blocks = archive(s3_settings, roots)
    client = s3_client(s3_settings.s3_endpoint_url)
    stamps = {}
    for body in blocks:
        bucket, key = parse_archive_id(body["archiveId"])
        stamps[key] = client.head_object(Bucket=bucket, Key=key)["ETag"]
    paths = [f["path"] for b in blocks for f in b["dataFileList"]]
    calls = []
    real = s3_upload.upload_tar

    def counting(*args, **kwargs):
        calls.append(args[2])
        return real(*args, **kwargs)

    import archiver.storage.s3 as s3_module

    s3_module.upload_tar = counting
    try:
        assert [b.body for b in storage.archive(dataset, origdatablocks(paths))] == blocks
        assert calls == []
        first_bucket, first_key = parse_archive_id(blocks[0]["archiveId"])
        client.put_object(Bucket=first_bucket, Key=first_key, Body=b"not the tar")
        again = [b.body for b in storage.archive(dataset, origdatablocks(paths))]
    finally:
        s3_module.upload_tar = real
    assert calls == [first_key]
    assert again == blocks
    assert client.head_object(Bucket=first_bucket, Key=first_key)["ETag"] == stamps[first_key]


def test_an_object_whose_checksum_differs_after_upload_is_removed(s3_settings, roots, monkeypatch):
    monkeypatch.setattr(s3_upload, "composite_sha256", lambda digests: "AAAA")
    with pytest.raises(TransientStorageError, match="checksum differs"):
        archive(s3_settings, roots)
    listed = s3_client(s3_settings.s3_endpoint_url).list_objects_v2(Bucket=s3_settings.s3_bucket)
    assert listed.get("KeyCount", 0) == 0


def test_a_cold_object_is_restored_first_and_the_step_continues_later(
    s3_settings, roots, moto_server
):
    settings = s3_settings.replace(s3_storage_class="GLACIER")
    storage, dataset, blocks = archive(settings, roots)
    bucket, key = parse_archive_id(blocks[0]["archiveId"])
    head = s3_client(moto_server).head_object(Bucket=bucket, Key=key)
    assert head["StorageClass"] == "GLACIER"
    restore_after(moto_server, 2)
    try:
        continued = 0
        with work.step_run(job_id="job-cold"):
            for _ in range(10):
                try:
                    with work.budget(0):
                        restored = storage.retrieve(dataset, blocks, None)
                    break
                except work.ContinueLater as exc:
                    continued += 1
                    assert "restored" in str(exc)
            else:
                pytest.fail("the retrieval never got past the restore")
    finally:
        restore_after(moto_server, None)
    assert continued >= 2  # restore requested, then under way
    assert "Restore" in s3_client(moto_server).head_object(Bucket=bucket, Key=key)
    target = roots["retrieve"] / "job-cold" / "PID.TEST%2Fds%201"
    assert tree(target) == tree(roots["data"] / "ds") and len(restored) == len(blocks)


def test_without_a_budget_the_retrieval_waits_for_the_restore(s3_settings, roots, moto_server):
    settings = s3_settings.replace(s3_storage_class="DEEP_ARCHIVE")
    storage, dataset, blocks = archive(settings, roots)
    restore_after(moto_server, 3)
    try:
        with work.step_run(job_id="job-wait"):
            storage.retrieve(dataset, blocks, None)
    finally:
        restore_after(moto_server, None)
    assert tree(roots["retrieve"] / "job-wait" / "PID.TEST%2Fds%201") == tree(roots["data"] / "ds")


def test_a_damaged_object_fails_the_retrieval_check(s3_settings, roots):
    storage, dataset, blocks = archive(s3_settings, roots)
    damage_alpha(s3_settings, blocks)
    with work.step_run(job_id="job-bad"), pytest.raises(PermanentStorageError) as failed:
        storage.retrieve(dataset, blocks, None)
    assert "sub/a.txt: sha256 checksum differs" in str(failed.value)


def test_a_refused_destination_is_a_user_error(s3_settings, roots):
    storage, dataset, blocks = archive(s3_settings, roots)
    with pytest.raises(work.UserStorageError, match="not under an allowed"):
        storage.retrieve(dataset, blocks, str(roots["elsewhere"]))


def test_a_missing_bucket_is_permanent_and_names_the_setting(s3_settings, roots):
    settings = s3_settings.replace(s3_bucket="no-such-bucket-here")
    with pytest.raises(PermanentStorageError, match="ARCHIVER_S3_BUCKET") as failed:
        archive(settings, roots)
    assert not isinstance(failed.value, work.UserStorageError)


def test_an_unreachable_endpoint_is_transient_and_names_the_setting(s3_settings, roots):
    from .s3_server import free_port

    settings = s3_settings.replace(s3_endpoint_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(TransientStorageError, match="ARCHIVER_S3_ENDPOINT_URL"):
        archive(settings, roots)


def test_missing_source_files_are_a_user_error(s3_settings, roots):
    paths = make_dataset(roots["data"] / "ds")
    (roots["data"] / "ds" / "sub" / "a.txt").unlink()
    with pytest.raises(work.UserStorageError, match="sub/a.txt: missing"):
        archive(s3_settings, roots, paths=paths)


@pytest.mark.parametrize(
    ("code", "status", "transient", "names"),
    [
        ("SlowDown", 503, True, ""),
        ("InternalError", 500, True, ""),
        ("RequestTimeout", 400, True, ""),
        ("AccessDenied", 403, False, "AWS_SHARED_CREDENTIALS_FILE"),
        ("NoSuchBucket", 404, False, "ARCHIVER_S3_BUCKET"),
        ("InvalidStorageClass", 400, False, "ARCHIVER_S3_STORAGE_CLASS"),
        ("InvalidArgument", 400, False, ""),
    ],
)
def test_s3_answers_are_classified_like_scicat_answers(code, status, transient, names):
    from botocore.exceptions import ClientError

    from archiver.storage.s3_client import storage_error

    error = ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "PutObject",
    )
    found = storage_error(error, "uploading", "bucket")
    assert isinstance(found, TransientStorageError) is transient
    assert names in str(found)


def test_no_credentials_is_permanent_and_says_where_they_come_from(
    s3_settings, roots, monkeypatch, tmp_path
):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(PermanentStorageError, match="AWS_ACCESS_KEY_ID"):
        archive(s3_settings, roots)


def test_credentials_from_a_shared_credentials_file_are_used(
    s3_settings, roots, monkeypatch, tmp_path
):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    creds = tmp_path / "credentials"
    creds.write_text("[default]\naws_access_key_id = a\naws_secret_access_key = b\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    _, _, blocks = archive(s3_settings, roots)
    assert blocks


def test_s3_restores_refuse_a_planted_symlink_and_keep_no_unverified_file(s3_settings, roots):
    storage, dataset, blocks = archive(s3_settings, roots)
    (roots["retrieve"] / "job-planted").symlink_to(roots["elsewhere"])
    with work.step_run(job_id="job-planted"), pytest.raises(PermanentStorageError, match="symlink"):
        storage.retrieve(dataset, blocks, None)
    assert list(roots["elsewhere"].iterdir()) == []
    small = damage_alpha(s3_settings, blocks)
    with work.step_run(job_id="job-bad"), pytest.raises(PermanentStorageError):
        storage.retrieve(dataset, [small], None)
    target = roots["retrieve"] / "job-bad" / "PID.TEST%2Fds%201"
    assert [p for p in target.rglob("*") if not p.is_dir()] == [], "unverified files left"
