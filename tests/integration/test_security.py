"""Hostile messages through the real workers: what the operator's audit did, done again.

A producer that can reach the ingest queue chooses every field of its message. It must not be
able to make ``dlq replay`` read a file outside the drop folders (the audit got /etc/passwd
indexed and searchable), nor make ingest read and delete a Redis key other than its own blob,
nor grow Redis for ever with dead letters (the audit's blobs were kept without a TTL).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery

from shared.blobs import put_blob
from shared.deadletters import DeadLetterStore
from shared.messages import DeadLetter
from tests.integration.conftest import Pipeline

pytestmark = pytest.mark.integration

MARKER_WORD = "Zyxwvutsrq"  # a word no seed holds, to search for


def _send(pipeline: Pipeline, payload: dict[str, Any]) -> None:
    producer = Celery(broker=pipeline.env["NEWSFLOW_REDIS_URL"])
    producer.send_task("ingest.receive", args=[payload], queue="ingest", routing_key="ingest")


def _final(pipeline: Pipeline, receipt: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = json.loads(pipeline.newsflow("status", receipt).stdout)
        if status["state"] in {"indexed", "duplicate", "dead_letter"}:
            return dict(status)
        time.sleep(0.3)
    pytest.fail(f"receipt {receipt} has no final state after {timeout}s")


def _raw(receipt: str, **fields: Any) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "receipt": receipt,
        "source": "task",
        "filename": "report.txt",
        "size": 10,
        "received_at": datetime.now(UTC).isoformat(),
        **fields,
    }


def test_replay_of_a_crafted_message_cannot_read_outside_the_drop_folders(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """too_large with no bytes and ``origin_path`` pointing at a private file: dead-lettered,
    and ``dlq replay`` refuses it, so the file's text never reaches the index."""
    private = tmp_path / "private" / "passwd"
    private.parent.mkdir()
    private.write_text(f"Secret title\n\n{MARKER_WORD} is the root password.\n")
    drop = tmp_path / "drop"
    drop.mkdir()
    receipt = uuid.uuid4().hex
    _send(pipeline, _raw(receipt, size=10**9, origin_path=str(private)))
    status = _final(pipeline, receipt)
    assert (status["state"], status["reason"]) == ("dead_letter", "too_large")

    replayed = pipeline.newsflow("dlq", "replay", receipt, env={"NEWSFLOW_DROP_DIRS": str(drop)})
    assert replayed.returncode == 1
    assert "outside NEWSFLOW_DROP_DIRS" in replayed.stderr
    # A symlink planted in the drop folder leads nowhere either.
    (drop / "report.txt").symlink_to(private)
    receipt2 = uuid.uuid4().hex
    _send(pipeline, _raw(receipt2, size=10**9, origin_path=str(drop / "report.txt")))
    assert _final(pipeline, receipt2)["reason"] == "too_large"
    replayed = pipeline.newsflow("dlq", "replay", "--all", env={"NEWSFLOW_DROP_DIRS": str(drop)})
    assert replayed.returncode == 1
    assert replayed.stderr.count("outside NEWSFLOW_DROP_DIRS") >= 2

    time.sleep(1.0)  # had anything been queued, ingest -> index takes well under this
    found = json.loads(pipeline.newsflow("search", MARKER_WORD, "--json").stdout)
    assert found["total"] == 0
    listed = pipeline.newsflow("dlq", "list", "--json").stdout
    assert receipt in listed  # refused, not lost
    assert receipt2 in listed


def test_a_blob_key_naming_another_redis_key_is_neither_read_nor_deleted(
    pipeline: Pipeline,
) -> None:
    """The message is refused by its model (invalid_message): the key it names stays, whole
    and without a TTL, and its text is not indexed."""
    client = redis.Redis.from_url(pipeline.env["NEWSFLOW_REDIS_URL"])
    victim = "newsflow:doc:victim-claim"
    client.set(victim, f"Victim title\n\n{MARKER_WORD} victim text.\n".encode())
    receipt = uuid.uuid4().hex
    _send(pipeline, _raw(receipt, blob_key=victim))
    status = _final(pipeline, receipt)
    assert (status["state"], status["reason"]) == ("dead_letter", "invalid_message")
    assert "blob_key" in status["error"]
    assert client.get(victim) == f"Victim title\n\n{MARKER_WORD} victim text.\n".encode()
    assert client.ttl(victim) == -1  # not expired by the dead-lettering either
    found = json.loads(pipeline.newsflow("search", MARKER_WORD, "--json").stdout)
    assert found["total"] == 0
    assert pipeline.all_alive()


def test_a_dead_lettered_blob_expires_with_its_letter_not_never(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """A binary file too big to travel inline is dead-lettered by the real ingest worker: its
    claim-checked bytes stay for replay, but for the dead letters' TTL, not for ever."""
    client = redis.Redis.from_url(pipeline.env["NEWSFLOW_REDIS_URL"])
    binary = tmp_path / "image.bin"
    binary.write_bytes(b"\0\x01\x02" * 3000)  # over the pipeline's 4 KiB inline limit
    [outcome] = pipeline.submit_and_wait(binary)
    assert (outcome["state"], outcome["reason"]) == ("dead_letter", "binary")
    blob = f"newsflow:blob:{outcome['receipt']}"
    assert client.strlen(blob) == 9000
    assert 0 < client.ttl(blob) <= 7 * 24 * 3600
    counted = int(client.get("newsflow:dlq-meta:bytes") or 0)
    assert counted > 9000  # the blob counts against the store's cap


@pytest.fixture
def store_db(redis_url: str) -> Iterator[redis.Redis]:
    """Database 5 of the test Redis: the dead-letter store's Lua on the real server."""
    client = redis.Redis.from_url(redis_url.rsplit("/", 1)[0] + "/5")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def _letter(receipt: str, **payload: Any) -> DeadLetter:
    return DeadLetter(
        stage="ingest",
        receipt=receipt,
        reason="binary",
        error="NUL byte",
        failed_at=datetime.now(UTC),
        task_name="ingest.receive",
        payload={"receipt": receipt, **payload},
    )


def test_the_dead_letter_store_is_bounded_on_a_real_redis(store_db: redis.Redis) -> None:
    """Size cap (oldest first, blobs counted and deleted with their letters) and TTL, with the
    scripts run by Redis itself rather than fakeredis's emulation."""
    store = DeadLetterStore(store_db, ttl_seconds=2, max_bytes=250_000)
    for number in range(4):
        key = put_blob(store_db, f"r{number}", bytes(100_000), ttl_seconds=60)
        store.add(_letter(f"r{number}", blob_key=key))
    assert [letter.receipt for letter in store.list()] == ["r2", "r3"]
    assert store.stored_bytes() <= 250_000
    assert store_db.exists("newsflow:blob:r0", "newsflow:blob:r1") == 0
    assert 0 < store_db.ttl("newsflow:blob:r3") <= 2
    time.sleep(2.2)
    assert store.list() == []
    assert store.stored_bytes() == 0
