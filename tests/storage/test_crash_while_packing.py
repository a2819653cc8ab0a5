"""A process killed (SIGKILL) in the middle of writing a tar leaves no tar behind, and the
next attempt cleans up its temporary file and finishes the dataset."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from archiver.storage import get_storage, work

from .conftest import make_dataset, origdatablocks, tree

CHILD = r"""
import json, sys, time
from archiver.settings import Settings
from archiver.storage import get_storage, tarpack
settings = Settings(**json.loads(sys.argv[1]))
real = tarpack._copy
def slow_copy(src, out, size, hasher):
    if size > 100_000:
        out.write(src.read(50_000))
        out.flush()
        open(sys.argv[3], "w").close()
        time.sleep(600)
    return real(src, out, size, hasher)
tarpack._copy = slow_copy
dataset = {"pid": "PID.TEST/crash", "sourceFolder": "/scicat/data/ds"}
blocks = [{"_id": "o", "dataFileList": [{"path": p, "size": 1} for p in json.loads(sys.argv[2])]}]
for block in get_storage(settings).archive(dataset, blocks):
    pass
"""


def test_a_killed_packer_leaves_no_tar_and_the_next_run_finishes(fs_settings, roots, tmp_path):
    paths = make_dataset(roots["data"] / "ds")
    flag = tmp_path / "writing"
    settings = {
        k: (list(v) if isinstance(v, tuple) else v)
        for k, v in fs_settings.__dict__.items()
        if k in ("storage", "archive_root", "retrieve_root", "source_path_map", "tar_max_bytes")
    }
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(settings), json.dumps(paths), str(flag)],
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert child.poll() is None, "the packer ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    folder = roots["archive"] / "PID.TEST%2Fcrash"
    assert [p.name for p in folder.iterdir() if p.name.endswith(".part")], "not killed mid-tar"
    assert not list(folder.glob("*.tar"))

    storage = get_storage(fs_settings)
    dataset = {"pid": "PID.TEST/crash", "sourceFolder": "/scicat/data/ds"}
    blocks = [b.body for b in storage.archive(dataset, origdatablocks(paths))]
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".part")]
    with work.step_run(job_id="after-crash"):
        storage.retrieve(dataset, blocks, None)
    restored = roots["retrieve"] / "after-crash" / "PID.TEST%2Fcrash"
    assert tree(restored) == tree(roots["data"] / "ds")
