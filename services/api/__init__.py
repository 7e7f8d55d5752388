"""The HTTP API: submit raw files, follow them by receipt, search and read the index.

It is a front door, not a stage: it queues files through ingest's intake exactly as
``newsflow submit`` does, and reads the index through the backend interface
(``services.index.backend``). It never processes a document itself and never writes the index.
"""
