"""The receipt ledger: states only move forward, open receipts keep what drives them again, and
the reconciler re-sends what stopped moving (and gives up on what keeps stopping)."""

from __future__ import annotations

import json
import time
from typing import Any

import fakeredis
import pytest

from newsflow import reconcile
from services.ingest.intake import Intake
from shared.deadletters import DeadLetterStore
from shared.keys import blob_key, pending_key, redrive_key
from shared.receipts import Ledger, Redrive, read_status
from shared.settings import Settings

PAYLOAD = {"receipt": "r1", "filename": "a.txt"}


@pytest.fixture
def client() -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis()


@pytest.fixture
def ledger(client: fakeredis.FakeRedis) -> Ledger:
    return Ledger(client, Settings(_env_file=None, reconcile_after_seconds=10))


def _state(client: fakeredis.FakeRedis, receipt: str = "r1") -> str | None:
    status = read_status(client, receipt)
    return status.state if status else None


def test_states_only_move_forward(client: fakeredis.FakeRedis, ledger: Ledger) -> None:
    """A redelivered ingest message must not turn an enriched or indexed receipt back."""
    ledger.open("r1", stage="ingest", payload=PAYLOAD, filename="a.txt")
    assert _state(client) == "queued"
    assert ledger.advance("r1", "enriched")
    assert not ledger.advance("r1", "parsed")
    assert _state(client) == "enriched"
    assert ledger.advance("r1", "indexed")
    assert not ledger.advance("r1", "parsed")
    assert not ledger.advance("r1", "dead_letter", reason="timeout")
    assert _state(client) == "indexed"


def test_an_open_receipt_is_pending_with_its_redrive_until_terminal(
    client: fakeredis.FakeRedis, ledger: Ledger
) -> None:
    client.set(blob_key("r1"), b"bytes")
    ledger.open("r1", stage="ingest", payload=PAYLOAD)
    assert client.zscore(pending_key(), "r1") is not None
    assert ledger.redrive_of("r1") == Redrive(stage="ingest", payload=PAYLOAD)
    ledger.advance("r1", "indexed")
    assert client.zscore(pending_key(), "r1") is None
    assert client.get(redrive_key("r1")) is None
    assert client.get(blob_key("r1")) is None, "the claim-checked bytes go once terminal"


def test_an_ingest_dead_letter_keeps_its_bytes_for_replay(
    client: fakeredis.FakeRedis, ledger: Ledger
) -> None:
    client.set(blob_key("r1"), b"bytes")
    ledger.open("r1", stage="ingest", payload=PAYLOAD)
    ledger.advance("r1", "dead_letter", stage="ingest", reason="undecodable")
    assert client.get(blob_key("r1")) == b"bytes"


def test_a_replay_or_reindex_reopens_a_terminal_receipt(
    client: fakeredis.FakeRedis, ledger: Ledger
) -> None:
    ledger.open("r1", stage="ingest", payload=PAYLOAD)
    ledger.advance("r1", "indexed")
    ledger.open("r1", stage="enrich", payload={"receipt": "r1", "id": "d"})
    assert _state(client) == "queued"
    assert ledger.redrive_of("r1") == Redrive(stage="enrich", payload={"receipt": "r1", "id": "d"})


def test_a_receipt_another_program_never_opened_is_adopted_by_ingest(
    client: fakeredis.FakeRedis, ledger: Ledger
) -> None:
    """A file sent straight to the ingest queue is protected from the moment ingest read it,
    and an existing redrive (the submitter's) is never replaced."""
    ledger.advance("r1", "parsed", adopt=Redrive(stage="ingest", payload=PAYLOAD))
    assert ledger.redrive_of("r1") == Redrive(stage="ingest", payload=PAYLOAD)
    ledger.advance("r1", "parsed", adopt=Redrive(stage="ingest", payload={"other": 1}))
    assert ledger.redrive_of("r1") == Redrive(stage="ingest", payload=PAYLOAD)


def test_due_receipts_are_claimed_once_per_deadline_and_stall_after_the_attempts(
    ledger: Ledger,
) -> None:
    ledger.open("r1", stage="ingest", payload=PAYLOAD)
    now = time.time()
    assert ledger.due(now) == []
    later = now + 11
    assert [receipt for receipt, _ in ledger.due(later)] == ["r1"]
    first = ledger.claim_redrive("r1", later, max_attempts=2)
    assert first is not None
    assert first[0] == "redrive"
    assert ledger.claim_redrive("r1", later, max_attempts=2) is None, "not due again yet"
    second = ledger.claim_redrive("r1", later + 11, max_attempts=2)
    assert second is not None
    assert second[0] == "redrive"
    third = ledger.claim_redrive("r1", later + 22, max_attempts=2)
    assert third is not None
    assert third[0] == "stalled"


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.app = None

    def send(self, stage: str, payload: dict[str, Any], **_: Any) -> None:
        self.sent.append((stage, payload))


def _intake(client: fakeredis.FakeRedis, **values: Any) -> Intake:
    settings = Settings(_env_file=None, reconcile_after_seconds=10, **values)
    return Intake(client, settings, Recorder())  # type: ignore[arg-type]


def test_the_reconciler_resends_a_stuck_receipt_only_once_its_queue_moved_past_it(
    client: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    intake = _intake(client)
    intake.ledger.open("r1", stage="ingest", payload=PAYLOAD)
    intake.ledger.advance("r1", "parsed")
    later = time.time() + 11
    # The enrich queue still holds a message older than the receipt's last change: late, not lost.
    monkeypatch.setattr(reconcile.QueueHorizon, "_look", lambda self, stage: 0.0)
    report = reconcile.reconcile_once(intake, now=later)
    assert (report.due, report.waiting, report.redriven) == (1, 1, 0)
    # The queue is empty: the message was lost; the ingest message goes again.
    monkeypatch.setattr(reconcile.QueueHorizon, "_look", lambda self, stage: None)
    report = reconcile.reconcile_once(intake, now=later)
    assert report.redriven == 1
    assert intake.publisher.sent == [("ingest", PAYLOAD)]  # type: ignore[attr-defined]


def test_the_reconciler_dead_letters_what_keeps_stalling(
    client: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    intake = _intake(client, reconcile_max_attempts=1)
    intake.ledger.open("r1", stage="ingest", payload=PAYLOAD, filename="a.txt")
    monkeypatch.setattr(reconcile.QueueHorizon, "_look", lambda self, stage: None)
    now = time.time()
    assert reconcile.reconcile_once(intake, now=now + 11).redriven == 1
    report = reconcile.reconcile_once(intake, now=now + 22)
    assert report.stalled == 1
    assert _state(client) == "dead_letter"
    (letter,) = DeadLetterStore.for_settings(client, intake.settings).list()
    assert (letter.reason, letter.stage, letter.payload) == ("stalled", "ingest", PAYLOAD)


def test_oldest_sent_at_reads_the_header_kombu_stores() -> None:
    stored = json.dumps({"body": "e30=", "headers": {"newsflow_sent_at": 1234.5}})
    assert reconcile.oldest_sent_at(stored) == 1234.5
    assert reconcile.oldest_sent_at(json.dumps({"headers": {}})) is None
    assert reconcile.oldest_sent_at(b"not json") is None


def test_a_redrive_still_queued_behind_a_backlog_is_not_sent_again(
    client: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A parsed receipt driven again from ingest waits in ingest's queue: while that queue
    holds something older, the receipt is late, not lost, whatever enrich's queue says."""
    intake = _intake(client)
    intake.ledger.open("r1", stage="ingest", payload=PAYLOAD)
    intake.ledger.advance("r1", "parsed")
    monkeypatch.setattr(reconcile.QueueHorizon, "_look", lambda self, stage: None)
    now = time.time()
    assert reconcile.reconcile_once(intake, now=now + 11).redriven == 1
    backlog = {"ingest": 0.0, "enrich": None}
    monkeypatch.setattr(reconcile.QueueHorizon, "_look", lambda self, stage: backlog[stage])
    report = reconcile.reconcile_once(intake, now=now + 22)
    assert (report.redriven, report.waiting) == (0, 1)


def test_a_unique_prefix_of_a_receipt_resolves_to_it(client: fakeredis.FakeRedis) -> None:
    """Tables show receipts cut to 12 characters; `status` takes what the table showed."""
    from shared.receipts import record_status, resolve_receipt

    record_status(client, 60, "0123456789abcdef0123456789abcdef", "indexed")
    record_status(client, 60, "0123456789abffff0123456789abcdef", "queued")
    assert resolve_receipt(client, "0123456789abcd") == "0123456789abcdef0123456789abcdef"
    assert resolve_receipt(client, "0123456789ab") == "0123456789ab", "ambiguous: left alone"
    assert resolve_receipt(client, "01234") == "01234", "too short to guess"
    assert resolve_receipt(client, "0123*") == "0123*", "no glob characters reach SCAN"
