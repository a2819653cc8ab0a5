"""The sequential minimal script: a naive archiver making only the calls an archive job needs.

For a job over n datasets it makes ``2 + 4 n`` SciCat calls (backend-next >= 4.19 / 5.x
paths): PATCH the job ``inProgress``; per dataset GET its OrigDatablocks, PATCH its
lifecycle ``started``, POST one DataBlock, PATCH its lifecycle ``datasetOnArchiveDisk``; PATCH
the job ``finishedSuccessful``. One dataset: the 6 minimal calls of issue 12 and
docs/performance.md. It has none of the pipeline's guarantees (no claim, no retry, no
idempotency): it is the yardstick, what the ScicatArchiveMock did.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

#: ``call(method, path, body)`` -> decoded JSON answer; ``path`` starts with ``/api/``.
Call = Callable[[str, str, Any], Any]


def calls_per_job(datasets: int) -> int:
    """SciCat calls the minimal script makes for one job over ``datasets`` datasets."""
    return 2 + 4 * datasets


def archive_job(call: Call, job_id: str, pids: Sequence[str]) -> None:
    """Archive one job's datasets the naive way (mock storage: DataBlocks, no data moved)."""
    job = f"/api/v4/jobs/{urllib.parse.quote(job_id, safe='')}"
    count = f"{len(pids)} dataset{'s' if len(pids) != 1 else ''}"
    call("PATCH", job, {"statusCode": "inProgress", "statusMessage": f"Archiving {count}"})
    sizes = [_archive_dataset(call, pid) for pid in pids]
    result = {"datasets": [{"pid": p, "size": n} for p, n in zip(pids, sizes, strict=True)]}
    finished = {"statusCode": "finishedSuccessful", "statusMessage": f"archived {count}"}
    call("PATCH", job, {**finished, "jobResultObject": result})


def _archive_dataset(call: Call, pid: str) -> int:
    ds = f"/api/v3/datasets/{urllib.parse.quote(pid, safe='')}"
    blocks = call("GET", f"{ds}/origdatablocks", None)
    # a real backend gives each listed file an _id and id, and refuses them in a DataBlock
    files = [
        {k: v for k, v in f.items() if k not in ("_id", "id")}
        for block in blocks
        for f in block["dataFileList"]
    ]
    call("PATCH", f"{ds}/datasetlifecycle", {"archivable": False, "retrievable": False,
                                             "archiveStatusMessage": "started"})  # fmt: skip
    size = sum(int(f["size"]) for f in files)
    block = {"archiveId": f"/archive/{pid}/block-00000.tar", "size": size, "packedSize": size,
             "chkAlg": "none", "version": "baseline/1", "dataFileList": files}  # fmt: skip
    call("POST", f"{ds}/datablocks", block)
    archived = {"archivable": False, "retrievable": True,
                "archiveStatusMessage": "datasetOnArchiveDisk"}  # fmt: skip
    call("PATCH", f"{ds}/datasetlifecycle", archived)
    return size
