"""Lifecycle updates are merges on every generation, whatever the server route does."""

from __future__ import annotations

import pytest

from archiver.errors import NotFoundError

from .conftest import paths


def _merge_keeps_other_fields(emu, client) -> None:
    pid = emu.add_dataset()
    client.update_lifecycle(
        pid, {"archivable": False, "retrievable": True, "storageLocation": "tape-7"}
    )
    answer = client.update_lifecycle(pid, {"archiveStatusMessage": "datasetOnArchiveDisk"})
    stored = emu.dataset(pid)["datasetlifecycle"]
    for lifecycle in (answer, stored):
        assert lifecycle["archiveStatusMessage"] == "datasetOnArchiveDisk"
        assert lifecycle["archivable"] is False
        assert lifecycle["retrievable"] is True
        assert lifecycle["storageLocation"] == "tape-7"


def test_a_lifecycle_update_keeps_the_fields_it_does_not_name(emu, client):
    _merge_keeps_other_fields(emu, client)


def test_an_empty_change_returns_the_lifecycle_without_writing(emu, client):
    pid = emu.add_dataset()
    assert client.update_lifecycle(pid, {})["archivable"] is True
    assert not [p for p in paths(emu, "PATCH") + paths(emu, "PUT") if "atasets" in p]


def test_a_lifecycle_update_of_a_missing_dataset_is_not_found(client):
    with pytest.raises(NotFoundError):
        client.update_lifecycle("PID.SAMPLE.PREFIX/missing", {"archivable": False})


@pytest.mark.parametrize("flavour", ["next"])
def test_next_falls_back_to_read_modify_write_without_the_lifecycle_route(
    emulator_factory, make_client
):
    emu = emulator_factory(flavour="next", lifecycle_route=False)
    client = make_client(emu)
    _merge_keeps_other_fields(emu, client)
    assert client.lifecycle_route is False
    tried = [p for p in paths(emu, "PATCH") if p.endswith("/datasetlifecycle")]
    assert len(tried) == 1, "the missing route is remembered after the first 404"


@pytest.mark.parametrize("flavour", ["next"])
def test_next_without_the_lifecycle_route_still_reports_a_missing_dataset(
    emulator_factory, make_client
):
    client = make_client(emulator_factory(flavour="next", lifecycle_route=False))
    with pytest.raises(NotFoundError):
        client.update_lifecycle("PID.SAMPLE.PREFIX/missing", {"archivable": False})
    assert client.lifecycle_route is True


@pytest.mark.parametrize("flavour", ["next"])
def test_next_uses_the_merging_lifecycle_route_when_it_exists(emu, client):
    pid = emu.add_dataset()
    client.update_lifecycle(pid, {"archivable": False})
    assert [p for p in paths(emu, "PATCH")] == [p for p in paths(emu, "PATCH") if "lifecycle" in p]
