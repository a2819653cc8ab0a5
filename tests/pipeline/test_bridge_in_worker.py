"""``celery -A archiver worker`` with the bridge inside (ARCHIVER_BRIDGE_IN_WORKER): it
consumes SciCat's job queue, and its reconciler starts a job whose message was lost."""

from __future__ import annotations

from .conftest import wait_until
from .helpers import kill_group, seed, worker_process


def test_the_worker_with_the_bridge_takes_published_jobs_and_reconciles_lost_ones(
    pipeline_factory, unique_names, tmp_path
):
    pipe = pipeline_factory(flavour="next", worker=False, bridge=False)
    pids = seed(pipe, 2)
    published = pipe.emulator.add_job("archive", [pids[0]], publish=True)
    lost = pipe.emulator.add_job("archive", [pids[1]], publish=False)
    log = tmp_path / "worker.log"
    worker = worker_process(
        pipe,
        log,
        ARCHIVER_BRIDGE_IN_WORKER="true",
        ARCHIVER_JOB_EXCHANGE=unique_names["exchange"],
        ARCHIVER_JOB_QUEUE=unique_names["queue"],
        ARCHIVER_JOB_ROUTING_KEY=unique_names["routing_key"],
        ARCHIVER_QUARANTINE_QUEUE=unique_names["quarantine"],
        ARCHIVER_RECONCILE_INTERVAL="1",
        ARCHIVER_RECONCILE_SUBMITTED_GRACE="1",
    )
    try:
        wait_until(
            lambda: all(pipe.job_status(j).startswith("finished") for j in (published, lost)),
            120,
            "both jobs to finish",
        )
    finally:
        kill_group(worker)
    statuses = {pipe.job_status(j) for j in (published, lost)}
    assert statuses == {"finishedSuccessful"}, log.read_text()[-3000:]
    assert f"[job {lost}] reconciler: start" in log.read_text()
