"""``archiver ingest`` against the emulator: bodies, files, skip, dry run, rollback, login."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import datetime

import pytest
import yaml

from .conftest import TRANSFER, make_dataset

FLAVOURS = ["next", "next-legacy", "loopback"]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_ingest_creates_the_dataset_from_every_transfer_key_and_real_files(
    flavour, emulator_factory, archiver, tmp_path
):
    emu = emulator_factory(flavour=flavour)
    folder = make_dataset(tmp_path)
    os.utime(folder / "raw/a.dat", (1_700_000_000, 1_700_000_000))
    result = archiver(emu, "ingest", "--checksum", "md5", str(folder))
    assert result.exit_code == 0, result.output
    pid = result.stdout.strip().splitlines()[-1]
    ds = emu.dataset(pid)
    for key in ("accessGroups", "contactEmail", "creationLocation", "datasetName", "description",
                "instrumentGroup", "isPublished", "keywords", "license", "ownerGroup",
                "sampleId", "validationStatus", "instrumentId"):  # fmt: skip
        assert ds[key] == TRANSFER[key], key
    assert ds["owner"] == "Ada;Bob"
    assert ds["ownerEmail"] == "ada@uni.org"  # SciCat validates one address
    assert ds["scientificMetadata"]["owners"] == [
        {"name": "Ada", "email": "ada@uni.org", "orcid": "https://orcid.org/0000-0002-1825-0097"},
        {"name": "Bob", "email": "bob@uni.org"},
    ]
    assert ds["orcidOfOwner"] == "https://orcid.org/0000-0002-1825-0097"
    assert ds["principalInvestigator"] == "Grace;Alan"
    assert ds["sourceFolder"] == str(folder.resolve())
    assert ds["type"] == "raw"
    assert ds["size"] == 7 and ds["numberOfFiles"] == 3
    assert datetime.fromisoformat(ds["creationTime"]).tzinfo is not None
    [block] = emu.origdatablocks(pid)
    assert block["size"] == 7 and block["chkAlg"] == "md5"
    files = {f["path"]: f for f in block["dataFileList"]}
    assert sorted(files) == ["c.txt", "raw/a.dat", "raw/b.dat"]  # transfer.yaml not listed
    assert files["raw/a.dat"]["size"] == 4
    assert files["raw/a.dat"]["chk"] == hashlib.md5(b"aaaa").hexdigest()
    assert datetime.fromisoformat(files["raw/a.dat"]["time"]).timestamp() == 1_700_000_000
    assert datetime.fromisoformat(files["raw/a.dat"]["time"]).tzinfo is not None


def test_attachments_become_data_uri_thumbnails(emulator_factory, archiver, tmp_path):
    emu = emulator_factory(flavour="next")
    png = b"\x89PNG\r\n\x1a\nfake"
    spec = {**TRANSFER, "attachments": [{"caption": "look", "path": "thumb/t.png", "type": "png"}]}
    folder = make_dataset(tmp_path, files={"thumb/t.png": png, "d.bin": b"1"}, transfer=spec)
    result = archiver(emu, "ingest", str(folder))
    assert result.exit_code == 0, result.output
    pid = result.stdout.strip().splitlines()[-1]
    [attachment] = emu._app.store.list_blocks("attachments", pid)
    assert attachment["caption"] == "look"
    assert attachment["thumbnail"] == "data:image/png;base64," + base64.b64encode(png).decode()
    assert attachment["ownerGroup"] == "anothergroup"


def test_skip_existing_run_twice_ingests_nothing_the_second_time(
    emulator_factory, archiver, tmp_path
):
    emu = emulator_factory(flavour="next")
    folder = make_dataset(tmp_path)
    first = archiver(emu, "ingest", "--skip-existing", str(folder))
    second = archiver(emu, "ingest", "--skip-existing", str(folder))
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert "skipped" in second.stderr
    assert len(emu._app.store.datasets) == 1
    assert first.stdout.split()[-1] == second.stdout.split()[-1]


def test_dry_run_prints_the_requests_and_writes_nothing(emulator_factory, archiver, tmp_path):
    emu = emulator_factory(flavour="next")
    folder = make_dataset(tmp_path)
    result = archiver(emu, "ingest", "--dry-run", "--max-files", "2", str(folder))
    assert result.exit_code == 0, result.output
    requests = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["request"] for r in requests] == ["dataset", "origdatablock", "origdatablock"]
    assert requests[0]["body"]["ownerGroup"] == "anothergroup"
    assert sum(len(r["body"]["dataFileList"]) for r in requests[1:]) == 3
    assert not emu._app.store.datasets
    assert not [r for r in emu.request_log if r[0] in ("POST", "PATCH", "DELETE", "PUT")
                and "login" not in r[1]]  # fmt: skip


def test_dry_run_works_without_any_scicat(tmp_path):
    from click.testing import CliRunner

    from archiver.cli.main import cli

    folder = make_dataset(tmp_path)
    result = CliRunner().invoke(
        cli, ["--scicat-api", "loopback", "ingest", "--dry-run", str(folder)]
    )
    assert result.exit_code == 0, result.output
    block = json.loads(result.stdout.splitlines()[1])["body"]
    assert block["ownerGroup"] == "anothergroup"  # LoopBack OrigDatablocks are Ownable


def test_a_bad_transfer_yaml_fails_before_any_call(emulator_factory, archiver, tmp_path):
    emu = emulator_factory(flavour="next")
    spec = {k: v for k, v in TRANSFER.items() if k != "owners"}
    folder = make_dataset(tmp_path, transfer={**spec, "isPublished": "no", "extra": 1})
    result = archiver(emu, "ingest", str(folder))
    assert result.exit_code == 1
    assert "3 problem(s)" in result.stderr
    assert "required key 'owners' is missing" in result.stderr
    assert "key 'isPublished' must be true or false" in result.stderr
    assert "unknown key 'extra'" in result.stderr
    assert not [r for r in emu.request_log if "datasets" in r[1].lower()]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_failed_origdatablock_post_deletes_the_dataset_again(
    flavour, emulator_factory, archiver, tmp_path
):
    # Removing the dataset again needs DELETE_GROUPS (scicatlive grants it to archivemanager
    # only); the refused case is test_a_refused_roll_back_names_delete_groups.
    emu = emulator_factory(flavour=flavour, delete_groups="admin,archivemanager")
    folder = make_dataset(tmp_path)
    emu.inject_fault("(?i)/datasets/.+/origdatablocks$", status=400, method="POST", count=1)
    result = archiver(emu, "ingest", "--max-files", "1", str(folder))
    assert result.exit_code == 1
    assert "deleted again" in result.stderr and "create origdatablock" in result.stderr
    assert not emu._app.store.datasets
    assert not emu._app.store.origdatablocks


def test_a_refused_roll_back_names_delete_groups(emulator_factory, archiver, tmp_path):
    emu = emulator_factory(flavour="next")  # scicatlive's groups: the account may not DELETE
    folder = make_dataset(tmp_path)
    emu.inject_fault("(?i)/datasets/.+/origdatablocks$", status=400, method="POST", count=1)
    result = archiver(emu, "ingest", "--max-files", "1", str(folder))
    assert result.exit_code == 1
    assert "could NOT be deleted" in result.stderr
    assert "the ingesting account needs to be in DELETE_GROUPS" in result.stderr
    assert len(emu._app.store.datasets) == 1  # left behind, and said so


def test_a_later_origdatablock_failure_also_leaves_nothing(emulator_factory, archiver, tmp_path):
    # Removing the dataset again needs DELETE_GROUPS (scicatlive grants it to archivemanager
    # only); the refused case is test_a_refused_roll_back_names_delete_groups.
    emu = emulator_factory(flavour="next", delete_groups="admin,archivemanager")
    folder = make_dataset(tmp_path)
    real = emu._app.store.add_origdatablock
    calls = []

    def second_fails(pid, body, user="admin"):
        calls.append(pid)
        if len(calls) == 2:
            from archiver.emulator.protocol import ApiError

            raise ApiError(400, "dataFileList.0 is broken")
        return real(pid, body, user)

    emu._app.store.add_origdatablock = second_fails
    result = archiver(emu, "ingest", "--max-files", "1", str(folder))
    assert result.exit_code == 1, result.output
    assert not emu._app.store.datasets and not emu._app.store.origdatablocks


def test_the_credentials_given_on_the_command_line_are_the_ones_used(
    emulator_factory, archiver, tmp_path
):
    emu = emulator_factory(flavour="next")
    folder = make_dataset(tmp_path, transfer={**TRANSFER, "ownerGroup": "ingestor"})
    result = archiver(emu, "ingest", str(folder), user="ingestor", password="aman")
    assert result.exit_code == 0, result.output
    pid = result.stdout.split()[-1]
    assert emu.dataset(pid)["createdBy"] == "ingestor"
    assert emu.origdatablocks(pid)[0]["createdBy"] == "ingestor"


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_wrong_password_file_fails_clearly_and_writes_nothing(
    flavour, emulator_factory, archiver, tmp_path
):
    emu = emulator_factory(flavour=flavour)
    folder = make_dataset(tmp_path)
    result = archiver(emu, "ingest", str(folder), user="ingestor", password="wrong")
    assert result.exit_code == 1
    assert "refused the login of user 'ingestor'" in result.stderr
    assert "wrong" not in result.stderr
    assert not emu._app.store.datasets


def test_an_empty_folder_is_refused(emulator_factory, archiver, tmp_path):
    emu = emulator_factory(flavour="next")
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "transfer.yaml").write_text(yaml.safe_dump(TRANSFER))
    result = archiver(emu, "ingest", str(folder))
    assert result.exit_code == 1 and "no files to ingest" in result.stderr
