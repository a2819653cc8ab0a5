"""The worker-scaling bench row with small N: one job per worker count, speed-ups computed."""

from __future__ import annotations

from bench import workers
from bench.run import report


def test_each_worker_count_runs_one_job_on_fresh_processes(broker_url, tmp_path):
    rows = workers.run([1, 2], datasets=3, latency_ms=0, workdir=tmp_path)
    assert [r["workers"] for r in rows] == [1, 2]
    assert [r["worker_args"] for r in rows] == [["-c", "1"], ["-c", "2"]]
    assert all(r["status"] == "finishedSuccessful" and r["datasets_archived"] == 3 for r in rows)
    assert rows[0]["speedup"] == 1.0
    assert rows[1]["speedup"] == round(rows[0]["seconds"] / rows[1]["seconds"], 2)
    text = report({"throughput": [], "scale": [], "workers": rows})
    assert "One job across worker processes" in text and "speed-up vs first" in text
