"""The ledger's clock and the reconciler's verdict: a receipt is driven again when its message is
lost, never while its stage is still on it (waiting in the queue, or retrying)."""

from __future__ import annotations

import json
import time
from typing import Any

import fakeredis
import pytest
import redis

from newsflow import reconcile
from newsflow.reconcile import OWN_MESSAGE_SECONDS, reconcile_once
from services.ingest.intake import Intake
from shared import tasks
from shared.celery_app import SENT_AT_HEADER, make_celery
from shared.keys import pending_key
from shared.messages import ParsedDocument
from shared.receipts import Ledger
from shared.settings import Settings
from shared.stages import Stage
from shared.tasks import StageTask

AFTER = 60


class RecordingPublisher:
    """Stands in for the publisher: records what the reconciler sends."""

    app = None

    def __init__(self) -> None:
        self.sent: list[tuple[Stage, dict[str, Any]]] = []

    def send(self, stage: Stage, payload: dict[str, Any]) -> None:
        self.sent.append((stage, payload))


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> redis.Redis:
    fake = fakeredis.FakeRedis()
    # The reconciler reads the broker's queues through its own client; here it is the same
    # fake server (Redis is the broker).
    monkeypatch.setattr(reconcile, "redis_client", lambda _url: fake)
    return fake


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None, reconcile_after_seconds=AFTER)


def intake_over(client: redis.Redis, settings: Settings) -> tuple[Intake, RecordingPublisher]:
    publisher = RecordingPublisher()
    return Intake(client, settings, publisher), publisher  # type: ignore[arg-type]


def queue_message(client: redis.Redis, stage: Stage, sent_at: float) -> None:
    """A message as kombu's Redis transport keeps it: JSON with the headers (newest at the left,
    so the oldest is the last element)."""
    client.lpush(stage, json.dumps({"body": "", "headers": {SENT_AT_HEADER: sent_at}}))


def enriched_receipt(ledger: Ledger, receipt: str) -> None:
    ledger.open(receipt, stage="ingest", payload={"receipt": receipt})
    ledger.advance(receipt, "parsed")
    ledger.advance(receipt, "enriched")


def test_touch_restarts_the_clock_of_a_pending_receipt_only(
    client: redis.Redis, settings: Settings
) -> None:
    ledger = Ledger(client, settings)
    enriched_receipt(ledger, "r1")
    before = client.zscore(pending_key(), "r1")
    time.sleep(0.01)
    ledger.touch("r1")
    assert client.zscore(pending_key(), "r1") > before  # type: ignore[operator]
    ledger.touch("never-opened")
    ledger.advance("r1", "indexed")
    ledger.touch("r1")
    assert client.zcard(pending_key()) == 0, "a touch must not bring back a finished receipt"


def test_due_gives_each_receipt_with_the_time_it_last_moved(
    client: redis.Redis, settings: Settings
) -> None:
    ledger = Ledger(client, settings)
    enriched_receipt(ledger, "r1")
    moved = client.zscore(pending_key(), "r1")
    assert ledger.due(time.time()) == []
    assert ledger.due(time.time() + AFTER + 1) == [("r1", moved)]


def test_a_receipt_whose_message_was_lost_is_driven_again(
    client: redis.Redis, settings: Settings
) -> None:
    """Its queue has moved past it (only a later message waits there): the broker lost it."""
    intake, publisher = intake_over(client, settings)
    enriched_receipt(intake.ledger, "lost")
    queue_message(client, "index", time.time() + OWN_MESSAGE_SECONDS + 1)
    report = reconcile_once(intake, now=time.time() + AFTER + 1)
    assert (report.redriven, report.waiting) == (1, 0)
    assert publisher.sent == [("ingest", {"receipt": "lost"})]


def test_a_receipt_in_retries_is_left_to_them(client: redis.Redis, settings: Settings) -> None:
    """A document waiting out a database outage: its retry sits in the queue, published long
    after the receipt last changed state. The retry restarted the receipt's clock, so once that
    clock is due again the queue has not moved past it, and nothing is sent twice (before, each
    such receipt was driven again every ``reconcile_after_seconds`` and dead-lettered as
    ``stalled`` after ``reconcile_max_attempts``, while its retries went on)."""
    intake, publisher = intake_over(client, settings)
    enriched_receipt(intake.ledger, "retrying")
    time.sleep(0.01)
    queue_message(client, "index", time.time())  # the retry, as the base task publishes it
    intake.ledger.touch("retrying")  # ... and then restarts the receipt's clock
    report = reconcile_once(intake, now=time.time() + AFTER + 1)
    assert (report.due, report.redriven, report.waiting) == (1, 0, 1)
    assert publisher.sent == []


def test_a_receipt_whose_own_message_is_next_in_its_queue_is_not_driven_again(
    client: redis.Redis, settings: Settings
) -> None:
    """A backlog older than the deadline: the receipt's own message, published just after its
    last change, is the oldest in the queue. The queue has not moved past it (before, the
    receipt at the head of each backlogged queue was driven again at every pass)."""
    intake, publisher = intake_over(client, settings)
    enriched_receipt(intake.ledger, "next-in-line")
    queue_message(client, "index", time.time() + 0.01)  # forwarded right after the report
    report = reconcile_once(intake, now=time.time() + AFTER + 1)
    assert (report.due, report.redriven, report.waiting) == (1, 0, 1)
    assert publisher.sent == []


def test_a_task_start_restarts_its_receipts_clock(
    client: redis.Redis, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message that waited in a backlog past the deadline is being worked on once a task
    starts on it (in a database outage an attempt holds it, out of the queue, for seconds)."""
    monkeypatch.setattr(tasks, "redis_client", lambda _url: client)
    app = make_celery(settings)

    def work(task: StageTask, doc: ParsedDocument) -> str:
        return "parsed"

    task = app.task(
        base=StageTask, bind=True, name="test.stage", stage="enrich", payload_model=ParsedDocument
    )(work)
    ledger = Ledger(client, settings)
    enriched_receipt(ledger, "r1")
    before = client.zscore(pending_key(), "r1")
    time.sleep(0.01)
    task.push_request(id="task-1", retries=0)
    try:
        task._count_delivery("r1")
    finally:
        task.pop_request()
    assert client.zscore(pending_key(), "r1") > before  # type: ignore[operator]
