"""Fixtures of the Flower tests: the whole pipeline is ``pipeline_factory`` of
:mod:`support.pipeline`, registered for every test."""
