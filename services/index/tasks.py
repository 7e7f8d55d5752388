"""The index worker's task: store the enriched document, idempotently, and make it searchable.

Start it with ``newsflow worker index`` (or ``celery -A services.index.tasks worker -Q index``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from celery import signals

from services.index.stage import index_for
from shared.celery_app import app
from shared.messages import EnrichedDocument
from shared.metrics import END_TO_END_LATENCY, initialise_stage_series
from shared.receipts import report_document
from shared.settings import load_settings
from shared.stages import TASK_NAMES
from shared.tasks import StageTask


@signals.worker_process_init.connect
def _open_index(**_: Any) -> None:
    """Open the index (creating or migrating its schema) as each child starts, so a bad
    NEWSFLOW_INDEX_URL or an unreachable database shows at start, not at the first document."""
    try:
        index_for(load_settings())
    except Exception as error:  # noqa: BLE001  # tasks retry and dead-letter; the child lives
        structlog.get_logger("newsflow.index").error(
            "index not reachable at start", error=repr(error)
        )


initialise_stage_series("index", ("indexed", "near_duplicate", "dead_letter"))

__all__ = ["app", "document"]


@app.task(base=StageTask, name=TASK_NAMES["index"], stage="index", payload_model=EnrichedDocument)
def document(doc: EnrichedDocument) -> str:
    is_new = index_for(load_settings()).upsert(doc)
    structlog.contextvars.bind_contextvars(new=is_new, language=doc.language)
    report_document(doc, "indexed", "index")
    latency = (datetime.now(UTC) - doc.received_at).total_seconds()
    END_TO_END_LATENCY.observe(max(latency, 0.0))
    structlog.contextvars.bind_contextvars(end_to_end_s=round(latency, 3))
    # A near-duplicate is stored like any document; its own outcome lets the dashboard show
    # how much of what is indexed repeats earlier news.
    return "near_duplicate" if doc.near_duplicate_of else "indexed"
