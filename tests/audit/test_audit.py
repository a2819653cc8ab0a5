"""``archiver audit`` on both backends: clean archives pass; a damaged, a missing and an
orphaned tar are each found; limits (dataset, time range, sample) and ``--record`` work."""

from __future__ import annotations

import json

from click.testing import CliRunner
from storage.conftest import tree

from archiver.audit.readers import readers_for
from archiver.audit.run import Audit, Selection
from archiver.cli.main import cli
from archiver.settings import TABLE
from archiver.storage import work
from archiver.storage.s3 import parse_archive_id

from .conftest import archive_dataset


def env_of(settings) -> dict[str, str | None]:
    env: dict[str, str | None] = {name: None for s in TABLE for name in (s.env, *s.aliases)}
    for setting in TABLE:
        value = getattr(settings, setting.name)
        if value is None or value == () or value == "":
            continue
        if setting.name == "source_path_map":
            value = ";".join(f"{a}={b}" for a, b in value)
        env[setting.env] = str(value)
    return env


def run_cli(archived, *args):
    result = CliRunner().invoke(
        cli, ["audit", *args], env=env_of(archived.settings), catch_exceptions=False
    )
    return result


def audit(archived, **selection):
    readers = readers_for(archived.storage)
    return Audit(archived.client, readers, Selection(**selection)).run()


def read_object(archived, archive_id) -> bytes:
    if archive_id.startswith("s3://"):
        bucket, key = parse_archive_id(archive_id)
        return archived.storage.client.get_object(Bucket=bucket, Key=key)["Body"].read()
    with open(archive_id, "rb") as source:
        return source.read()


def write_object(archived, archive_id, data: bytes) -> None:
    if archive_id.startswith("s3://"):
        bucket, key = parse_archive_id(archive_id)
        archived.storage.client.put_object(Bucket=bucket, Key=key, Body=data)
        return
    with open(archive_id, "wb") as out:
        out.write(data)


def remove_object(archived, archive_id) -> None:
    if archive_id.startswith("s3://"):
        bucket, key = parse_archive_id(archive_id)
        archived.storage.client.delete_object(Bucket=bucket, Key=key)
        return
    import os

    os.unlink(archive_id)


def block_with(archived, pid, path):
    return next(
        b for b in archived.blocks(pid) if any(f["path"] == path for f in b["dataFileList"])
    )


def test_archive_audit_retrieve_round_trip_is_clean_and_bytes_equal(archived):
    result = run_cli(archived, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["findings"] == []
    summary = document["summary"]
    blocks = sum(len(archived.blocks(p)) for p in archived.pids)
    assert summary["datasets"] == 2 and summary["datablocks"] == summary["rehashed"] == blocks
    assert summary["storedTars"] == blocks and summary["files"] == 2 * 7
    assert (
        "audit: 2 dataset(s)" in result.stderr and f"{blocks}/{blocks} DataBlocks" in result.stderr
    )
    pid = archived.pids[0]
    dataset = archived.client.get_dataset(pid)
    with work.step_run(job_id="job-r"):
        archived.storage.retrieve(dataset, archived.blocks(pid), None)
    target = archived.roots["retrieve"] / "job-r" / pid.replace("/", "%2F")
    assert tree(target) == tree(archived.roots["data"] / "one")


def damage(archived, pid) -> dict:
    """Change the bytes of ``sub/a.txt`` inside its tar (same size); returns its DataBlock."""
    damaged = block_with(archived, pid, "sub/a.txt")
    data = bytearray(read_object(archived, damaged["archiveId"]))
    at = bytes(data).index(b"alpha\n")
    data[at : at + 5] = b"ALPHA"
    write_object(archived, damaged["archiveId"], bytes(data))
    return damaged


def test_a_damaged_a_missing_and_an_orphaned_tar_are_each_found(archived):
    one, two = archived.pids
    damaged = damage(archived, one)
    missing = block_with(archived, two, "big.bin")
    original = read_object(archived, missing["archiveId"])
    remove_object(archived, missing["archiveId"])
    orphan = missing["archiveId"].replace("block-00000", "block-00077")
    orphan = orphan[: -len("block-00001.tar")] + "block-00077.tar"
    write_object(archived, orphan, original)

    result = run_cli(archived)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["FINDING", "DATASET", "OBJECT", "DETAIL"]
    found = {(line.split()[0], line.split()[2]) for line in lines[1:-1]}
    assert found == {
        ("damaged", damaged["archiveId"]),
        ("missing", missing["archiveId"]),
        ("orphan", orphan),
    }, result.stdout
    damaged_line = next(line for line in lines if line.startswith("damaged"))
    assert "sub/a.txt: sha256 checksum differs" in damaged_line
    assert "1 damaged, 1 missing, 1 orphan" in lines[-1]


def test_a_truncated_tar_is_damaged(archived):
    block = block_with(archived, archived.pids[0], "big.bin")
    write_object(archived, block["archiveId"], read_object(archived, block["archiveId"])[:5000])
    [finding] = audit(archived).findings
    assert finding.kind == "damaged" and finding.archive_id == block["archiveId"]


def test_the_audit_can_be_limited_to_datasets_and_a_time_range(archived):
    one, two = archived.pids
    block = block_with(archived, two, "sub/a.txt")
    remove_object(archived, block["archiveId"])
    only_one = audit(archived, pids=(one,))
    assert only_one.findings == [] and only_one.datasets == 1
    assert only_one.stored == len(archived.blocks(one))
    from datetime import UTC, datetime, timedelta

    later = datetime.now(UTC) + timedelta(hours=1)
    assert audit(archived, since=later).datablocks == 0
    assert [f.kind for f in audit(archived, until=later).findings] == ["missing"]
    result = run_cli(archived, "--dataset", two, "--json")
    assert result.exit_code == 1
    assert [f["kind"] for f in json.loads(result.stdout)["findings"]] == ["missing"]


def test_a_sample_rehashes_only_part_but_checks_every_tar_exists(archived):
    one, two = archived.pids
    damaged = block_with(archived, one, "sub/a.txt")
    data = bytearray(read_object(archived, damaged["archiveId"]))
    at = bytes(data).index(b"alpha\n")
    data[at : at + 5] = b"ALPHA"
    write_object(archived, damaged["archiveId"], bytes(data))
    remove_object(archived, block_with(archived, two, "big.bin")["archiveId"])
    none = audit(archived, sample=0.0)
    assert none.rehashed == 0 and [f.kind for f in none.findings] == ["missing"]
    total = none.datablocks
    counts = [audit(archived, sample=0.5, seed=str(s)).rehashed for s in range(20)]
    assert any(0 < count < total for count in counts) and 0 < sum(counts) < 20 * total
    again = [audit(archived, sample=0.5, seed=str(s)).rehashed for s in range(3)]
    assert again == counts[:3]  # the same seed, the same choice


def test_tars_of_a_dataset_being_archived_are_not_orphans(archived):
    pid = archive_dataset(archived, "busy")
    for block in archived.blocks(pid):
        archived.client.delete_datablock(pid, block.get("id") or block.get("_id"))
    archived.client.update_lifecycle(pid, {"archiveStatusMessage": "started"})
    assert audit(archived).findings == []
    archived.client.update_lifecycle(pid, {"archiveStatusMessage": "datasetOnArchiveDisk"})
    assert {f.kind for f in audit(archived).findings} == {"orphan"}


def test_record_writes_the_result_into_the_lifecycle_and_keeps_the_job_mark(archived):
    one, two = archived.pids
    remove_object(archived, block_with(archived, two, "big.bin")["archiveId"])
    result = run_cli(archived, "--record")
    assert result.exit_code == 1 and "recorded on 2 dataset(s)" in result.stderr
    good = archived.emulator.dataset(one)["datasetlifecycle"]["archiveReturnMessage"]
    bad = archived.emulator.dataset(two)["datasetlifecycle"]["archiveReturnMessage"]
    assert good["jobId"] == "job-0" and good["fixity"]["result"] == "ok"
    assert bad["jobId"] == "job-0" and bad["fixity"]["result"] == "failed"
    assert [f["kind"] for f in bad["fixity"]["findings"]] == ["missing"]
    assert archived.emulator.dataset(two)["datasetlifecycle"]["retrievable"] is True


def test_the_audit_is_read_only_without_record(archived):
    before = {p: archived.emulator.dataset(p)["datasetlifecycle"] for p in archived.pids}
    requests_before = len(archived.emulator.request_log)
    assert run_cli(archived).exit_code == 0
    assert before == {p: archived.emulator.dataset(p)["datasetlifecycle"] for p in archived.pids}
    writes = [m for m, _, _ in archived.emulator.request_log[requests_before:] if m != "GET"]
    assert set(writes) <= {"POST"}  # the login only


def test_a_cold_object_is_size_checked_not_restored(s3_settings, emulator_factory, roots):
    from archiver.scicat import connect
    from archiver.storage import get_storage

    from .conftest import ADMIN, Archived

    emu = emulator_factory(
        flavour="next", delete_groups="admin,archivemanager"
    )  # tests delete blocks as admin
    settings = s3_settings.replace(
        s3_storage_class="GLACIER",
        scicat_url=emu.url,
        scicat_user=ADMIN[0],
        scicat_password=ADMIN[1],
    )
    with connect(settings) as client:
        archived = Archived(emu, settings, get_storage(settings), client, roots, [])
        pid = archive_dataset(archived, "cold")
        result = audit(archived)
    assert result.findings == [] and result.rehashed == 0
    assert result.cold == len(archived.blocks(pid))
    assert all("not restored" in note for note in result.notes)
    head = archived.storage.head(parse_archive_id(archived.blocks(pid)[0]["archiveId"])[1])
    assert "Restore" not in head  # the audit asked for no restore


def test_a_datablock_no_configured_storage_holds_is_reported(archived):
    pid = archived.pids[0]
    body = {
        "archiveId": "/somewhere/else/block-00000.tar",
        "size": 1,
        "packedSize": 512,
        "chkAlg": "sha256",
        "version": "x",
        "dataFileList": [{"path": "a", "size": 1, "time": "2024-01-01T00:00:00Z"}],
    }
    archived.client.create_datablock(pid, body)
    [finding] = audit(archived).findings
    assert finding.kind == "unknown" and finding.pid == pid
