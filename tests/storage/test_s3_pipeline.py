"""Whole jobs with ``ARCHIVER_STORAGE=s3``: emulator → RabbitMQ → bridge → worker → moto.

Archive then retrieve real files through the pipeline, one tar per task run (budget 0 s),
and the bytes that come back equal the dataset's; a cold (GLACIER) archive is retrieved
after its restore, the step continuing in new task runs while the restore is under way.
"""

from __future__ import annotations

from .conftest import tree
from .s3_server import restore_after
from .test_pipeline_filesystem import seed_dataset, submit


def s3_options(s3_settings, **extra):
    names = (
        "storage",
        "s3_endpoint_url",
        "s3_bucket",
        "s3_prefix",
        "retrieve_root",
        "source_path_map",
        "tar_max_bytes",
        "s3_part_bytes",
        "s3_restore_poll_seconds",
    )
    return {name: getattr(s3_settings, name) for name in names} | extra


def test_archive_and_retrieve_through_s3(pipeline_factory, roots, s3_settings):
    pipe = pipeline_factory(**s3_options(s3_settings, step_max_seconds=0.0))
    pid = seed_dataset(pipe, roots)
    job = pipe.wait_finished(submit(pipe, "archive", [pid]))
    assert job["statusCode"] == "finishedSuccessful", job
    blocks = pipe.emulator.datablocks(pid)
    assert len(blocks) >= 3 and all(b["archiveId"].startswith("s3://") for b in blocks)
    job = pipe.wait_finished(submit(pipe, "retrieve", [pid]))
    assert job["statusCode"] == "finishedSuccessful", job
    assert pipe.lifecycle(pid)["retrieveIntegrityCheck"] is True
    target = roots["retrieve"] / job["id"] / pid.replace("/", "%2F")
    assert tree(target) == tree(roots["data"] / "ds")


def test_a_glacier_archive_is_retrieved_after_its_restore(
    pipeline_factory, roots, s3_settings, moto_server
):
    options = s3_options(s3_settings, s3_storage_class="GLACIER", step_max_seconds=0.0)
    pipe = pipeline_factory(**options)
    pid = seed_dataset(pipe, roots)
    job = pipe.wait_finished(submit(pipe, "archive", [pid]))
    assert job["statusCode"] == "finishedSuccessful", job
    restore_after(moto_server, 3)
    try:
        job = pipe.wait_finished(submit(pipe, "retrieve", [pid]))
    finally:
        restore_after(moto_server, None)
    assert job["statusCode"] == "finishedSuccessful", job
    target = roots["retrieve"] / job["id"] / pid.replace("/", "%2F")
    assert tree(target) == tree(roots["data"] / "ds")
