"""transfer.yaml checks: every problem listed at once, each with its key and line."""

from __future__ import annotations

import pytest
import yaml

from archiver.ingest.transfer import TransferError, load_transfer

from .conftest import TRANSFER, make_dataset

GOOD = yaml.safe_dump(TRANSFER, sort_keys=True)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def problems(tmp_path, text: str) -> list[str]:
    with pytest.raises(TransferError) as info:
        load_transfer(make_dataset(tmp_path, transfer=text))
    return info.value.problems


def test_the_old_example_key_set_is_accepted_and_owners_are_read(tmp_path):
    spec = load_transfer(make_dataset(tmp_path))
    assert [o.name for o in spec.owners] == ["Ada", "Bob"]
    assert spec.values["ownerGroup"] == "anothergroup"
    assert spec.values["instrumentGroup"] == "exampleInstrumentGroup"


def test_a_missing_required_key_is_named_with_the_line_of_the_mapping(tmp_path):
    text = GOOD.replace("ownerGroup: anothergroup\n", "")
    found = problems(tmp_path, text)
    assert found == ["line 1: required key 'ownerGroup' is missing"]


def test_a_wrongly_typed_value_is_named_with_its_line(tmp_path):
    text = GOOD.replace("isPublished: false", "isPublished: maybe")
    found = problems(tmp_path, text)
    line = line_of(text, "isPublished")
    assert found == [f"line {line}: key 'isPublished' must be true or false, got str"]


def test_an_unknown_key_is_named_with_its_line(tmp_path):
    text = GOOD + "othergroup: oops\n"
    found = problems(tmp_path, text)
    assert len(found) == 1
    assert found[0].startswith(f"line {line_of(text, 'othergroup:')}: unknown key 'othergroup'")


def test_all_problems_are_reported_at_once_including_nested_owner_keys(tmp_path):
    text = (
        GOOD.replace("contactEmail: another@uni.org\n", "")
        .replace("sampleId: anotherIdExample356", "sampleId: 356")
        .replace("  name: Bob", "  nam: Bob")
    )
    found = problems(tmp_path, text)
    joined = "\n".join(found)
    assert "required key 'contactEmail' is missing" in joined
    assert f"line {line_of(text, 'sampleId')}: key 'sampleId' must be a non-empty string" in joined
    assert f"line {line_of(text, 'nam: Bob')}: unknown key 'owners[1].nam'" in joined
    assert "required key 'owners[1].name' is missing in owners[1]" in joined
    assert len(found) == 4


def test_a_key_given_twice_is_reported(tmp_path):
    text = GOOD + "license: Other\n"
    found = problems(tmp_path, text)
    assert found == [f"line {len(text.splitlines())}: key 'license' is given twice"]


def test_broken_yaml_is_reported_with_its_line(tmp_path):
    found = problems(tmp_path, "datasetName: a\nowners: [\n")
    assert len(found) == 1 and found[0].startswith("line 3: not valid YAML")


def test_a_missing_transfer_yaml_is_reported(tmp_path):
    with pytest.raises(TransferError, match="no transfer.yaml"):
        load_transfer(tmp_path)


def test_an_attachment_must_exist_inside_the_folder_and_be_an_image(tmp_path):
    entries = [
        {"caption": "gone", "path": "thumb/missing.png"},
        {"caption": "outside", "path": "../elsewhere.png"},
        {"caption": "text", "path": "c.txt"},
    ]
    text = yaml.safe_dump({**TRANSFER, "attachments": entries})
    joined = "\n".join(problems(tmp_path, text))
    assert "attachments[0].path: no file thumb/missing.png" in joined
    assert "attachments[1].path must be inside the dataset folder" in joined
    assert "attachments[2].type must be one of" in joined


def test_the_shipped_examples_are_valid(tmp_path):
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "examples" / "datasets"
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    assert len(folders) >= 2
    specs = [load_transfer(folder) for folder in folders]
    assert any(spec.attachments for spec in specs)
