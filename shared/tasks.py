"""The one base task: log context, metrics, failure classification, retries and dead letters.

Stage tasks stay thin: they receive an already-validated message model and return an outcome
word. Everything that must be true of every stage lives here, once:

* structlog context (``task_id``, ``stage``, ``receipt``, ``doc_id``) bound at start, cleared at
  end, and one canonical log line per message;
* ``newsflow_stage_duration_seconds`` and ``newsflow_documents_processed_total``;
* transient errors (Redis or the index unreachable) retried with capped exponential backoff and
  jitter; retries exhausted -> dead letter ``retries_exhausted``;
* permanent errors dead-lettered at once with their reason; an unexpected exception is a bug, and
  is dead-lettered as ``internal_error`` with its traceback rather than lost.
"""

from __future__ import annotations

import random
import sqlite3
import time
import traceback
from datetime import UTC, datetime
from typing import Any, ClassVar

import redis
import structlog
from celery import Task
from celery.exceptions import Reject, Retry
from kombu.exceptions import OperationalError as BrokerError
from pydantic import BaseModel, ValidationError

from shared.blobs import keep_blob
from shared.deadletters import DeadLetterStore
from shared.errors import DeadLetterReason, PermanentError, TransientError
from shared.messages import DeadLetter
from shared.metrics import DEAD_LETTERS, DOCUMENTS_PROCESSED, STAGE_DURATION, TASK_RETRIES
from shared.receipts import record_status
from shared.redis_client import redis_client
from shared.settings import load_settings

log = structlog.get_logger("newsflow.task")

# Errors that say "a server is not answering right now", not "this input is bad".
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    redis.ConnectionError,
    redis.TimeoutError,
    BrokerError,
    sqlite3.OperationalError,  # "database is locked" while another writer holds it
)


def retry_countdown(retries: int, cap: int) -> float:
    """Exponential backoff with full jitter, so retrying workers do not stampede together."""
    return random.uniform(0, min(cap, 2 ** (retries + 1)))  # noqa: S311  # jitter, not crypto


class StageTask(Task):  # type: ignore[misc]  # Celery's Task is untyped
    """Base class of every stage task; see the module docstring for what it owns."""

    abstract = True
    stage: ClassVar[str]
    payload_model: ClassVar[type[BaseModel]]
    acks_late = True
    reject_on_worker_lost = True

    def __call__(self, payload: Any) -> str:
        """Validate, run, classify: the task body only ever sees a valid message model."""
        settings = load_settings()
        receipt = str(payload.get("receipt")) if isinstance(payload, dict) else self.request.id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            task_id=self.request.id,
            stage=self.stage,
            receipt=receipt,
            doc_id=payload.get("id") if isinstance(payload, dict) else None,
        )
        started = time.perf_counter()
        outcome = "dead_letter"
        try:
            message = self.payload_model.model_validate(payload)
            outcome = str(self.run(message))
        except Retry:
            raise
        except ValidationError as error:
            self._dead_letter(payload, receipt, "invalid_message", str(error))
        except PermanentError as error:
            self._dead_letter(payload, receipt, error.reason, error.detail)
        except TRANSIENT_ERRORS as error:
            if self.request.retries >= settings.task_max_retries:
                self._dead_letter(payload, receipt, "retries_exhausted", repr(error))
            else:
                TASK_RETRIES.labels(stage=self.stage).inc()
                countdown = retry_countdown(self.request.retries, settings.retry_backoff_max)
                log.warning("transient error, retrying", error=repr(error), countdown=countdown)
                raise self.retry(exc=error, countdown=countdown, max_retries=None) from error
        except Exception:  # noqa: BLE001  # a bug must not lose the message: dead-letter it
            self._dead_letter(payload, receipt, "internal_error", traceback.format_exc())
        finally:
            duration = time.perf_counter() - started
            STAGE_DURATION.labels(stage=self.stage).observe(duration)
        DOCUMENTS_PROCESSED.labels(stage=self.stage, outcome=outcome).inc()
        log.info("message processed", outcome=outcome, duration_s=round(duration, 6))
        structlog.contextvars.clear_contextvars()
        return outcome

    def _dead_letter(
        self, payload: Any, receipt: str, reason: DeadLetterReason, error: str
    ) -> None:
        """Store the original payload with the reason; if even that fails, requeue the message."""
        settings = load_settings()
        letter = DeadLetter(
            stage=self.stage,
            receipt=receipt,
            reason=reason,
            error=error[-4000:],
            failed_at=datetime.now(UTC),
            task_name=self.name,
            payload=payload if isinstance(payload, dict) else {"value": repr(payload)},
            doc_id=structlog.contextvars.get_contextvars().get("doc_id"),
        )
        try:
            client = redis_client()
            DeadLetterStore(client).add(letter)
            blob = letter.payload.get("blob_key")
            if isinstance(blob, str):
                keep_blob(client, blob)
            record_status(
                client,
                settings.receipt_ttl_seconds,
                receipt,
                "dead_letter",
                stage=self.stage,
                reason=reason,
                error=error[:500],
                filename=str(letter.payload.get("filename", "")) or None,
                doc_id=letter.doc_id,
            )
        except TRANSIENT_ERRORS as store_error:
            # Acking now would lose the message: hand it back to the broker instead.
            log.error("cannot store dead letter, requeueing", error=repr(store_error))
            raise Reject(store_error, requeue=True) from store_error
        DEAD_LETTERS.labels(stage=self.stage, reason=reason).inc()
        log.error("message dead-lettered", reason=reason, error=error[:500])
