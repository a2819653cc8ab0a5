"""What a storage backend knows about the step run that calls it: job, time budget, progress.

The :class:`~archiver.storage.base.Storage` interface stays small (a dataset in, DataBlocks
out); everything about the *current run of a step* travels in a context variable instead:

* ``job_id``: set by the archive and retrieve steps, so a backend can lay out per-job
  folders (the filesystem backend retrieves to ``<root>/<job id>/<pid>/``).
* ``storage_location``: set by the archive step from the job's ``jobParams.storageLocation``;
  the routing storage prefers it to each dataset's ``datasetlifecycle.storageLocation``.
* ``deadline``: set by the Celery task. When a backend finished a unit of work (a tar, a
  DataBlock) after the deadline and more is left, it raises :class:`ContinueLater`; the task
  then replaces itself with a new run of the same step, which skips what is already done.
  Without a deadline (tests, ``batch --in-process``) a step runs to the end.
* ``report``: set by the Celery task; backends call :func:`report` with bytes done and the
  total, and the task shows it in SciCat and Flower (throttled there).

Context variables are per thread, so concurrent steps in a threads pool do not mix.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from archiver.errors import ContinueLater, UserStorageError

__all__ = ["ContinueLater", "UserStorageError"]  # re-exported: their home is archiver.errors

#: ``report(verb, pid, done_bytes, total_bytes)``.
Reporter = Callable[[str, str, int, int], None]


@dataclass(frozen=True)
class StepRun:
    """The current step run as backends see it."""

    job_id: str = ""
    storage_location: str | None = None
    deadline: float | None = None
    reporter: Reporter | None = None


_current: ContextVar[StepRun] = ContextVar("archiver_step_run", default=StepRun())  # noqa: B039


def current() -> StepRun:
    """The step run of this thread (an empty one outside any step)."""
    return _current.get()


@contextlib.contextmanager
def step_run(**changes: object) -> Iterator[StepRun]:
    """Run the block with the current step run updated by ``changes``."""
    token = _current.set(dataclasses.replace(_current.get(), **changes))  # type: ignore[arg-type]
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def budget(seconds: float | None) -> contextlib.AbstractContextManager[StepRun]:
    """A step run that may go on for ``seconds`` (``None``: no limit)."""
    return step_run(deadline=None if seconds is None else time.monotonic() + seconds)


def out_of_time() -> bool:
    """``True`` when the current run has a deadline and it has passed."""
    deadline = _current.get().deadline
    return deadline is not None and time.monotonic() >= deadline


def report(verb: str, pid: str, done: int, total: int) -> None:
    """Tell the current step's reporter how far the work on ``pid`` is.

    The reporter itself decides which failures progress may ignore (SciCat or the broker
    unreachable); anything else is a bug and reaches the step.
    """
    reporter = _current.get().reporter
    if reporter is not None:
        reporter(verb, pid, done, total)
