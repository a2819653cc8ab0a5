"""``archiver batch`` with its output redirected (a log file, a pipe): one plain progress
line per finished folder on stderr, instead of a progress bar that showed one word."""

from __future__ import annotations

from .conftest import TRANSFER, make_dataset


def test_redirected_batch_prints_a_line_per_folder(emulator_factory, archiver, tmp_path):
    parent = tmp_path / "incoming"
    make_dataset(parent, "a-good")
    make_dataset(parent, "b-broken", transfer={**TRANSFER, "keywords": "not a list"})
    make_dataset(parent, "c-good", files={"x.bin": b"12345"})
    emu = emulator_factory(flavour="next")
    result = archiver(emu, "batch", str(parent))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == f"datasets: 3 folder(s) under {parent}"
    progress = [line for line in lines if line.startswith("[")]
    assert [line.split(":")[0] for line in progress] == [
        "[1/3] a-good",
        "[2/3] b-broken",
        "[3/3] c-good",
    ]
    assert progress[0].startswith("[1/3] a-good: ingested (PID") and "job " in progress[0]
    assert progress[1].startswith("[2/3] b-broken: failed (") and "keywords" in progress[1]
    assert "\r" not in result.stderr
