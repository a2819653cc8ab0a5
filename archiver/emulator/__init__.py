"""SciCat emulator: an in-memory HTTP server behaving like a SciCat backend.

Flavours: ``next`` (backend-next >= 4.14 / 5.x: v4 jobs + v3 shim, JWT login, publishes v4
jobs to RabbitMQ), ``next-legacy`` (backend-next 4.0-4.13: hard-coded v3 jobs, never
publishes) and ``loopback`` (LoopBack 3.x backend: ``access_token``, publishes v3 jobs on
create). Start it with :class:`Emulator` or ``archiver emulator``. ``next`` can also run
the job configuration's ``url`` action (:mod:`archiver.emulator.url_action`), which POSTs
each job to an HTTP endpoint such as ``archiver serve``.

Permissions (``next`` and ``next-legacy``): by default the ``scicatlive`` profile of
:mod:`archiver.emulator.permissions` answers like backend v5.2.1 configured by scicatlive
(e.g. ``admin`` may not delete DataBlocks, only the user ``archiveManager`` and admins may
update jobs, datasets another group owns are 403 by pid and absent from queries);
``profile="permissive"`` lets every account do everything; single group settings are
overridden by keyword (``delete_groups="admin,archivemanager"``). LoopBack is always
permissive. Bodies are checked like class-validator (one e-mail address in ``ownerEmail``,
ISO 8601 dates, enums, unknown keys), with NestJS's message arrays.

Admin API (no auth, not subject to latency or faults, not in the request log; bodies are
JSON objects whatever the ``Content-Type``, anything else answers 400 and creates nothing):

- ``GET /emulator/state``: jobs, datasets, datablocks, origdatablocks, attachments.
- ``POST /emulator/faults`` ``{path, status, count, method, delay_s}``: the next ``count``
  API requests whose path matches the regex ``path`` answer ``status`` (``null``: only delay).
- ``GET /emulator/faults`` / ``DELETE /emulator/faults``: list / disarm the faults.
- ``POST /emulator/expire-tokens``: every token issued so far is expired.
- ``POST /emulator/datasets`` (dataset fields) -> ``{pid}``: seed a dataset.
- ``POST /emulator/datasets/{pid}/origdatablocks`` ``{files, ...}`` -> ``{id}``.
- ``POST /emulator/jobs`` ``{type, pids, status?, params?, publish?}`` -> the v4 job.
- ``GET /emulator/requests``: ``{"requests": [[method, path, status]], "counts": {...}}``.
- ``GET /emulator/jobs``: every job's id, type, statusCode, createdAt and updatedAt.

Capacity mode (``capacity=N``, ``archiver emulator --capacity N``): at most N API requests
per second, served one at a time, like a saturated backend; admin requests are not limited.
"""

from __future__ import annotations

from archiver.emulator.emulator import Emulator
from archiver.emulator.routes import route_table
from archiver.emulator.url_action import UrlAction

#: ``(method, path template)`` of every route the ``next`` flavour serves.
ROUTES: list[tuple[str, str]] = route_table("next")

__all__ = ["Emulator", "ROUTES", "UrlAction", "route_table"]
