"""Dead letters: messages a stage could not process, kept in Redis per stage for listing and replay.

One hash per stage (``newsflow:dlq:<stage>``), field = the submission's receipt, value = the
``DeadLetter`` JSON with the reason, the error text, the time and the original payload. Keying by
receipt makes dead-lettering idempotent: a redelivered message that fails again overwrites its
own letter instead of adding a second one.

The store is bounded, because anyone who can send messages can make dead letters: a letter
(and the claim-checked blob of its file, which counts with it and gets the same TTL) is kept
for ``NEWSFLOW_DEAD_LETTER_TTL_SECONDS`` and the store holds at most
``NEWSFLOW_DEAD_LETTER_MAX_BYTES``. Beyond either, letters are evicted oldest first, each one
counted in ``newsflow_dead_letters_evicted_total{reason}`` and logged with its receipt, so that a
loss is never silent. Redis (7.0) has no TTL per hash field, so the store keeps its own order
(``newsflow:dlq-meta:order``, a sorted set by time stored) and sizes, and evicts in the same Lua
script that adds, on Redis's clock. Listing sweeps too, so an expired letter is never shown.
A letter past its TTL therefore goes at the next dead-lettering or ``dlq`` command, not on
the second: the keys deliberately have no Redis TTL of their own, which would empty an idle
store silently. Storage stays bounded meanwhile by the size cap, and blobs (the bulk) expire
in Redis on time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

import redis
import structlog

from shared.keys import (
    BLOB_PREFIX,
    blob_key,
    dead_letter_bytes_key,
    dead_letter_key,
    dead_letter_order_key,
    dead_letter_sizes_key,
)
from shared.messages import DeadLetter
from shared.metrics import DEAD_LETTERS_EVICTED
from shared.settings import Settings, load_settings
from shared.stages import STAGES

log = structlog.get_logger("newsflow.deadletters")

# Letters evicted per sweep for age at most: a sweep stays short even after a long quiet spell
# (the rest go at the next one).
MAX_EXPIRED_PER_SWEEP = 1000

# Shared by both scripts: evict letters older than the TTL, then the oldest while the store is
# over its cap (never the letter just added: it alone may exceed a tiny cap). Members of the
# order set are JSON [stage, receipt]. Returns a flat list: member, reason, member, reason, ...
# A letter's stage hash and blob are named from its member, not passed in KEYS: fine on one
# Redis (what Celery's Redis transport supports), not on Redis Cluster.
_EVICT = """
local function evict(member, why, evicted)
  local letter = cjson.decode(member)
  redis.call('HDEL', ARGV[1] .. letter[1], letter[2])
  redis.call('DEL', ARGV[2] .. letter[2])
  redis.call('ZREM', KEYS[1], member)
  local size = redis.call('HGET', KEYS[2], member)
  if size then
    redis.call('HDEL', KEYS[2], member)
    redis.call('DECRBY', KEYS[3], size)
  end
  table.insert(evicted, member)
  table.insert(evicted, why)
end

local function sweep(now, ttl_ms, max_bytes, keep, evicted)
  local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - ttl_ms, 'LIMIT', 0, ARGV[3])
  for _, member in ipairs(old) do
    evict(member, 'expired', evicted)
  end
  while tonumber(redis.call('GET', KEYS[3]) or '0') > max_bytes do
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 1)
    local victim = oldest[1]
    if victim == keep then victim = oldest[2] end
    if not victim then break end
    evict(victim, 'size_cap', evicted)
  end
end

local function now_ms()
  local clock = redis.call('TIME')
  return tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
end
"""

# KEYS: order, sizes, total bytes, the stage's hash, the letter's blob key (or "").
# ARGV: hash prefix, blob prefix, max expired per sweep, ttl s, max bytes, member, receipt, JSON.
_ADD = (
    _EVICT
    + """
local now = now_ms()
local ttl = tonumber(ARGV[4])
local member = ARGV[6]
local previous = redis.call('HGET', KEYS[2], member)
if previous then redis.call('DECRBY', KEYS[3], previous) end
local size = string.len(ARGV[8])
if KEYS[5] ~= '' then
  local blob = redis.call('STRLEN', KEYS[5])
  if blob > 0 then
    size = size + blob
    redis.call('EXPIRE', KEYS[5], ttl)
  end
end
redis.call('HSET', KEYS[4], ARGV[7], ARGV[8])
redis.call('ZADD', KEYS[1], now, member)
redis.call('HSET', KEYS[2], member, size)
redis.call('INCRBY', KEYS[3], size)
local evicted = {}
sweep(now, ttl * 1000, tonumber(ARGV[5]), member, evicted)
return evicted
"""
)

# KEYS: order, sizes, total bytes. ARGV: hash prefix, blob prefix, max expired, ttl s, max bytes.
_SWEEP = (
    _EVICT
    + """
local evicted = {}
sweep(now_ms(), tonumber(ARGV[4]) * 1000, tonumber(ARGV[5]), '', evicted)
return evicted
"""
)

# KEYS: order, sizes, total bytes, the stage's hash. ARGV: member, receipt.
_REMOVE = """
local removed = redis.call('HDEL', KEYS[4], ARGV[2])
redis.call('ZREM', KEYS[1], ARGV[1])
local size = redis.call('HGET', KEYS[2], ARGV[1])
if size then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('DECRBY', KEYS[3], size)
end
return removed
"""


def select(
    letters: Iterable[DeadLetter],
    *,
    stage: str | None = None,
    reason: str | None = None,
    failed_before: datetime | None = None,
) -> list[DeadLetter]:
    """The letters of a stage, a reason, and dead-lettered before a moment (each if given)."""
    return [
        letter
        for letter in letters
        if (stage is None or letter.stage == stage)
        and (reason is None or letter.reason == reason)
        and (failed_before is None or letter.failed_at < failed_before)
    ]


def _member(stage: str, receipt: str) -> str:
    return json.dumps([stage, receipt])


class DeadLetterStore:
    """The dead letters in Redis; limits default to the process's settings."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        ttl_seconds: int | None = None,
        max_bytes: int | None = None,
    ) -> None:
        self._redis = client
        if ttl_seconds is None or max_bytes is None:
            settings = load_settings()
            ttl_seconds = ttl_seconds or settings.dead_letter_ttl_seconds
            max_bytes = max_bytes or settings.dead_letter_max_bytes
        self.ttl_seconds = ttl_seconds
        self.max_bytes = max_bytes
        self._add = client.register_script(_ADD)
        self._sweep = client.register_script(_SWEEP)
        self._remove = client.register_script(_REMOVE)
        self._meta = [dead_letter_order_key(), dead_letter_sizes_key(), dead_letter_bytes_key()]
        self._args: list[str | int] = [
            dead_letter_key(""),
            BLOB_PREFIX,
            MAX_EXPIRED_PER_SWEEP,
            ttl_seconds,
            max_bytes,
        ]

    @classmethod
    def for_settings(cls, client: redis.Redis, settings: Settings) -> DeadLetterStore:
        return cls(
            client,
            ttl_seconds=settings.dead_letter_ttl_seconds,
            max_bytes=settings.dead_letter_max_bytes,
        )

    def add(self, letter: DeadLetter) -> None:
        """Store ``letter`` (replacing an earlier one of its receipt), give its blob the same
        TTL, and evict what the limits no longer allow."""
        blob = letter.payload.get("blob_key")
        # Only the receipt's own blob: a payload that failed validation may name any key.
        own_blob = blob_key(letter.receipt) if blob == blob_key(letter.receipt) else ""
        evicted = self._add(
            keys=[*self._meta, dead_letter_key(letter.stage), own_blob],
            args=[
                *self._args,
                _member(letter.stage, letter.receipt),
                letter.receipt,
                letter.model_dump_json(),
            ],
        )
        self._report(evicted)

    def sweep(self) -> None:
        """Evict what is over the TTL or the size cap now (adding does this too)."""
        self._report(self._sweep(keys=self._meta, args=self._args))

    def _report(self, evicted: list[bytes | str]) -> None:
        for member, why in zip(evicted[::2], evicted[1::2], strict=True):
            stage, receipt = json.loads(member)
            reason = why if isinstance(why, str) else why.decode()
            DEAD_LETTERS_EVICTED.labels(reason=reason).inc()
            log.warning(
                "dead letter evicted",
                stage=stage,
                receipt=receipt,
                reason=reason,
                ttl_seconds=self.ttl_seconds,
                max_bytes=self.max_bytes,
            )

    def list(self, stage: str | None = None) -> list[DeadLetter]:
        self.sweep()
        letters = [
            DeadLetter.model_validate_json(raw)
            for name in ([stage] if stage else STAGES)
            for raw in self._redis.hvals(dead_letter_key(name))
        ]
        return sorted(letters, key=lambda letter: letter.failed_at)

    def find(self, receipt: str) -> DeadLetter | None:
        """The letter for a receipt (or a unique prefix of one), whatever its stage."""
        matches = [letter for letter in self.list() if letter.receipt.startswith(receipt)]
        exact = [letter for letter in matches if letter.receipt == receipt]
        if exact:
            return exact[0]
        return matches[0] if len(matches) == 1 else None

    def remove(self, letter: DeadLetter) -> bool:
        removed = self._remove(
            keys=[*self._meta, dead_letter_key(letter.stage)],
            args=[_member(letter.stage, letter.receipt), letter.receipt],
        )
        return bool(removed)

    def purge(self, letter: DeadLetter) -> bool:
        """Remove a letter for good, with the claim-checked bytes it kept for a replay."""
        removed = self.remove(letter)
        if letter.payload.get("blob_key") == blob_key(letter.receipt):
            self._redis.delete(blob_key(letter.receipt))
        return removed

    def count(self) -> int:
        return sum(int(self._redis.hlen(dead_letter_key(stage))) for stage in STAGES)

    def stored_bytes(self) -> int:
        """What the letters (and their blobs) take, as counted against the cap."""
        return int(self._redis.get(dead_letter_bytes_key()) or 0)
