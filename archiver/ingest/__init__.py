"""Putting datasets into SciCat from folders described by ``transfer.yaml``.

- :mod:`~archiver.ingest.transfer`: the file's schema, checked with line numbers;
- :mod:`~archiver.ingest.scan`: walking a folder, checksums, splitting into OrigDatablocks;
- :mod:`~archiver.ingest.build`: request bodies per SciCat generation;
- :mod:`~archiver.ingest.ingest`: one folder, all or nothing;
- :mod:`~archiver.ingest.batch`: many folders, each archived through SciCat;
- :mod:`~archiver.ingest.inprocess`: a job's chain run without RabbitMQ.
"""
