"""Fixtures of the Flower tests: the whole pipeline (shared with tests/pipeline)."""

from pipeline.conftest import pipeline_factory  # noqa: F401 - re-exported fixture
