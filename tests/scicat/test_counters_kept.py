"""backend-next 4.6-4.14 reset a dataset's counters on any ``PATCH /datasets/{pid}`` that does
not carry them (seen on real v4.13.0); the client's lifecycle updates send them back."""

from __future__ import annotations

import pytest

from archiver.scicat import connect

from .conftest import settings_for

COUNTERS = ("size", "packedSize", "numberOfFiles", "numberOfFilesArchived")


@pytest.mark.parametrize("version", ["4.13", "4.10"])
def test_a_lifecycle_update_keeps_size_and_file_counts(emulator_factory, version):
    emu = emulator_factory(flavour="next-legacy", version=version)
    pid = emu.add_dataset()
    emu.add_origdatablock(pid, files=[{"path": "a", "size": 300, "time": "2024-01-01T00:00:00Z"}])
    before = {k: emu.dataset(pid).get(k) for k in COUNTERS}
    assert before["size"] == 300
    with connect(settings_for(emu, "next-legacy")) as client:
        client.update_lifecycle(pid, {"archiveStatusMessage": "started"})
    after = emu.dataset(pid)
    assert {k: after.get(k) for k in COUNTERS} == before
    assert after["datasetlifecycle"]["archiveStatusMessage"] == "started"
