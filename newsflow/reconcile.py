"""The reconciler: drive again every receipt that stopped moving, so no accepted file is lost.

A broker can lose a message at its edges: a worker killed between popping a message and
recording it, a Redis restart that drops its last second of writes, a retry that could not be
published. The receipt ledger (``shared.receipts``) still knows each such file and keeps the
message that starts it. A receipt is due when it has not moved for ``reconcile_after_seconds``;
it is driven again only once its stage's queue holds nothing older than its last change (a
message still waiting behind a backlog is late, not lost, and sending it twice would double
the backlog). A retry counts as a change: the stage restarts the receipt's clock after queueing
the retry, so a document waiting out a database outage is left to its retries. After
``reconcile_max_attempts`` re-drives it is dead-lettered as ``stalled``.

Idempotent stages make a re-drive harmless even when the original message was only slow; the
re-drive claim is one Lua script, so several reconcilers may run at once.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from celery import Celery

from services.ingest.intake import Intake
from shared.celery_app import SENT_AT_HEADER, is_amqp, queue_depth
from shared.deadletters import DeadLetterStore
from shared.messages import DeadLetter
from shared.metrics import DEAD_LETTERS, REDRIVES
from shared.receipts import WAITING_IN, ReceiptStatus, Redrive, read_status
from shared.redis_client import redis_client
from shared.stages import TASK_NAMES, Stage

log = structlog.get_logger("newsflow.reconcile")


@dataclass
class ReconcileReport:
    due: int = 0
    redriven: int = 0
    stalled: int = 0
    waiting: int = 0  # due, but a message older than their last change is still queued
    by_stage: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "due": self.due,
            "redriven": self.redriven,
            "stalled": self.stalled,
            "waiting": self.waiting,
            "redriven_by_stage": self.by_stage,
        }


def oldest_sent_at(raw: bytes | str | None) -> float | None:
    """The publish time of a message as kombu's Redis transport stores it (JSON with headers),
    or None if it does not say (a message from another producer)."""
    if raw is None:
        return None
    try:
        envelope = json.loads(raw)
        value = envelope["headers"][SENT_AT_HEADER]
        return float(value)
    except (ValueError, KeyError, TypeError):
        return None


# A stage records a receipt's progress in the ledger just before it publishes the receipt's next
# message, so that message is published a moment after the receipt's last change: a queue whose
# oldest message is that one has not moved past the receipt. A message published within this
# many seconds of a receipt's last change may be its own.
OWN_MESSAGE_SECONDS = 5.0


class QueueHorizon:
    """Tells whether a stage's queue has moved past a moment: it is empty, or the oldest
    message in it was published after that moment (by more than ``OWN_MESSAGE_SECONDS``).
    One look per stage and pass."""

    def __init__(self, app: Celery, broker_url: str) -> None:
        self._app = app
        self._broker_url = broker_url
        self._oldest: dict[str, float | None] = {}

    def passed(self, stage: Stage, moment: float) -> bool:
        if stage not in self._oldest:
            self._oldest[stage] = self._look(stage)
        oldest = self._oldest[stage]
        return oldest is None or oldest > moment + OWN_MESSAGE_SECONDS

    def _look(self, stage: Stage) -> float | None:
        """None when the queue is empty; else the oldest message's publish time (0 when it
        cannot be told, which holds back re-drives until that message is consumed)."""
        # On a Redis broker (behind Sentinel too) the queue is a list to peek at; elsewhere only
        # its depth can be read.
        if is_amqp(self._broker_url) or not self._broker_url.startswith(
            ("redis://", "rediss://", "sentinel://")
        ):
            return None if queue_depth(self._app, stage) == 0 else 0.0
        raw = redis_client(self._broker_url).lindex(stage, -1)
        if raw is None:
            return None
        return oldest_sent_at(raw) or 0.0


def reconcile_once(intake: Intake, now: float | None = None, limit: int = 1000) -> ReconcileReport:
    """One pass over the receipts that are due."""
    settings = intake.settings
    ledger = intake.ledger
    now = time.time() if now is None else now
    horizon = QueueHorizon(intake.publisher.app, settings.broker)
    report = ReconcileReport()
    for receipt, last_moved in ledger.due(now, limit):
        report.due += 1
        status = read_status(intake.client, receipt)
        if status is not None and not status.final:
            # Its next message waits in the queue of the stage after its state; once driven
            # again, the re-sent message waits in the queue it was sent to (usually ingest's).
            waiting_in = {WAITING_IN[status.state]}
            earlier = ledger.redrive_of(receipt)
            if earlier is not None and earlier.attempts:
                waiting_in.add(earlier.stage)
            if not all(horizon.passed(stage, last_moved) for stage in waiting_in):
                report.waiting += 1
                continue
        claimed = ledger.claim_redrive(receipt, now, settings.reconcile_max_attempts)
        if claimed is None:
            continue
        verdict, found = claimed
        if not isinstance(found, Redrive):
            log.error("redrive payload unreadable; dropped from the ledger", receipt=receipt)
            continue
        if verdict == "stalled":
            _dead_letter_stalled(intake, receipt, found, status)
            report.stalled += 1
            continue
        intake.publisher.send(found.stage, found.payload)
        REDRIVES.labels(stage=found.stage).inc()
        report.redriven += 1
        report.by_stage[found.stage] = report.by_stage.get(found.stage, 0) + 1
        log.warning(
            "receipt driven again",
            receipt=receipt,
            stage=found.stage,
            attempt=found.attempts,
            state=status.state if status else None,
        )
    return report


def _dead_letter_stalled(
    intake: Intake,
    receipt: str,
    redrive: Redrive,
    status: ReceiptStatus | None,
) -> None:
    state = status.state if status else "unknown"
    error = (
        f"still {state} after {redrive.attempts} re-drives by the reconciler; "
        "replay it once the cause is fixed"
    )
    letter = DeadLetter(
        stage=redrive.stage,
        receipt=receipt,
        reason="stalled",
        error=error,
        failed_at=datetime.now(UTC),
        task_name=TASK_NAMES[redrive.stage],
        payload=redrive.payload,
        doc_id=status.doc_id if status else None,
    )
    DeadLetterStore.for_settings(intake.client, intake.settings).add(letter)
    intake.ledger.advance(
        receipt,
        "dead_letter",
        stage=redrive.stage,
        reason="stalled",
        error=error,
        filename=status.filename if status else None,
    )
    DEAD_LETTERS.labels(stage=redrive.stage, reason="stalled").inc()
    log.error("receipt stalled; dead-lettered", receipt=receipt, stage=redrive.stage)
