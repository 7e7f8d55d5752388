"""The enrich worker's task: language, duplicates, money and entities, then on to index.

Start it with ``newsflow worker enrich`` (or ``celery -A services.enrich.tasks worker -Q enrich``).
"""

from __future__ import annotations

from typing import Any

import structlog
from celery import signals

from services.enrich import entities
from services.enrich.dedupe import RedisClaims
from services.enrich.neardup import RedisNearDuplicates
from services.enrich.stage import EnrichStores, enrich_document
from shared.celery_app import app, send_to_stage
from shared.messages import ParsedDocument
from shared.metrics import (
    DOCUMENTS_BY_LANGUAGE,
    DUPLICATES,
    ENTITIES,
    MONEY_MENTIONS,
    initialise_stage_series,
)
from shared.receipts import report_document
from shared.redis_client import redis_client
from shared.settings import load_settings
from shared.stages import TASK_NAMES
from shared.tasks import StageTask


@signals.worker_process_init.connect
def _load_models(**_: Any) -> None:
    """Load the NER models in each prefork child at start, not inside its first task, so no
    document pays the two-second load and no task nears its time limits because of it."""
    entities.load_models()


initialise_stage_series("enrich", ("enriched", "duplicate", "dead_letter"))

__all__ = ["app", "document"]


@app.task(base=StageTask, name=TASK_NAMES["enrich"], stage="enrich", payload_model=ParsedDocument)
def document(doc: ParsedDocument) -> str:
    client = redis_client()
    stores = EnrichStores(claims=RedisClaims(client), near_duplicates=RedisNearDuplicates(client))
    enriched = enrich_document(doc, stores, load_settings())
    structlog.contextvars.bind_contextvars(
        language=enriched.language,
        language_confidence=enriched.language_confidence,
        duplicate_of=enriched.duplicate_of,
        near_duplicate_of=enriched.near_duplicate_of,
        cluster_id=enriched.cluster_id,
    )
    if enriched.duplicate_of:
        DUPLICATES.labels(kind="exact").inc()
        report_document(doc, "duplicate", "enrich", duplicate_of=enriched.duplicate_of)
        return "duplicate"
    # Data-quality counts describe what gets indexed, so an exact copy is not counted twice.
    DOCUMENTS_BY_LANGUAGE.labels(language=enriched.language).inc()
    if enriched.near_duplicate_of:
        DUPLICATES.labels(kind="near").inc()
    for mention in enriched.money:
        MONEY_MENTIONS.labels(currency=mention.currency).inc()
    for entity in enriched.entities:
        ENTITIES.labels(type=entity.type).inc()
    report_document(doc, "enriched", "enrich")
    send_to_stage("index", enriched.model_dump(mode="json"))
    return "enriched"
