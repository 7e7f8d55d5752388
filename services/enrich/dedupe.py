"""Exact-duplicate detection: the first submission to claim a document id owns it.

The id is a hash of the normalised title and body (computed by ingest), so two copies of the
same text share it. Claiming must be atomic so that two workers handling two copies at the same
moment agree on which came first: in Redis that is one ``SET key receipt NX GET`` command.
A redelivered message carries the same receipt as the claim it made, so it is not mistaken for a
duplicate of itself.

Claims are enrich's own state, kept apart from the index: the workers keep them in Redis, the
in-process runner (``newsflow run``) in a small SQLite file of its own, ``newsflow enrich`` in
memory. Nothing here reads or writes the index.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import Protocol, Self

import redis

from shared.keys import document_claim_key

VERSION = "1"

# How long a claimer waits for another process's write lock on the claims file before failing.
_BUSY_TIMEOUT_S = 5.0


class ClaimStore(Protocol):
    def claim(self, doc_id: str, receipt: str) -> str:
        """Record ``receipt`` as the first holder of ``doc_id`` if none is; return the holder."""


def duplicate_of(claims: ClaimStore, doc_id: str, receipt: str) -> str | None:
    """``doc_id`` when another submission claimed it first, else None."""
    return doc_id if claims.claim(doc_id, receipt) != receipt else None


class RedisClaims:
    """Claims shared by every enrich worker. Kept without a TTL: forgetting a claim would let a
    later copy be indexed as new."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def claim(self, doc_id: str, receipt: str) -> str:
        previous = self._redis.set(document_claim_key(doc_id), receipt, nx=True, get=True)
        if previous is None:
            return receipt
        return previous.decode() if isinstance(previous, bytes) else str(previous)


class MemoryClaims:
    """Claims for one in-process run (``newsflow enrich``): duplicates within that run only."""

    def __init__(self) -> None:
        self._holders: dict[str, str] = {}
        self._lock = threading.Lock()

    def claim(self, doc_id: str, receipt: str) -> str:
        with self._lock:
            return self._holders.setdefault(doc_id, receipt)


class SqliteClaims:
    """Claims kept in a SQLite file, for the in-process runner: a second ``newsflow run`` finds
    the first's claims, and runs started together on one file agree on every winner.

    One connection, so one instance per thread; open it after any fork.
    """

    def __init__(self, path: str | PathLike[str]) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: every claim opens its own BEGIN IMMEDIATE, nothing implicit.
        self._conn = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        try:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS claims ("
                " doc_id TEXT PRIMARY KEY, receipt TEXT NOT NULL, claimed_at TEXT NOT NULL)"
            )
        except BaseException:
            self._conn.close()
            raise

    def claim(self, doc_id: str, receipt: str) -> str:
        # IMMEDIATE takes the write lock before the insert, so the insert and the read are one
        # step for every other claimer: all of them read the same winner.
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.execute(
                "INSERT OR IGNORE INTO claims (doc_id, receipt, claimed_at) VALUES (?, ?, ?)",
                (doc_id, receipt, datetime.now(UTC).isoformat()),
            )
            row = self._conn.execute(
                "SELECT receipt FROM claims WHERE doc_id = ?", (doc_id,)
            ).fetchone()
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        return str(row[0])

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
