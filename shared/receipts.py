"""Where a submitted file is now: one small JSON record per receipt, in Redis, with a TTL.

Stages write it as they go; ``newsflow submit --wait`` (and later the HTTP API) read it. It is
a convenience view, never the source of truth: the index and the dead-letter store are.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import redis
from pydantic import BaseModel, ConfigDict

from shared.keys import receipt_key
from shared.messages import ParsedDocument
from shared.redis_client import redis_client
from shared.settings import load_settings

State = Literal["queued", "parsed", "enriched", "indexed", "duplicate", "dead_letter"]
FINAL_STATES: frozenset[str] = frozenset({"indexed", "duplicate", "dead_letter"})


class ReceiptStatus(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    receipt: str
    state: State
    filename: str | None = None
    stage: str | None = None
    doc_id: str | None = None
    duplicate_of: str | None = None
    reason: str | None = None
    error: str | None = None
    updated_at: datetime

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES


def record_status(
    client: redis.Redis, ttl_seconds: int, receipt: str, state: State, **fields: str | None
) -> None:
    status = ReceiptStatus(receipt=receipt, state=state, updated_at=datetime.now(UTC), **fields)
    client.set(receipt_key(receipt), status.model_dump_json(), ex=ttl_seconds)


def report_document(
    doc: ParsedDocument, state: State, stage: str, duplicate_of: str | None = None
) -> None:
    """Record how far a document got, from inside a worker (its own Redis client and settings)."""
    record_status(
        redis_client(),
        load_settings().receipt_ttl_seconds,
        doc.receipt,
        state,
        filename=doc.filename,
        doc_id=doc.id,
        stage=stage,
        duplicate_of=duplicate_of,
    )


def read_status(client: redis.Redis, receipt: str) -> ReceiptStatus | None:
    raw = client.get(receipt_key(receipt))
    return None if raw is None else ReceiptStatus.model_validate_json(raw)
