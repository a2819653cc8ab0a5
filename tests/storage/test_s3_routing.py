"""The routing storage: each dataset archived to the storage its storageLocation names
(a filesystem root and an S3 bucket here), through the whole pipeline; a bad table is a
configuration error naming the setting; an unknown location is a user error of the dataset."""

from __future__ import annotations

import json

import pytest

from archiver.errors import ConfigError
from archiver.settings import Settings
from archiver.storage import get_storage, work

from .conftest import tree
from .test_pipeline_filesystem import seed_dataset, submit


def write_table(tmp_path, s3_settings, roots, default="nas"):
    table = {
        "default": default,
        "storages": {
            "nas": {"backend": "filesystem", "settings": {"archive_root": str(roots["archive"])}},
            "cold": {
                "backend": "s3",
                "settings": {
                    "ARCHIVER_S3_ENDPOINT_URL": s3_settings.s3_endpoint_url,
                    "ARCHIVER_S3_BUCKET": s3_settings.s3_bucket,
                    "s3_prefix": "cold",
                },
            },
        },
    }
    path = tmp_path / "storages.json"
    path.write_text(json.dumps(table))
    return path


def routing_options(path, roots, **extra):
    return {
        "storage": "routing",
        "storage_table": str(path),
        "retrieve_root": str(roots["retrieve"]),
        "source_path_map": (("/scicat/data", str(roots["data"])),),
        "tar_max_bytes": 200_000,
        **extra,
    }


def test_datasets_of_one_job_are_archived_where_their_location_says(
    pipeline_factory, roots, s3_settings, tmp_path
):
    path = write_table(tmp_path, s3_settings, roots)
    pipe = pipeline_factory(**routing_options(path, roots))
    nas = seed_dataset(pipe, roots, "on-nas")
    cold = seed_dataset(pipe, roots, "on-s3")
    plain = seed_dataset(pipe, roots, "no-location")
    lost = seed_dataset(pipe, roots, "lost")
    store = pipe.emulator._app.store
    with store.lock:
        store.datasets[nas]["datasetlifecycle"]["storageLocation"] = "nas"
        store.datasets[cold]["datasetlifecycle"]["storageLocation"] = "cold"
        store.datasets[lost]["datasetlifecycle"]["storageLocation"] = "tape"
    job = pipe.wait_finished(submit(pipe, "archive", [nas, cold, plain, lost]))
    assert job["statusCode"] == "finishedWithDatasetErrors", job
    [error] = job["jobResultObject"]["errors"]
    assert error["pid"] == lost and "storage location 'tape'" in error["message"]
    assert "known: cold, nas" in error["message"]
    assert pipe.emulator.datablocks(lost) == []
    bucket = s3_settings.s3_bucket
    for pid in (nas, plain):
        ids = [b["archiveId"] for b in pipe.emulator.datablocks(pid)]
        assert ids and all(i.startswith(str(roots["archive"])) for i in ids)
    ids = [b["archiveId"] for b in pipe.emulator.datablocks(cold)]
    assert ids and all(i.startswith(f"s3://{bucket}/cold/") for i in ids)

    job = pipe.wait_finished(submit(pipe, "retrieve", [nas, cold, plain]))
    assert job["statusCode"] == "finishedSuccessful", job
    for pid, folder in ((nas, "on-nas"), (cold, "on-s3"), (plain, "no-location")):
        target = roots["retrieve"] / job["id"] / pid.replace("/", "%2F")
        assert tree(target) == tree(roots["data"] / folder)


def test_an_unknown_location_is_a_user_error_naming_the_choices(s3_settings, roots, tmp_path):
    path = write_table(tmp_path, s3_settings, roots, default=None)
    storage = get_storage(Settings(**routing_options(path, roots)))
    dataset = {"pid": "p", "datasetlifecycle": {"storageLocation": "tape"}}
    with pytest.raises(work.UserStorageError, match="'tape'.*known: cold, nas") as failed:
        list(storage.archive(dataset, []))
    assert failed.value.kind == "user"
    with pytest.raises(work.UserStorageError, match="no default"):
        list(storage.archive({"pid": "p", "datasetlifecycle": {}}, []))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (None, "cannot be read"),
        ("not: [valid", "not valid"),
        ({"storages": {}}, "'storages' is empty"),
        ({"storages": {"a": {"backend": "tape"}}}, "storage 'a' needs 'backend'"),
        ({"storages": {"a": {"backend": "filesystem", "settings": {"x": 1}}}}, "'x' is not"),
        (
            {"storages": {"a": {"backend": "filesystem", "settings": {"checksum": "crc"}}}},
            "ARCHIVER_CHECKSUM must be one of",
        ),
        ({"default": "b", "storages": {"a": {"backend": "filesystem"}}}, "default 'b'"),
    ],
)
def test_a_bad_table_is_a_config_error_naming_the_setting(tmp_path, roots, table, message):
    path = tmp_path / "storages.yaml"
    if table is not None:
        path.write_text(table if isinstance(table, str) else json.dumps(table))
    options = routing_options(path, roots, archive_root=str(roots["archive"]))
    with pytest.raises(ConfigError, match="ARCHIVER_STORAGE_TABLE") as failed:
        get_storage(Settings(**options))
    assert message in str(failed.value)
