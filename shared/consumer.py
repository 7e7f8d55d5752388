"""A Celery consumer that dead-letters messages it cannot even turn into a task.

Celery's default consumer acknowledges an undecodable message (e.g. pickle, which we refuse) and
rejects one for an unknown task: both vanish. Our standard is that bad input never vanishes, so
these hooks store the raw message as a dead letter with the reason before letting it go.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any

import structlog
from celery.worker.consumer import Consumer

from shared.deadletters import DeadLetterStore
from shared.messages import DeadLetter
from shared.metrics import DEAD_LETTERS
from shared.redis_client import redis_client

log = structlog.get_logger("newsflow.consumer")


def _store_raw(message: Any, reason: str, error: str) -> None:
    delivery = getattr(message, "delivery_info", {}) or {}
    stage = str(delivery.get("routing_key") or "ingest")
    headers = getattr(message, "headers", {}) or {}
    body = getattr(message, "body", b"")
    raw = body if isinstance(body, bytes) else str(body).encode()
    letter = DeadLetter(
        stage=stage,
        receipt=str(headers.get("id") or uuid.uuid4()),
        reason=reason,
        error=error[:2000],
        failed_at=datetime.now(UTC),
        task_name=str(headers.get("task") or ""),
        payload={
            "content_type": getattr(message, "content_type", None),
            "body_b64": base64.b64encode(raw).decode(),
        },
    )
    DeadLetterStore(redis_client()).add(letter)
    DEAD_LETTERS.labels(stage=stage, reason=reason).inc()
    log.error("message dead-lettered by consumer", stage=stage, reason=reason, error=error[:500])


class DeadLetteringConsumer(Consumer):  # type: ignore[misc]  # Celery's classes are untyped
    def on_decode_error(self, message: Any, exc: Exception) -> None:
        _store_raw(message, "invalid_message", f"cannot decode message: {exc}")
        message.ack()

    def on_unknown_task(self, body: Any, message: Any, exc: Exception) -> None:
        _store_raw(message, "invalid_message", f"unknown task: {exc}")
        super().on_unknown_task(body, message, exc)

    def on_invalid_task(self, body: Any, message: Any, exc: Exception) -> None:
        _store_raw(message, "invalid_message", f"invalid task message: {exc}")
        super().on_invalid_task(body, message, exc)
