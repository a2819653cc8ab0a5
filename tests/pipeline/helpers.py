"""The pipeline tests' helpers, kept where they were: they live in :mod:`support.helpers`."""

from support.helpers import (
    calls,
    encoded,
    kill_group,
    publish_raw,
    seed,
    submit,
    worker_process,
)

__all__ = ["calls", "encoded", "kill_group", "publish_raw", "seed", "submit", "worker_process"]
