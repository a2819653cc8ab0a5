"""Shared test helpers: the whole pipeline on the real RabbitMQ (:mod:`support.pipeline`,
whose ``pipeline_factory`` fixture every test may use) and what tests do with it
(:mod:`support.helpers`: seed datasets, submit jobs, publish raw bodies, worker processes)."""
