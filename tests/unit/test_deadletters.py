"""The dead-letter store over fakeredis: letters are kept per stage, found, and removed once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import fakeredis

from shared.deadletters import DeadLetterStore
from shared.messages import DeadLetter

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _letter(stage: str, receipt: str, minutes: int = 0, reason: str = "binary") -> DeadLetter:
    return DeadLetter(
        stage=stage,
        receipt=receipt,
        reason=reason,
        error="e",
        failed_at=T0 + timedelta(minutes=minutes),
        task_name=f"{stage}.x",
        payload={"receipt": receipt},
    )


def test_letters_are_listed_oldest_first_and_by_stage() -> None:
    """Operators read the backlog in order and per stage."""
    store = DeadLetterStore(fakeredis.FakeRedis())
    store.add(_letter("index", "b", 2))
    store.add(_letter("ingest", "a", 1))
    assert [letter.receipt for letter in store.list()] == ["a", "b"]
    assert [letter.receipt for letter in store.list("index")] == ["b"]
    assert store.count() == 2


def test_failing_again_overwrites_the_same_letter() -> None:
    """A redelivered message that fails again must not create a second letter."""
    store = DeadLetterStore(fakeredis.FakeRedis())
    store.add(_letter("ingest", "a", reason="binary"))
    store.add(_letter("ingest", "a", reason="empty"))
    assert [(letter.receipt, letter.reason) for letter in store.list()] == [("a", "empty")]


def test_find_accepts_a_unique_prefix_only() -> None:
    """Receipts are long; a short unique prefix is enough, an ambiguous one finds nothing."""
    store = DeadLetterStore(fakeredis.FakeRedis())
    store.add(_letter("ingest", "abc111"))
    store.add(_letter("enrich", "abc222"))
    assert store.find("abc1") is not None
    assert store.find("abc") is None
    assert store.find("abc222") is not None


def test_remove_takes_the_letter_out() -> None:
    """Replay removes the letter it sends again; a second removal is a no-op."""
    store = DeadLetterStore(fakeredis.FakeRedis())
    letter = _letter("index", "x")
    store.add(letter)
    assert store.remove(letter)
    assert not store.remove(letter)
    assert store.list() == []
