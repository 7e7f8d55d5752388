"""Claim-check storage for raw files too large to travel inside a message.

The bytes live under ``newsflow:blob:<receipt>`` with a TTL so that an abandoned submission cannot
fill Redis. A dead-lettered message's blob gets the dead letters' own bounded TTL (and counts
against their size cap, see ``shared.deadletters``) so that it can still be replayed, but not
forever. Every function here refuses a key outside ``newsflow:blob:``: keys come from messages,
and a message must never make newsflow read, expire or delete any other Redis key.
"""

from __future__ import annotations

import redis
import structlog

from shared.keys import BLOB_PREFIX, blob_key
from shared.settings import load_settings

log = structlog.get_logger("newsflow.blobs")


def is_blob_key(key: str) -> bool:
    return key.startswith(BLOB_PREFIX) and len(key) > len(BLOB_PREFIX)


def _checked(key: str) -> str:
    if not is_blob_key(key):
        msg = f"not a claim-check key: {key[:100]!r}"
        raise ValueError(msg)
    return key


def put_blob(client: redis.Redis, receipt: str, data: bytes, ttl_seconds: int) -> str:
    key = blob_key(receipt)
    client.set(key, data, ex=ttl_seconds)
    return key


def get_blob(client: redis.Redis, key: str) -> bytes | None:
    value = client.get(_checked(key))
    return value if value is None or isinstance(value, bytes) else str(value).encode()


def keep_blob(client: redis.Redis, key: str, ttl_seconds: int | None = None) -> None:
    """Keep a dead-lettered message's blob for the dead letters' TTL (not forever).

    Called with the key from a payload that may have failed validation: a key outside the blob
    namespace is logged and left alone, never expired.
    """
    if not is_blob_key(key):
        log.warning("not a claim-check key; left alone", key=key[:100])
        return
    client.expire(key, ttl_seconds or load_settings().dead_letter_ttl_seconds)


def drop_blob(client: redis.Redis, key: str) -> None:
    client.delete(_checked(key))
