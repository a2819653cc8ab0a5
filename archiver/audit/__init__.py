"""Fixity audits: re-read archived DataBlocks from their storage and compare the catalogue
with what storage holds.

* :mod:`archiver.audit.readers`: how each storage backend lists its tars and re-hashes one.
* :mod:`archiver.audit.compare`: a tar's members against its DataBlock's ``dataFileList``.
* :mod:`archiver.audit.run`: one audit run (catalogue, selection, findings, progress).
* :mod:`archiver.audit.report`: the table, the JSON and the record written to SciCat.
"""
