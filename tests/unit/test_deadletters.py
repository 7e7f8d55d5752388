"""The dead-letter store over fakeredis: letters are kept per stage, found, and removed once;
the store is bounded by a TTL and a size cap, and every eviction is counted and logged.

tests/integration/test_security.py runs the bounds against a real Redis as well.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import fakeredis
import pytest
import structlog
from prometheus_client import REGISTRY

from shared.blobs import put_blob
from shared.deadletters import DeadLetterStore
from shared.messages import DeadLetter

MIB = 1024 * 1024

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _letter(
    stage: str, receipt: str, minutes: int = 0, reason: str = "binary", **payload: object
) -> DeadLetter:
    return DeadLetter(
        stage=stage,
        receipt=receipt,
        reason=reason,
        error="e",
        failed_at=T0 + timedelta(minutes=minutes),
        task_name=f"{stage}.x",
        payload={"receipt": receipt, **payload},
    )


def _store(
    client: fakeredis.FakeRedis, ttl: int = 3600, max_bytes: int = 64 * MIB
) -> DeadLetterStore:
    return DeadLetterStore(client, ttl_seconds=ttl, max_bytes=max_bytes)


def _evicted(reason: str) -> float:
    value = REGISTRY.get_sample_value("newsflow_dead_letters_evicted_total", {"reason": reason})
    return value or 0.0


def test_letters_are_listed_oldest_first_and_by_stage() -> None:
    """Operators read the backlog in order and per stage."""
    store = _store(fakeredis.FakeRedis())
    store.add(_letter("index", "b", 2))
    store.add(_letter("ingest", "a", 1))
    assert [letter.receipt for letter in store.list()] == ["a", "b"]
    assert [letter.receipt for letter in store.list("index")] == ["b"]
    assert store.count() == 2


def test_failing_again_overwrites_the_same_letter() -> None:
    """A redelivered message that fails again must not create a second letter."""
    store = _store(fakeredis.FakeRedis())
    store.add(_letter("ingest", "a", reason="binary"))
    store.add(_letter("ingest", "a", reason="empty"))
    assert [(letter.receipt, letter.reason) for letter in store.list()] == [("a", "empty")]


def test_find_accepts_a_unique_prefix_only() -> None:
    """Receipts are long; a short unique prefix is enough, an ambiguous one finds nothing."""
    store = _store(fakeredis.FakeRedis())
    store.add(_letter("ingest", "abc111"))
    store.add(_letter("enrich", "abc222"))
    assert store.find("abc1") is not None
    assert store.find("abc") is None
    assert store.find("abc222") is not None


def test_remove_takes_the_letter_out() -> None:
    """Replay removes the letter it sends again; a second removal is a no-op."""
    store = _store(fakeredis.FakeRedis())
    letter = _letter("index", "x")
    store.add(letter)
    assert store.remove(letter)
    assert not store.remove(letter)
    assert store.list() == []


def test_letters_older_than_the_ttl_are_evicted_counted_and_logged() -> None:
    """Dead letters are not kept forever: past their TTL they go, and the loss is visible."""
    client = fakeredis.FakeRedis()
    store = _store(client, ttl=1)
    store.add(_letter("ingest", "old-1"))
    store.add(_letter("enrich", "old-2"))
    before = _evicted("expired")
    time.sleep(1.1)
    with structlog.testing.capture_logs() as logs:
        store.add(_letter("ingest", "new"))
    assert [letter.receipt for letter in store.list()] == ["new"]
    assert _evicted("expired") == before + 2
    evicted = [line for line in logs if line["event"] == "dead letter evicted"]
    assert sorted(line["receipt"] for line in evicted) == ["old-1", "old-2"]
    assert {line["reason"] for line in evicted} == {"expired"}


def test_listing_never_shows_an_expired_letter() -> None:
    client = fakeredis.FakeRedis()
    store = _store(client, ttl=1)
    store.add(_letter("index", "a"))
    time.sleep(1.1)
    assert store.list() == []
    assert store.find("a") is None
    assert store.stored_bytes() == 0


def test_over_the_size_cap_the_oldest_letters_are_evicted_first() -> None:
    """One flood of bad input must not fill Redis: the store stays under its cap."""
    client = fakeredis.FakeRedis()
    size = len(_letter("ingest", "r0").model_dump_json())
    store = _store(client, max_bytes=3 * size + size // 2)
    before = _evicted("size_cap")
    for number in range(6):
        store.add(_letter("ingest", f"r{number}", minutes=number))
    assert [letter.receipt for letter in store.list()] == ["r3", "r4", "r5"]
    assert store.stored_bytes() <= store.max_bytes
    assert _evicted("size_cap") == before + 3


def test_a_dead_lettered_blob_counts_against_the_cap_and_goes_with_its_letter() -> None:
    """Blobs are what grew Redis by 210 MB: they share the letter's TTL and its eviction."""
    client = fakeredis.FakeRedis()
    store = _store(client, ttl=600, max_bytes=150_000)
    key = put_blob(client, "big", b"x" * 100_000, ttl_seconds=10)
    store.add(_letter("ingest", "big", blob_key=key))
    assert 590 < client.ttl(key) <= 600  # the dead letters' TTL, not the blob's nor forever
    assert store.stored_bytes() > 100_000
    other = put_blob(client, "second", b"y" * 100_000, ttl_seconds=10)
    store.add(_letter("ingest", "second", minutes=1, blob_key=other))
    assert [letter.receipt for letter in store.list()] == ["second"]
    assert client.exists(key) == 0  # evicted with its letter
    assert client.exists(other) == 1


def test_a_payload_naming_another_key_as_its_blob_does_not_touch_it() -> None:
    client = fakeredis.FakeRedis()
    client.set("newsflow:blob:someone-else", b"z" * 1000)
    client.set("newsflow:doc:claim", b"r9")
    store = _store(client)
    store.add(_letter("ingest", "r1", blob_key="newsflow:blob:someone-else"))
    store.add(_letter("ingest", "r2", blob_key="newsflow:doc:claim"))
    assert client.ttl("newsflow:blob:someone-else") == -1
    assert client.ttl("newsflow:doc:claim") == -1
    assert store.stored_bytes() < 1000


@pytest.mark.parametrize("again", ["same letter", "replayed"])
def test_the_size_count_follows_replacement_and_removal(again: str) -> None:
    client = fakeredis.FakeRedis()
    store = _store(client)
    letter = _letter("ingest", "a")
    store.add(letter)
    once = store.stored_bytes()
    if again == "same letter":
        store.add(letter)  # a redelivered message failing again
        assert store.stored_bytes() == once
    else:
        assert store.remove(letter)
        assert store.stored_bytes() == 0
