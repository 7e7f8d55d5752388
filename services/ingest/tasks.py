"""The ingest worker's task: decode and clean a raw file, then hand the document to enrich.

Start it with ``newsflow worker ingest`` (or ``celery -A services.ingest.tasks worker -Q ingest``).
"""

from __future__ import annotations

import structlog

from services.ingest.stage import ingest_raw
from shared.blobs import drop_blob, get_blob
from shared.celery_app import app, send_to_stage
from shared.messages import RawFile
from shared.metrics import (
    FILES_RECEIVED,
    HEADER_PARSE,
    RECEIVED_BYTES,
    REPAIRS,
    initialise_stage_series,
)
from shared.receipts import report_document
from shared.redis_client import redis_client
from shared.settings import load_settings
from shared.stages import TASK_NAMES
from shared.tasks import StageTask

initialise_stage_series("ingest", ("parsed", "dead_letter"))

__all__ = ["app", "receive"]


@app.task(base=StageTask, name=TASK_NAMES["ingest"], stage="ingest", payload_model=RawFile)
def receive(raw: RawFile) -> str:
    settings = load_settings()
    client = redis_client()
    FILES_RECEIVED.labels(source=raw.source).inc()
    RECEIVED_BYTES.inc(raw.size)
    data = raw.inline_bytes()
    if data is None and raw.blob_key:
        data = get_blob(client, raw.blob_key)
    doc = ingest_raw(raw, data, settings)
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
    # Status first: enrich may finish before this task returns, and must not be overwritten.
    report_document(doc, "parsed", "ingest")
    send_to_stage("enrich", doc.model_dump(mode="json"))
    if raw.blob_key:
        drop_blob(client, raw.blob_key)
    return "parsed"
