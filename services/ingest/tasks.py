"""The ingest worker's task: decode and clean a raw file, then hand the document to enrich.

``register(app)`` adds it to an app built by ``shared.celery_app.make_celery``; start the worker
with ``newsflow worker ingest``.
"""

from __future__ import annotations

from functools import partial

import structlog

from services.ingest.stage import ingest_raw
from shared.blobs import get_blob
from shared.celery_app import NewsflowCelery
from shared.messages import RawFile
from shared.metrics import (
    FILES_RECEIVED,
    HEADER_PARSE,
    RECEIVED_BYTES,
    REPAIRS,
    initialise_stage_series,
)
from shared.receipts import Redrive
from shared.tasks import Finish, StageTask, register_stage_task


def receive(task: StageTask, raw: RawFile) -> str:
    FILES_RECEIVED.labels(source=raw.source).inc()
    RECEIVED_BYTES.inc(raw.size)
    data = raw.inline_bytes()
    if data is None and raw.blob_key:
        data = get_blob(task.redis, raw.blob_key)
    doc = ingest_raw(raw, data, task.settings)
    structlog.contextvars.bind_contextvars(
        doc_id=doc.id,
        size=raw.size,
        encoding=doc.encoding,
        header=doc.header,
        paragraphs=len(doc.paragraphs),
        repairs=len(doc.repairs),
    )
    HEADER_PARSE.labels(result=doc.header).inc()
    for repair in doc.repairs:
        REPAIRS.labels(kind=repair.kind).inc()
    # Ledger first: enrich may finish before this task returns, and the ledger never moves a
    # receipt backwards, so the order only matters for what a reader sees in between. The
    # claim-checked bytes stay until the receipt is terminal: they are what a re-drive reads.
    task.report(doc, "parsed", adopt=Redrive(stage="ingest", payload=raw.model_dump(mode="json")))
    task.forward("enrich", doc)
    return "parsed"


def receive_many(task: StageTask, raws: list[RawFile]) -> list[Finish]:
    """A batch (``shared.batches``): each file is decoded and cleaned as its own finishing step,
    under its own classification (a file is independent of the others, so nothing is gained by
    doing its work together); what the batch saves is Celery's per-message hand-over to the
    child and the delivery bookkeeping, a round trip to Redis per batch instead of per file."""
    return [partial(receive, task, raw) for raw in raws]


def register(app: NewsflowCelery) -> None:
    register_stage_task(app, "ingest", receive, RawFile, run_many=receive_many)
    initialise_stage_series("ingest", ("parsed", "dead_letter"))
