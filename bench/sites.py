"""Where the backend-bound rows run: the emulator in capacity mode, or an external SciCat.

A *site* is a SciCat plus the pipeline processes (bridge and worker, :class:`bench.stack.Stack`)
that read its job queue. It creates the datasets and archive jobs a row needs, answers the
jobs' statuses and times, and gives the minimal script its way of calling SciCat.

- :class:`EmulatorSite`: an ``archiver emulator --capacity N`` process; datasets and jobs are
  seeded through its admin API (which costs no capacity), calls are counted from its request
  log.
- :class:`ExternalSite`: a real SciCat (backend-next >= 4.19 / 5.x) named by the archiver's own
  settings (``ARCHIVER_SCICAT_URL``, ``ARCHIVER_SCICAT_USER``, ``ARCHIVER_SCICAT_PASSWORD`` or
  ``ARCHIVER_SCICAT_TOKEN``, ``ARCHIVER_BROKER_*``, ``ARCHIVER_JOB_*``). Datasets, their
  OrigDatablocks and the jobs are created through SciCat's API, as ``archiver ingest`` and
  ``archiver job create`` do; SciCat publishes the jobs to its RabbitMQ. Secrets stay in the
  environment: nothing here prints or passes them on a command line. With ``count_calls``
  the pipeline and the minimal script go through :class:`bench.counting_proxy.CountingProxy`,
  which counts their calls; the bench's own seeding and polling go around it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests

from archiver.scicat import DatasetRef, NextClient, SciCatClient, connect
from archiver.settings import Settings
from bench.counting_proxy import CountingProxy
from bench.minimal import Call
from bench.stack import Stack
from bench.throughput import login, session_call

#: Jobs still to be done by someone.
UNFINISHED = ("jobSubmitted", "inProgress")
#: Calls that are not part of a job's work (each worker process logs in once).
NOT_JOB_WORK = frozenset({("POST", "/api/v3/auth/login")})


class EmulatorSite:
    """The emulator in capacity mode (``capacity`` requests/s; 0: unlimited) on the local
    RabbitMQ, with queue names of its own."""

    poll_interval = 0.25

    def __init__(
        self,
        workdir: Path,
        capacity: float,
        latency_ms: float = 0.0,
        worker_args: tuple[str, ...] = (),
    ) -> None:
        self.stack = Stack(latency_ms, workdir, worker_args, capacity=capacity)
        self.capacity = capacity

    def __enter__(self) -> EmulatorSite:
        self.stack.start_emulator()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.stop()

    def describe(self) -> str:
        return f"emulator, capacity {self.capacity:g} requests/s"

    def make_jobs(self, jobs: int, per_job: int) -> list[tuple[str, list[str]]]:
        """``jobs`` archive jobs of ``per_job`` fresh one-file datasets each, published."""
        made = []
        for _ in range(jobs):
            pids = [self.stack.seed_dataset(1) for _ in range(per_job)]
            made.append((self.stack.submit(pids), pids))
        return made

    def jobs(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        wanted = set(ids)
        return {j["id"]: j for j in self.stack.job_summaries() if j["id"] in wanted}

    def unfinished(self, ids: Sequence[str]) -> int:
        return sum(1 for j in self.jobs(ids).values() if j["statusCode"] in UNFINISHED)

    def calls(self) -> list[tuple[str, str]] | None:
        """``(method, path)`` of every API request served so far, logins excluded."""
        rows = ((m, p) for m, p, _ in self.stack.request_log())
        return [r for r in rows if r not in NOT_JOB_WORK]

    def minimal_call(self) -> Call:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {login(session, self.stack.url)}"
        return session_call(session, self.stack.url)


class ExternalStack(Stack):
    """The pipeline processes against an external SciCat: the bench's SciCat URL; credentials,
    broker and job queue from the environment unchanged; only the task queue is the bench's."""

    def __init__(self, settings: Settings, workdir: Path, worker_args: tuple[str, ...]) -> None:
        super().__init__(0.0, workdir, worker_args)
        self.url = settings.require_scicat()
        self.broker = settings.broker
        self.names.update(
            exchange=settings.job_exchange,
            queue=settings.job_queue,
            routing_key=settings.job_routing_key,
            quarantine=settings.quarantine_queue,
        )
        self.owned = ("task_queue",)
        #: the counting proxy's URL, when the pipeline must go through it
        self.proxy_url: str | None = None

    def site_env(self) -> dict[str, str]:
        """The SciCat URL the bench uses (``--scicat-url`` may have replaced the environment's);
        credentials and broker stay as the environment gives them."""
        if self.proxy_url is None:
            return {"ARCHIVER_SCICAT_URL": self.url}
        # the generation is known (ExternalSite checked it): no probe calls through the proxy
        return {"ARCHIVER_SCICAT_URL": self.proxy_url, "ARCHIVER_SCICAT_API": "next"}


class ExternalSite:
    """A real SciCat; datasets owned by ``owner_group``, created through its API."""

    poll_interval = 2.0

    def __init__(
        self,
        settings: Settings,
        workdir: Path,
        worker_args: tuple[str, ...] = (),
        owner_group: str = "group1",
        count_calls: bool = False,
    ) -> None:
        self.settings = settings
        self.stack = ExternalStack(settings, workdir, worker_args)
        self.owner_group = owner_group
        self.client: NextClient | None = None
        self.proxy = CountingProxy(self.stack.url) if count_calls else None
        self.counted: NextClient | None = None
        self.tag = uuid.uuid4().hex[:8]

    def __enter__(self) -> ExternalSite:
        self.client = _next_client(self.settings)
        if self.proxy is not None:
            self.proxy.__enter__()
            self.stack.proxy_url = self.proxy.url
            through = self.settings.replace(scicat_url=self.proxy.url, scicat_api="next")
            self.counted = _next_client(through)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.stop()
        for client in (self.client, self.counted):
            if client is not None:
                client.close()
        if self.proxy is not None:
            self.proxy.__exit__()

    def describe(self) -> str:
        return f"external SciCat at {self.stack.url}"

    def _client(self) -> NextClient:
        assert self.client is not None, "use the site as a context manager"
        return self.client

    def make_jobs(self, jobs: int, per_job: int) -> list[tuple[str, list[str]]]:
        client = self._client()
        made = []
        for index in range(jobs):
            pids = [self._dataset(client, f"{index:05d}-{n:05d}") for n in range(per_job)]
            job = client.create_job("archive", [DatasetRef(p, ()) for p in pids])
            made.append((job.id, pids))
        return made

    def _dataset(self, client: SciCatClient, name: str) -> str:
        folder = f"/bench/{self.tag}/{name}"
        body = {
            "type": "raw", "ownerGroup": self.owner_group, "accessGroups": [],
            "owner": "scicat-archiver bench", "contactEmail": "bench@example.org",
            "sourceFolder": folder, "creationTime": "2024-01-01T00:00:00.000Z",
            "principalInvestigator": "scicat-archiver bench", "creationLocation": "bench",
            "datasetName": f"bench {self.tag} {name}",
        }  # fmt: skip
        pid = str(client.create_dataset(body)["pid"])
        files = [{"path": "raw/file_000000.dat", "size": 1000, "time": "2024-01-01T00:00:00.000Z"}]
        client.create_origdatablock(pid, {"size": 1000, "dataFileList": files})
        return pid

    def _listing(self, where: dict[str, Any]) -> list[dict[str, Any]]:
        query = {"where": where, "limits": {"limit": 100_000}}
        params = {"filter": json.dumps(query)}
        answer = self._client().http.call("GET", "/api/v4/jobs", "bench: list jobs", params=params)
        return list(answer) if isinstance(answer, list) else []

    def unfinished(self, ids: Sequence[str]) -> int:
        wanted = set(ids)
        found = self._listing({"type": "archive", "statusCode": {"$in": list(UNFINISHED)}})
        return sum(1 for doc in found if str(doc.get("id") or doc.get("_id")) in wanted)

    def jobs(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        http = self._client().http
        docs = [http.call("GET", f"/api/v4/jobs/{i}", "bench: read job") for i in ids]
        return {i: d for i, d in zip(ids, docs, strict=True)}

    def calls(self) -> list[tuple[str, str]] | None:
        if self.proxy is None:
            return None  # a real backend keeps no request log the bench could read
        return [c for c in self.proxy.calls if c not in NOT_JOB_WORK]

    def minimal_call(self) -> Call:
        http = (self.counted or self._client()).http

        def call(method: str, path: str, body: Any = None) -> Any:
            return http.call(method, path, f"minimal script: {method} {path}", json_body=body)

        return call


Site = EmulatorSite | ExternalSite


def _next_client(settings: Settings) -> NextClient:
    """A logged-in client of backend-next >= 4.14; any other generation stops the bench."""
    client = connect(settings)
    if not isinstance(client, NextClient):
        client.close()
        raise SystemExit(
            "the external bench needs backend-next >= 4.19 (v5.x): its minimal script uses "
            "/api/v4/jobs and PATCH /datasets/{pid}/datasetlifecycle; set ARCHIVER_SCICAT_API"
        )
    client.login()
    return client


def wait_finished(site: Site, ids: Sequence[str], timeout: float) -> None:
    """Poll until none of ``ids`` is submitted or in progress."""
    deadline = time.monotonic() + timeout
    while site.unfinished(ids):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{site.unfinished(ids)} of {len(ids)} jobs not finished in time")
        time.sleep(site.poll_interval)
