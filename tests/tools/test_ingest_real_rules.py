"""Ingest rules learned from real backends (backend.md §10) and from operators.

One e-mail address per field, wrongly typed lists and records named with key and line,
problems in the order of their lines, symlinks listed as links, a dry run that asks SciCat
nothing, progress on redirected output, and ``--skip-existing`` refusing to make duplicates
when the account cannot read what it creates.
"""

from __future__ import annotations

import json
import os

import pytest
import yaml
from click.testing import CliRunner

from archiver.cli.main import cli
from archiver.ingest.transfer import TransferError, load_transfer

from .conftest import TRANSFER, make_dataset


def _problems(tmp_path, spec) -> list[str]:
    with pytest.raises(TransferError) as info:
        load_transfer(make_dataset(tmp_path, transfer=spec))
    return info.value.problems


@pytest.mark.parametrize("key", ["owners", "attachments"])
def test_a_scalar_where_a_list_of_records_belongs_is_named_with_key_and_line(tmp_path, key):
    found = _problems(tmp_path, {**TRANSFER, key: 5})
    assert len(found) == 1 and f"key {key!r} must be" in found[0] and found[0].startswith("line ")


def test_two_addresses_in_one_e_mail_field_are_refused_like_scicat_does(tmp_path):
    owners = [{"name": "Ada", "email": "ada@uni.org;bob@uni.org"}]
    found = _problems(tmp_path, {**TRANSFER, "owners": owners, "contactEmail": "a@x.org, b@x.org"})
    assert len(found) == 2
    assert any("'contactEmail' must be one e-mail address" in p for p in found)
    assert any("'owners[0].email' must be one e-mail address" in p for p in found)


def test_problems_are_listed_in_the_order_of_their_lines(tmp_path):
    text = yaml.safe_dump({**TRANSFER, "zzz": 1, "isPublished": "no", "aaa": 2}, sort_keys=True)
    found = _problems(tmp_path, text)
    lines = [int(p.split(":")[0].removeprefix("line ")) for p in found]
    assert len(found) == 3 and lines == sorted(lines)


def test_several_owners_give_one_owner_email_and_keep_every_address(
    emulator_factory, archiver, tmp_path
):
    emu = emulator_factory(flavour="next")
    result = archiver(emu, "ingest", str(make_dataset(tmp_path)))
    assert result.exit_code == 0, result.output
    dataset = emu.dataset(result.stdout.strip().splitlines()[-1])
    assert dataset["ownerEmail"] == "ada@uni.org"
    assert [o["email"] for o in dataset["scientificMetadata"]["owners"]] == [
        "ada@uni.org",
        "bob@uni.org",
    ]


def test_symlinks_inside_the_folder_are_listed_as_links_and_others_are_named(
    emulator_factory, archiver, tmp_path
):
    emu = emulator_factory(flavour="next")
    folder = make_dataset(tmp_path)
    os.symlink("raw/a.dat", folder / "latest")
    os.symlink("/etc/passwd", folder / "outside")
    result = archiver(emu, "ingest", str(folder))
    assert result.exit_code == 0, result.output
    [block] = emu.origdatablocks(result.stdout.strip().splitlines()[-1])
    files = {f["path"]: f for f in block["dataFileList"]}
    assert files["latest"]["size"] == 0 and files["latest"]["perm"].startswith("l")
    assert "outside" not in files
    assert "outside" in result.stderr


def test_a_dry_run_asks_scicat_nothing_and_checks_transfer_yaml_first(emulator_factory, tmp_path):
    emu = emulator_factory(flavour="next")
    good = make_dataset(tmp_path, "good")
    bad = make_dataset(tmp_path, "bad", transfer={**TRANSFER, "isPublished": "no"})
    flags = ["--scicat-url", emu.url, "--scicat-user", "admin"]
    env = {"ARCHIVER_SCICAT_PASSWORD": "2jf70TPNZsS"}
    for folder in (good, bad):
        CliRunner().invoke(cli, [*flags, "ingest", "--dry-run", str(folder)], env=env)
    assert emu.request_log == []


def test_ingest_progress_is_printed_when_output_is_not_a_terminal(
    emulator_factory, archiver, tmp_path
):
    emu = emulator_factory(flavour="next")
    result = archiver(emu, "ingest", str(make_dataset(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "ingest: read 7 B of 7 B (100 %), 3 of 3 files" in result.stderr


def test_skip_existing_refuses_to_make_duplicates_the_account_cannot_see(
    emulator_factory, archiver, tmp_path
):
    emu = emulator_factory(flavour="next")
    # The account may create datasets for the group but not read them (GET by pid 403).
    emu.inject_fault(r"^/api/v3/datasets/[^/]+$", 403, count=100, method="GET")
    parent = tmp_path / "incoming"
    make_dataset(parent, "a")
    make_dataset(parent, "b")
    result = archiver(emu, "batch", "--skip-existing", str(parent))
    assert result.exit_code == 1
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:-1]}
    assert "cannot see earlier copies" in rows["a"] and "may duplicate" in rows["a"]
    assert "not ingested" in rows["b"]
    assert len(emu._app.store.datasets) == 1, "nothing more is created for that group"


@pytest.mark.parametrize("flavour", ["next-legacy"])
def test_job_create_names_the_logged_in_user_as_initiator(flavour, emulator_factory, archiver):
    emu = emulator_factory(flavour=flavour)
    pid = emu.add_dataset()
    result = archiver(emu, "--scicat-api", flavour, "job", "create", "--type", "archive", pid)
    assert result.exit_code == 0, result.output
    doc = emu.job(result.stdout.strip())
    initiator = doc.get("emailJobInitiator") or doc.get("contactEmail")
    assert initiator == "admin@your.site", json.dumps(doc)[:300]
