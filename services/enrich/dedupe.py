"""Exact-duplicate detection: the first submission to claim a document id owns it.

The id is a hash of the normalised title and body (computed by ingest), so two copies of the
same text share it. Claiming must be atomic so that two workers handling two copies at the same
moment agree on which came first: in Redis that is one ``SET key receipt NX GET`` command.
A redelivered message carries the same receipt as the claim it made, so it is not mistaken for a
duplicate of itself.
"""

from __future__ import annotations

import threading
from typing import Protocol

import redis

from shared.keys import document_claim_key

VERSION = "1"


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
