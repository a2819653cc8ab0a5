"""Benchmark harness of scicat-archiver: throughput, latency, cost, scale (``python -m bench``)."""
