"""The receipt ledger: where each accepted file is, and what to send again if it stops moving.

Every accepted file has a receipt. Its record (``newsflow:receipt:<r>``, JSON with a TTL) says
how far it got: queued -> parsed -> enriched -> indexed | duplicate | dead_letter. Until it is
terminal the ledger also keeps

* the message that starts it again (``newsflow:redrive:<r>``: the stage and the original
  payload, e.g. the ``RawFile`` with its inline bytes or claim-check key), and
* its time of last change in ``newsflow:pending`` (a sorted set scored by that time), which a
  stage also moves on when it works on the receipt without changing its state (each start of a
  task, each retry queued), so that a document in a slow attempt or waiting out a database
  outage in retries is not taken for lost.

Brokers lose messages at their edges (a consumer killed between popping a message and recording
it, a Redis restart that drops the last second). ``newsflow reconcile`` (``newsflow.reconcile``)
finds receipts that have not moved for ``reconcile_after_seconds`` and sends their payload
again; every write downstream is idempotent, so a second delivery is harmless. The ledger
decides, not the broker.

Transitions are one Lua script, so concurrent workers and redeliveries cannot move a receipt
backwards: a state is only ever replaced by a later one, and a terminal state only by an
explicit reopening (a replay or a re-index, ``force=True``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Literal, cast

import redis
from pydantic import BaseModel, ConfigDict

from shared.keys import blob_key, pending_key, receipt_key, redrive_key
from shared.settings import Settings
from shared.stages import Stage

State = Literal["queued", "parsed", "enriched", "indexed", "duplicate", "dead_letter"]
FINAL_STATES: frozenset[str] = frozenset({"indexed", "duplicate", "dead_letter"})
# How far along each state is; a transition to a lower rank is ignored (a redelivered ingest
# message must not turn an indexed receipt back into a parsed one).
RANK: dict[str, int] = {
    "queued": 0,
    "parsed": 1,
    "enriched": 2,
    "indexed": 3,
    "duplicate": 3,
    "dead_letter": 3,
}
# The stage whose queue a receipt in a state is waiting in.
WAITING_IN: dict[str, Stage] = {"queued": "ingest", "parsed": "enrich", "enriched": "index"}


class ReceiptStatus(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    receipt: str
    state: State
    filename: str | None = None
    stage: str | None = None
    doc_id: str | None = None
    duplicate_of: str | None = None
    near_duplicate_of: str | None = None
    similarity: float | None = None
    reason: str | None = None
    error: str | None = None
    updated_at: datetime

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    def outcome(self) -> str:
        """The outcome as a person reads it: ``indexed``, ``near-duplicate of X (0.82)``,
        ``duplicate of X``, ``dead letter: reason``, or the state it is still in."""
        if self.state == "indexed" and self.near_duplicate_of:
            similarity = f" ({self.similarity:.2f})" if self.similarity is not None else ""
            return f"near-duplicate of {self.near_duplicate_of}{similarity}"
        if self.state == "duplicate":
            return f"duplicate of {self.duplicate_of}"
        if self.state == "dead_letter":
            return f"dead letter: {self.reason}"
        return self.state


class Redrive(BaseModel):
    """What the reconciler sends to start a receipt again, and how often it has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stage: Stage
    payload: dict[str, Any]
    attempts: int = 0


# KEYS: receipt record, pending set, redrive payload, claim-checked blob.
# ARGV: record JSON, its rank, TTL, time of this change, terminal?, force?, receipt, keep blob?,
#       redrive JSON ('' = keep the current one), 'nx' to write it only where there is none.
_TRANSITION = """
local current = redis.call('GET', KEYS[1])
if current and ARGV[6] ~= '1' then
  local ok, record = pcall(cjson.decode, current)
  if ok and type(record) == 'table' then
    local ranks = {queued=0, parsed=1, enriched=2, indexed=3, duplicate=3, dead_letter=3}
    local rank = ranks[record['state']]
    if rank and (rank == 3 or rank > tonumber(ARGV[2])) then
      return 0
    end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
if ARGV[5] == '1' then
  redis.call('ZREM', KEYS[2], ARGV[7])
  redis.call('DEL', KEYS[3])
  if ARGV[8] ~= '1' then
    redis.call('DEL', KEYS[4])
  end
else
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[7])
  if ARGV[9] ~= '' then
    if ARGV[10] == 'nx' then
      redis.call('SET', KEYS[3], ARGV[9], 'EX', ARGV[3], 'NX')
    else
      redis.call('SET', KEYS[3], ARGV[9], 'EX', ARGV[3])
    end
  end
end
return 1
"""

# Claim one due receipt for a re-drive. KEYS: pending set, redrive payload, receipt record.
# ARGV: receipt, the latest change that is due (now - reconcile_after), now, maximum attempts.
# Returns nil (not due, or nothing to do: the entry is dropped), or {verdict, redrive JSON}.
_CLAIM_REDRIVE = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then
  return nil
end
local record = redis.call('GET', KEYS[3])
local redrive = redis.call('GET', KEYS[2])
if record then
  local ok, decoded = pcall(cjson.decode, record)
  local state = ok and type(decoded) == 'table' and decoded['state']
  if state == 'indexed' or state == 'duplicate' or state == 'dead_letter' then
    redis.call('ZREM', KEYS[1], ARGV[1])
    redis.call('DEL', KEYS[2])
    return nil
  end
end
if not redrive then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return nil
end
local ok, payload = pcall(cjson.decode, redrive)
if not ok or type(payload) ~= 'table' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return {'corrupt', redrive}
end
local attempts = (tonumber(payload['attempts']) or 0) + 1
if attempts > tonumber(ARGV[4]) then
  return {'stalled', redrive}
end
payload['attempts'] = attempts
local updated = cjson.encode(payload)
redis.call('SET', KEYS[2], updated, 'KEEPTTL')
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return {'redrive', updated}
"""


class Ledger:
    """The receipt ledger over one Redis client, with the TTL and deadline of these settings
    (the deadline is applied by whoever reads, so a reconciler's own setting decides)."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self._redis = client
        self._ttl = settings.receipt_ttl_seconds
        self._after = settings.reconcile_after_seconds
        self._transition = client.register_script(_TRANSITION)
        self._claim = client.register_script(_CLAIM_REDRIVE)

    def open(
        self,
        receipt: str,
        *,
        stage: Stage,
        payload: dict[str, Any],
        filename: str | None = None,
        doc_id: str | None = None,
    ) -> None:
        """Start (or restart: a replay, a re-index) a receipt at ``queued``, keeping the message
        that drives it again from ``stage`` if it stalls."""
        redrive = Redrive(stage=stage, payload=payload)
        self._write(
            receipt, "queued", force=True, redrive=redrive, filename=filename, doc_id=doc_id
        )

    def advance(
        self, receipt: str, state: State, *, adopt: Redrive | None = None, **fields: Any
    ) -> bool:
        """Move a receipt forward; False (and nothing written) if it is already further along,
        or terminal. ``adopt`` is kept as what drives the receipt again if it has nothing yet:
        a file another program sent straight to the ingest queue never had its receipt opened,
        and is protected from the moment ingest has read it."""
        return self._write(receipt, state, force=False, redrive=adopt, adopting=True, **fields)

    def _write(
        self,
        receipt: str,
        state: State,
        *,
        force: bool,
        redrive: Redrive | None,
        adopting: bool = False,
        **fields: Any,
    ) -> bool:
        status = ReceiptStatus(receipt=receipt, state=state, updated_at=datetime.now(UTC), **fields)
        terminal = state in FINAL_STATES
        # A dead letter from ingest keeps its claim-checked bytes (with their own bounded TTL)
        # so that it can be replayed; any other end makes them garbage.
        keep_blob = state == "dead_letter" and fields.get("stage") == "ingest"
        written = self._transition(
            keys=[receipt_key(receipt), pending_key(), redrive_key(receipt), blob_key(receipt)],
            args=[
                status.model_dump_json(),
                RANK[state],
                self._ttl,
                time.time(),
                "1" if terminal else "0",
                "1" if force else "0",
                receipt,
                "1" if keep_blob else "0",
                redrive.model_dump_json() if redrive else "",
                "nx" if adopting else "set",
            ],
        )
        return bool(written)

    def touch(self, receipt: str, pipe: redis.client.Pipeline | None = None) -> None:
        """Restart a pending receipt's clock without changing its state: a stage is still on it
        (a task has started on it, or queued its retry). A receipt no longer pending (terminal)
        stays out of the set. With ``pipe``, the command joins that pipeline."""
        (pipe or self._redis).zadd(pending_key(), {receipt: time.time()}, xx=True)

    def due(self, now: float, limit: int = 1000) -> list[tuple[str, float]]:
        """Receipts that have not moved for ``reconcile_after_seconds``, longest still first,
        each with the time it last moved (or was touched)."""
        # redis-py's stubs do not say that withscores gives (member, score) pairs.
        members = cast(
            "list[tuple[bytes | str, float]]",
            self._redis.zrangebyscore(
                pending_key(), "-inf", now - self._after, start=0, num=limit, withscores=True
            ),
        )
        return [(m.decode() if isinstance(m, bytes) else m, float(score)) for m, score in members]

    def counts(self, now: float) -> tuple[int, int]:
        """(receipts not yet terminal, those of them due a re-drive)."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.zcard(pending_key())
        pipe.zcount(pending_key(), "-inf", now - self._after)
        pending, overdue = pipe.execute()
        return int(pending), int(overdue)

    def claim_redrive(
        self, receipt: str, now: float, max_attempts: int
    ) -> tuple[Literal["redrive", "stalled", "corrupt"], Redrive | str] | None:
        """Take a due receipt for a re-drive: its payload with the attempt counted and its
        clock restarted, ``stalled`` once it has been driven ``max_attempts`` times, or None when
        there is nothing to do (no longer due, terminal, or its payload expired)."""
        found = self._claim(
            keys=[pending_key(), redrive_key(receipt), receipt_key(receipt)],
            args=[receipt, now - self._after, now, max_attempts],
        )
        if found is None:
            return None
        verdict = found[0].decode() if isinstance(found[0], bytes) else str(found[0])
        raw = found[1].decode() if isinstance(found[1], bytes) else str(found[1])
        if verdict == "corrupt":
            return "corrupt", raw
        redrive = Redrive.model_validate_json(raw)
        return ("stalled" if verdict == "stalled" else "redrive"), redrive

    def redrive_of(self, receipt: str) -> Redrive | None:
        raw = self._redis.get(redrive_key(receipt))
        return None if raw is None else Redrive.model_validate_json(raw)


def record_status(
    client: redis.Redis, ttl_seconds: int, receipt: str, state: State, **fields: Any
) -> None:
    """Write a receipt's record as given, whatever it held (for tools and tests that set a
    state directly; the stages go through ``Ledger``)."""
    status = ReceiptStatus(receipt=receipt, state=state, updated_at=datetime.now(UTC), **fields)
    client.set(receipt_key(receipt), status.model_dump_json(), ex=ttl_seconds)


def resolve_receipt(client: redis.Redis, given: str) -> str:
    """The receipt ``given`` names: itself when known, else the one receipt it is a prefix of
    (tables show receipts shortened to 12 characters). A prefix shorter than 6 characters, or
    one matching several receipts, resolves to itself, which then reads as unknown."""
    if client.exists(receipt_key(given)) or len(given) < 6 or not given.isalnum():
        return given
    matches = list(islice(client.scan_iter(match=receipt_key(given) + "*", count=1000), 2))
    if len(matches) != 1:
        return given
    key = matches[0].decode() if isinstance(matches[0], bytes) else str(matches[0])
    return key.removeprefix(receipt_key(""))


def read_status(client: redis.Redis, receipt: str) -> ReceiptStatus | None:
    raw = client.get(receipt_key(receipt))
    if raw is None:
        return None
    try:
        return ReceiptStatus.model_validate_json(raw)
    except ValueError:
        # Only newsflow writes these keys; a record it cannot read is reported as unknown
        # rather than crashing whoever asked.
        return None
