"""Processes of one benchmark run: emulator, bridge and worker, each in its own process.

:class:`Stack` starts ``archiver emulator`` (publishing to RabbitMQ on queue names unique to
the run), ``archiver bridge`` and ``celery -A archiver worker`` with the project's default
worker settings, talks to the emulator through its admin API, reads peak memory of each
process tree from ``/proc`` and removes its queues at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

import kombu
import requests

BROKER = os.environ.get("ARCHIVER_BENCH_BROKER", "amqp://guest:guest@127.0.0.1:5672//")
ADMIN = ("admin", "2jf70TPNZsS")
VENV_BIN = Path(sys.executable).parent


def connection(url: str) -> Any:
    """A kombu connection to ``url`` (kombu's ``Connection`` carries no type hints)."""
    return kombu.Connection(url)  # type: ignore[attr-defined,no-untyped-call]


def _stat_fields(pid: int | str) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (field 3 onwards)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int(_stat_fields(entry.name)[1])
        except OSError:
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def vm_hwm_mb(pid: int) -> float:
    """VmHWM (peak resident set) of one process, in MiB (0 when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) / 1024 if match else 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by ``pid`` and its live descendants, in seconds."""
    total = 0
    for member in tree(pid):
        try:
            fields = _stat_fields(member)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def broker_pids() -> list[int]:
    """The local RabbitMQ node's processes (``beam.smp``), for its share of the CPU."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "beam.smp":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def peak_rss_mb(pid: int) -> float:
    """Sum of VmHWM (peak resident set) over the process tree of ``pid``, in MiB."""
    return sum(vm_hwm_mb(member) for member in tree(pid))


class Stack:
    """Emulator + bridge + worker processes for one measurement."""

    def __init__(
        self,
        latency_ms: float,
        workdir: Path,
        worker_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        publish_on: str = "create",
        capacity: float = 0.0,
    ) -> None:
        tag = uuid.uuid4().hex[:10]
        self.names = {
            "exchange": f"bench.jobs.{tag}",
            "queue": f"bench.client.jobs.{tag}",
            "routing_key": f"jobqueue.{tag}",
            "quarantine": f"bench.quarantine.{tag}",
            "task_queue": f"bench.tasks.{tag}",
        }
        self.latency_ms = latency_ms
        self.workdir = workdir
        self.worker_args = worker_args
        self.extra_env = env or {}
        self.publish_on = publish_on
        self.capacity = capacity
        #: the broker the emulator publishes to and the pipeline reads from
        self.broker = BROKER
        #: the keys of :attr:`names` this run made and deletes at the end
        self.owned: tuple[str, ...] = ("queue", "quarantine", "task_queue", "exchange")
        self.url = ""
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.http = requests.Session()

    # -- processes ------------------------------------------------------------------------
    def site_env(self) -> dict[str, str]:
        """SciCat and broker settings of the pipeline: the emulator's, as admin."""
        return {
            "ARCHIVER_SCICAT_URL": self.url,
            "ARCHIVER_SCICAT_USER": ADMIN[0],
            "ARCHIVER_SCICAT_PASSWORD": ADMIN[1],
            "ARCHIVER_BROKER_URL": self.broker,
        }

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.site_env())
        env.update(
            {
                "ARCHIVER_JOB_EXCHANGE": self.names["exchange"],
                "ARCHIVER_JOB_QUEUE": self.names["queue"],
                "ARCHIVER_JOB_ROUTING_KEY": self.names["routing_key"],
                "ARCHIVER_QUARANTINE_QUEUE": self.names["quarantine"],
                "ARCHIVER_TASK_QUEUE": self.names["task_queue"],
                "ARCHIVER_LOG_LEVEL": "WARNING",
            }
        )
        env.update(self.extra_env)
        return env

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            command,
            env=self.env(),
            stdout=subprocess.PIPE if name == "emulator" else log,
            stderr=log,
            start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def start_emulator(self, amqp: bool = True) -> None:
        command = [
            str(VENV_BIN / "archiver"), "emulator", "--port", "0",
            "--latency-ms", str(self.latency_ms), "--publish-on", self.publish_on,
            "--amqp-url", BROKER if amqp else "none",
            "--exchange", self.names["exchange"], "--queue", self.names["queue"],
            "--routing-key", self.names["routing_key"], "--capacity", str(self.capacity),
        ]  # fmt: skip
        proc = self._spawn("emulator", command)
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        match = re.search(r"listening on (http://\S+?);", line)
        if not match:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)  # let it finish writing its log
            tail = (self.workdir / "emulator.log").read_text(errors="replace")[-800:]
            raise RuntimeError(f"the emulator did not start: {line!r}; its log ends: {tail}")
        self.url = match.group(1)

    def start_pipeline(self) -> None:
        self.start_bridge()
        command = [sys.executable, "-m", "celery", "-A", "archiver", "worker", "--loglevel",
                   "WARNING", *self.worker_args]  # fmt: skip
        self._spawn("worker", command)

    def start_bridge(self) -> None:
        self._spawn("bridge", [str(VENV_BIN / "archiver"), "bridge"])

    def stop_bridge(self) -> None:
        """Stop the bridge (job messages then wait in the job queue until the next one)."""
        self._end(self.procs.pop("bridge"))

    def _end(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def peak_rss(self) -> dict[str, float]:
        return {name: round(peak_rss_mb(p.pid), 1) for name, p in self.procs.items()}

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by each of our processes and by the local RabbitMQ."""
        used = {name: cpu_seconds(p.pid) for name, p in self.procs.items()}
        used["rabbitmq"] = sum(cpu_seconds(pid) for pid in broker_pids())
        return used

    def stop(self) -> None:
        for name in ("bridge", "worker", "emulator"):
            proc = self.procs.get(name)
            if proc is not None:
                self._end(proc)
        self.http.close()
        with connection(self.broker) as conn:
            channel = conn.channel()
            for key in ("queue", "quarantine", "task_queue"):
                if key not in self.owned:
                    continue
                try:
                    channel.queue_delete(self.names[key])
                except Exception:  # noqa: BLE001 - may not exist
                    channel = conn.channel()
            exchanges = [self.names["task_queue"]]  # Celery names the queue's exchange like it
            exchanges += [self.names["exchange"]] if "exchange" in self.owned else []
            for name in exchanges:
                try:
                    channel.exchange_delete(name)
                except Exception:  # noqa: BLE001 - may not exist
                    channel = conn.channel()

    def wait_consumer(self, timeout: float = 120) -> float:
        """Wait until something consumes the job queue (the bridge); the time (epoch s) that
        was first seen, within ~10 ms."""
        deadline = time.monotonic() + timeout
        with connection(self.broker) as conn:
            channel = conn.channel()
            while True:
                found = channel.queue_declare(self.names["queue"], passive=True)
                if found.consumer_count:
                    return time.time()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"nothing consumed {self.names['queue']} in {timeout} s")
                time.sleep(0.01)

    def purge_job_queue(self) -> int:
        """Drop the job messages waiting in the job queue (of jobs the bench ran itself)."""
        with connection(self.broker) as conn:
            try:
                return int(conn.channel().queue_purge(self.names["queue"]) or 0)
            except Exception as exc:  # noqa: BLE001 - kombu raises the broker's own errors
                if "NOT_FOUND" in str(exc):
                    return 0  # nothing was published yet: no queue
                raise

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- emulator admin API -----------------------------------------------------------------
    def admin(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.http.request(method, f"{self.url}/emulator/{path}", json=body, timeout=120)
        answer.raise_for_status()
        return answer.json()

    def seed_dataset(self, files: int, files_per_orig: int = 10_000) -> str:
        pid = str(self.admin("POST", "datasets", {"datasetName": "bench"})["pid"])
        quoted = urllib.parse.quote(pid, safe="")
        for start in range(0, files, files_per_orig):
            chunk = [
                {"path": f"raw/sub{n // 1000:03d}/file_{n:06d}.dat", "size": 1000 + n,
                 "time": "2024-01-01T00:00:00.000Z"}
                for n in range(start, min(files, start + files_per_orig))
            ]  # fmt: skip
            self.admin("POST", f"datasets/{quoted}/origdatablocks", {"files": chunk})
        return pid

    def submit(self, pids: list[str], publish: bool = True) -> str:
        body = {"type": "archive", "pids": pids, "publish": publish}
        return str(self.admin("POST", "jobs", body)["id"])

    def state(self) -> dict[str, Any]:
        return dict(self.admin("GET", "state"))

    def request_log(self) -> list[tuple[str, str, int]]:
        return [tuple(r) for r in self.admin("GET", "requests")["requests"]]

    def job_summaries(self) -> list[dict[str, Any]]:
        """Each job's id, type, statusCode, createdAt and updatedAt (admin API: free)."""
        return list(self.admin("GET", "jobs")["jobs"])


def wait_jobs(
    stack: Stack, job_ids: set[str], timeout: float, interval: float = 0.5
) -> dict[str, Any]:
    """Poll the emulator's state until every job in ``job_ids`` is finished; the state."""
    deadline = time.monotonic() + timeout
    while True:
        state = stack.state()
        jobs = {j["id"]: j for j in _rows(state["jobs"])}
        if all(str(jobs[i]["statusCode"]).startswith("finished") for i in job_ids if i in jobs):
            return state
        if time.monotonic() > deadline:
            waiting = [i for i in job_ids if not str(jobs[i]["statusCode"]).startswith("fin")]
            raise TimeoutError(f"{len(waiting)} job(s) not finished, e.g. {waiting[:3]}")
        time.sleep(interval)


def _rows(table: Any) -> list[dict[str, Any]]:
    return list(table.values()) if isinstance(table, dict) else list(table)


def dump(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True))
