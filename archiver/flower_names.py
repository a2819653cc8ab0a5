"""How a pipeline step shows up in Flower (and in ``celery events``).

The task names already read as the job's steps (``archiver.job.in_progress``,
``archiver.archive.add_datablocks``, ...). What Flower's task list buries is *which job*:
every step gets the same one-dict argument, shown as
``({'job_id': ..., 'type': ..., 'pids': [...], 'api': ..., 'run': ...},)``.

:func:`step_options` builds the signature options that replace that with a readable
``argsrepr``, e.g. ``archive job 1234; 2 datasets: PID/a, PID/b`` — the job id and the
dataset pids in Flower's "args" column, on the SENT and the RECEIVED event alike. It is a
display string in the message headers only; the task still receives its full context.
Flower hides that column unless it runs with ``--tasks-columns`` listing it: use
:data:`TASKS_COLUMNS`.

Why not Celery's ``shadow`` name as well? Flower takes a task's name from whichever of
its SENT and RECEIVED events arrives last; the SENT event always carries the real name and
the RECEIVED event the shadow name, and with a fast worker the SENT event often arrives
last. The list would show some steps under one name and some under the other.
:func:`shadow_name` is kept for log lines and other displays that want one string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Columns of Flower's tasks page (``--tasks-columns`` / ``FLOWER_TASKS_COLUMNS``). Flower
#: hides "args" by default; this order puts the job next to the step and its state.
TASKS_COLUMNS = "name,args,state,received,started,runtime,worker,uuid"
#: Most pids listed in ``argsrepr``; the rest are counted ("+3 more").
MAX_PIDS_SHOWN = 3
#: Longest display string (Celery's own argsrepr limit is 1024 characters).
MAX_LENGTH = 300


def step_label(task_name: str) -> str:
    """The step part of a task name: ``archiver.archive.add_datablocks`` → ``add_datablocks``."""
    return task_name.rsplit(".", 1)[-1] or task_name


def shadow_name(job_type: str, job_id: str, task_name: str) -> str:
    """One string naming job and step, e.g. ``archive job 1234: add_datablocks``."""
    return _clip(f"{job_type} job {job_id}: {step_label(task_name)}")


def args_label(job_type: str, job_id: str, pids: Sequence[str]) -> str:
    """Flower's args column for a step, e.g. ``archive job 1234; 2 datasets: PID/a, PID/b``."""
    count = len(pids)
    text = f"{job_type} job {job_id}".strip()
    text += f"; {count} {'dataset' if count == 1 else 'datasets'}"
    if count:
        text += ": " + ", ".join(str(p) for p in pids[:MAX_PIDS_SHOWN])
        if count > MAX_PIDS_SHOWN:
            text += f" (+{count - MAX_PIDS_SHOWN} more)"
    return _clip(text)


def step_options(task_name: str, payload: Mapping[str, Any]) -> dict[str, str]:
    """Signature options for the step ``task_name`` of the chain whose context is ``payload``.

    ``payload`` is the dict every step receives (``JobContext.to_dict()``: keys ``job_id``,
    ``type``, ``pids``). Returns ``{"argsrepr": ...}``; pass it as the ``options`` of the
    step's signature. ``task_name`` is accepted so the options may name the step later
    without changing callers.
    """
    del task_name  # the task name column already shows the step
    job_id = str(payload.get("job_id", "?"))
    job_type = str(payload.get("type") or "")
    raw = payload.get("pids") or ()
    pids = [str(p) for p in raw] if isinstance(raw, list | tuple) else [str(raw)]
    return {"argsrepr": args_label(job_type, job_id, pids)}


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LENGTH else text[: MAX_LENGTH - 3] + "..."
