"""Issue #16, case 10: filesystem storage reads and writes only inside its roots, end to end
(emulator → RabbitMQ → bridge → worker, ``ARCHIVER_STORAGE=filesystem``).

Source folders outside the source roots are refused per dataset; a symlink planted at
``<retrieve root>/<job id>`` or ``<allowed root>/x/<pid>`` does not redirect a restore; a
symlink chain in a dataset is not restored leading outside (and is reported); after a
checksum failure no unverified file is left in the retrieval folder, nor are the ``.part``
files an interrupted restore left, whether the dataset fails in the retrieve step or the
chain fails for good (the fail task).
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path
from typing import Any

import pytest

from archiver.scicat import DatasetRef, connect
from archiver.storage.folders import PART_PATTERN, part_name

pytestmark = pytest.mark.faults


@pytest.fixture
def roots(tmp_path: Path) -> dict[str, Path]:
    names = ("data", "archive", "retrieve", "allowed", "outside")
    paths = {name: tmp_path / name for name in names}
    for path in paths.values():
        path.mkdir()
    (paths["outside"] / "passwd").write_text("root:x:0:0\n")
    return paths


def start(pipeline_factory: Any, roots: dict[str, Path], **extra: Any) -> Any:
    return pipeline_factory(
        storage="filesystem",
        archive_root=str(roots["archive"]),
        retrieve_root=str(roots["retrieve"]),
        retrieve_allowed_roots=(str(roots["allowed"]),),
        source_path_map=(("/scicat/data", str(roots["data"])),),
        **extra,
    )


def dataset(
    pipe: Any, roots: dict[str, Path], folder: str, links: dict[str, str] | None = None
) -> str:
    links = links or {}
    src = roots["data"] / folder
    src.mkdir()
    (src / "a.txt").write_text("alpha\n")
    (src / "b.txt").write_text("beta\n")
    for name, target in links.items():
        (src / name).symlink_to(target)
    return seeded(pipe, f"/scicat/data/{folder}", ["a.txt", "b.txt", *links])


def seeded(pipe: Any, source_folder: str, paths: list[str]) -> str:
    pid = pipe.emulator.add_dataset(datasetName="p", sourceFolder=source_folder)
    files = [{"path": p, "size": 1, "time": "2024-01-01T00:00:00Z"} for p in paths]
    pipe.emulator.add_origdatablock(pid, files=files)
    return pid


def run(pipe: Any, job_type: str, pids: list[str], **params: Any) -> dict[str, Any]:
    with connect(pipe.settings) as client:
        refs = [DatasetRef(p) for p in pids]
        job_id = client.create_job(job_type, refs, params=params or None).id
    return pipe.wait_finished(job_id)


def outside_untouched(roots: dict[str, Path]) -> None:
    assert sorted(os.listdir(roots["outside"])) == ["passwd"]


def test_source_folders_outside_the_roots_are_refused_per_dataset(pipeline_factory, roots):
    pipe = start(pipeline_factory, roots)
    good = dataset(pipe, roots, "ds")
    escaping = [
        seeded(pipe, "/etc", ["passwd"]),
        seeded(pipe, "/scicat/data/../../../etc", ["passwd"]),
        seeded(pipe, str(roots["outside"]), ["passwd"]),
    ]
    job = run(pipe, "archive", [good, *escaping])
    assert job["statusCode"] == "finishedWithDatasetErrors", job
    assert pipe.lifecycle(good)["archiveStatusMessage"] == "datasetOnArchiveDisk"
    for pid in escaping:
        life = pipe.lifecycle(pid)
        assert life["archiveStatusMessage"] == "missingFilesError", life
        assert "is not under a source root" in life["archiveReturnMessage"]["message"]
        assert not pipe.emulator.datablocks(pid)
    assert os.listdir(roots["archive"]) == [good.replace("/", "%2F")]


def test_symlinks_planted_at_the_restore_targets_do_not_redirect_the_restore(
    pipeline_factory, roots
):
    pipe = start(pipeline_factory, roots)
    pid = dataset(pipe, roots, "ds")
    assert run(pipe, "archive", [pid])["statusCode"] == "finishedSuccessful"
    # <allowed root>/x/<pid> is a symlink to a folder outside
    (roots["allowed"] / "x").mkdir()
    (roots["allowed"] / "x" / pid.replace("/", "%2F")).symlink_to(roots["outside"])
    job = run(pipe, "retrieve", [pid], destinationPath=str(roots["allowed"] / "x"))
    assert job["statusCode"] == "finishedUnsuccessful", job
    assert "is a symlink" in pipe.lifecycle(pid)["retrieveReturnMessage"]["message"]
    outside_untouched(roots)
    # <retrieve root>/<job id> is a symlink to a folder outside, planted before the job runs
    job_id = pipe.emulator.add_job("retrieve", [pid])
    (roots["retrieve"] / job_id).symlink_to(roots["outside"])
    pipe.emulator._app.publish(pipe.emulator.job(job_id), "create")
    job = pipe.wait_finished(job_id)
    assert job["statusCode"] == "finishedUnsuccessful", job
    outside_untouched(roots)


def test_a_symlink_chain_is_not_restored_leading_outside_and_is_reported(pipeline_factory, roots):
    pipe = start(pipeline_factory, roots)
    chain = {"s1": ".", "s2": ".", "s3": ".", "x": "s1/s2/s3/../../../outside"}
    pid = dataset(pipe, roots, "chain", chain)
    assert run(pipe, "archive", [pid])["statusCode"] == "finishedSuccessful"
    job = run(pipe, "retrieve", [pid])
    assert job["statusCode"] == "finishedSuccessful", job
    target = roots["retrieve"] / job["id"] / pid.replace("/", "%2F")
    assert not (target / "x").is_symlink()
    assert (target / "a.txt").read_text() == "alpha\n"
    [entry] = job["jobResultObject"]["result"]
    assert entry["skippedLinks"] == [
        "x -> s1/s2/s3/../../../outside: resolves outside the dataset; removed"
    ]
    assert pipe.lifecycle(pid)["retrieveReturnMessage"]["skippedLinks"] == entry["skippedLinks"]
    outside_untouched(roots)


def test_after_a_checksum_failure_no_unverified_file_is_left(pipeline_factory, roots):
    pipe = start(pipeline_factory, roots)
    pid = dataset(pipe, roots, "ds")
    assert run(pipe, "archive", [pid])["statusCode"] == "finishedSuccessful"
    [block] = pipe.emulator.datablocks(pid)
    with tarfile.open(block["archiveId"]) as tar:
        offset = tar.getmember("b.txt").offset_data
    with open(block["archiveId"], "r+b") as raw:
        raw.seek(offset)
        raw.write(b"X")
    job = run(pipe, "retrieve", [pid])
    assert job["statusCode"] == "finishedUnsuccessful", job
    assert "b.txt: sha256 checksum differs" in job["statusMessage"]
    target = roots["retrieve"] / job["id"] / pid.replace("/", "%2F")
    assert [p for p in target.rglob("*") if not p.is_dir()] == [], "unverified files left"


def flip_a_byte(pipe: Any, pid: str, member: str) -> None:
    [block] = pipe.emulator.datablocks(pid)
    with tarfile.open(block["archiveId"]) as tar:
        offset = tar.getmember(member).offset_data
    with open(block["archiveId"], "r+b") as raw:
        raw.seek(offset)
        raw.write(b"X")


def plant_leftovers(target: Path, beyond: Path) -> list[str]:
    """``.part`` files as a killed worker leaves them (names no tar of this dataset uses), a
    ``.part`` symlink to a file outside and a symlinked folder leading to another ``.part``;
    returns the paths that must be removed."""
    (target / "sub").mkdir(parents=True)
    beyond.mkdir()
    (beyond / part_name("theirs")).write_text("not ours\n")
    planted = [target / part_name("old/a.txt"), target / "sub" / part_name("old/b.txt")]
    for path in planted:
        path.write_text("half a file")
    link = target / part_name("link")
    link.symlink_to(beyond / part_name("theirs"))
    (target / "beyond").symlink_to(beyond, target_is_directory=True)
    return sorted(str(p) for p in (*planted, link))


def no_parts_below(target: Path) -> None:
    parts = [p for p in target.rglob("*") if PART_PATTERN.fullmatch(p.name)]
    assert parts == [], "unverified temporary files left"


def test_a_dataset_failing_in_the_retrieve_step_leaves_no_part_file(
    pipeline_factory, roots, tmp_path
):
    pipe = start(pipeline_factory, roots)
    pid = dataset(pipe, roots, "ds")
    assert run(pipe, "archive", [pid])["statusCode"] == "finishedSuccessful"
    flip_a_byte(pipe, pid, "b.txt")
    job_id = pipe.emulator.add_job("retrieve", [pid])
    target = roots["retrieve"] / job_id / pid.replace("/", "%2F")
    removable = plant_leftovers(target, tmp_path / "beyond")
    pipe.emulator._app.publish(pipe.emulator.job(job_id), "create")
    job = pipe.wait_finished(job_id)
    assert job["statusCode"] == "finishedUnsuccessful", job
    returned = pipe.lifecycle(pid)["retrieveReturnMessage"]
    assert "b.txt: sha256 checksum differs" in returned["message"]
    assert "not removed" not in returned["message"]
    assert sorted(returned["removedParts"]) == removable
    no_parts_below(target)
    assert sorted(p.name for p in target.iterdir()) == ["beyond", "sub"]
    assert os.listdir(tmp_path / "beyond") == [part_name("theirs")]
    outside_untouched(roots)


def test_a_chain_that_fails_for_good_leaves_no_part_file(pipeline_factory, roots, tmp_path):
    # The archived tar cannot be read (a folder in its place: a transient storage error) and
    # the step may not retry: the retrieve step fails for good with the dataset started, and
    # the fail task abandons it. (DataBlocks come with the batched dataset read, so a fault
    # on the DataBlock route would not reach the step.)
    pipe = start(pipeline_factory, roots, max_retries=0, retry_backoff_max=0.005)
    pid = dataset(pipe, roots, "ds")
    assert run(pipe, "archive", [pid])["statusCode"] == "finishedSuccessful"
    tars = list(roots["archive"].rglob("*.tar"))
    assert tars
    for tar in tars:
        tar.unlink()
        tar.mkdir()
    job_id = pipe.emulator.add_job("retrieve", [pid])
    target = roots["retrieve"] / job_id / pid.replace("/", "%2F")
    removable = plant_leftovers(target, tmp_path / "beyond")
    pipe.emulator._app.publish(pipe.emulator.job(job_id), "create")
    job = pipe.wait_finished(job_id)
    assert job["statusCode"] == "finishedUnsuccessful", job
    assert "step retrieve failed" in job["statusMessage"]
    life = pipe.lifecycle(pid)
    assert life["retrieveStatusMessage"] == "datasetRetrievalFailed", life
    assert sorted(life["retrieveReturnMessage"]["removedParts"]) == removable
    no_parts_below(target)
    assert os.listdir(tmp_path / "beyond") == [part_name("theirs")]
    outside_untouched(roots)
