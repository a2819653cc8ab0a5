"""The pipeline tests' names, kept where they were: they live in :mod:`support.pipeline`
(the ``pipeline_factory`` fixture is registered for every test by ``tests/conftest.py``)."""

from support.pipeline import ADMIN, JOB_TIMEOUT, Pipeline, configure_app, make_settings, wait_until

__all__ = ["ADMIN", "JOB_TIMEOUT", "Pipeline", "configure_app", "make_settings", "wait_until"]
