"""Where stories live between documents: in memory for one in-process run, in Redis for the
workers. Both run the same steps (``assign_in``) over a small transaction interface, so they
decide alike; the Redis one is optimistic (WATCH on everything the decision read, MULTI/EXEC for
everything it writes, again from the start when another worker changed any of it), so two enrich
workers handling two reports of one event at the same moment are ordered: the second sees the
story the first started and cannot start a second one.

Never rewrites a document's recorded answer: a document seen before gets the story it was given,
resolved through merges. Merged stories leave an alias (old id -> survivor), kept for good.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final, Protocol

import redis
import structlog

from services.enrich.stories.assign import (
    DAY_SECONDS,
    POSTINGS_PER_FEATURE,
    Decision,
    DocumentTime,
    StoryAssignment,
    StoryRecord,
    add_document,
    decide,
    fold_into,
    new_record,
    story_id_for,
    top_candidates,
)
from services.enrich.stories.signature import StorySignature
from shared.errors import TransientError

log = structlog.get_logger(__name__)

MAX_ALIAS_HOPS: Final = 32
"""Merges chain (a into b, later b into c); a chain longer than this is a bug, not data."""


@dataclass(frozen=True, slots=True)
class StoryParams:
    threshold: float
    merge_threshold: float
    window_days: int


@dataclass(frozen=True, slots=True)
class Writes:
    """Everything one assignment changes, applied at once."""

    doc_id: str
    assignment: StoryAssignment
    record: StoryRecord
    removed: tuple[StoryRecord, ...]
    aliases: Mapping[str, str]


class _Transaction(Protocol):
    def recorded(self, doc_id: str) -> StoryAssignment | None: ...

    def story_of(self, doc_id: str) -> str | None: ...

    def postings(
        self, features: Sequence[str], since: float
    ) -> tuple[dict[str, list[str]], dict[str, int]]:
        """Per feature: the newest stories carrying it (last received at ``since`` or later) and
        how many such stories there are."""

    def stories(self, ids: Iterable[str]) -> dict[str, StoryRecord]: ...

    def next_seq(self) -> int: ...

    def commit(self, writes: Writes) -> bool:
        """Apply ``writes``; False when something read meanwhile changed (try again)."""


class StoryStore(Protocol):
    def assign(
        self,
        doc_id: str,
        signature: StorySignature,
        when: DocumentTime,
        params: StoryParams,
        *,
        near_duplicate_of: str | None = None,
    ) -> StoryAssignment:
        """The document's story, deciding it (atomically) the first time it is asked."""

    def story_of(self, doc_id: str) -> str | None:
        """The (current) story of a document assigned before, for its exact duplicates."""


def _plan(
    doc_id: str,
    signature: StorySignature,
    when: DocumentTime,
    decision: Decision,
    txn: _Transaction,
) -> Writes:
    if decision.join is None:
        record = new_record(story_id_for(doc_id), txn.next_seq(), signature, when)
        assignment = StoryAssignment(story_id=record.id, similarity=None, outcome="new")
        return Writes(doc_id, assignment, record, (), {})
    record = decision.join
    for other in decision.merge:
        fold_into(record, other)
    add_document(record, signature, when)
    merged = tuple(other.id for other in decision.merge)
    assignment = StoryAssignment(
        story_id=record.id,
        similarity=decision.score,
        outcome="joined",
        merged_from=merged,
        size=record.size,
    )
    return Writes(doc_id, assignment, record, decision.merge, dict.fromkeys(merged, record.id))


def assign_in(  # noqa: PLR0917  (the store's assign, plus the transaction it runs in)
    txn: _Transaction,
    doc_id: str,
    signature: StorySignature,
    when: DocumentTime,
    params: StoryParams,
    near_duplicate_of: str | None,
) -> StoryAssignment | None:
    """One attempt: the recorded answer, or a decision committed; None when the commit lost a
    race and must be tried again."""
    if (recorded := txn.recorded(doc_id)) is not None:
        return recorded
    forced_id = txn.story_of(near_duplicate_of) if near_duplicate_of else None
    since = when.received_seconds - params.window_days * DAY_SECONDS
    postings, counts = txn.postings(list(signature.features), since)
    wanted = top_candidates(postings)
    records = txn.stories([*wanted, *([forced_id] if forced_id else [])])
    decision = decide(
        signature,
        when,
        [records[sid] for sid in wanted if sid in records],
        counts,
        threshold=params.threshold,
        merge_threshold=params.merge_threshold,
        window_days=params.window_days,
        forced=records.get(forced_id) if forced_id else None,
    )
    writes = _plan(doc_id, signature, when, decision, txn)
    if not txn.commit(writes):
        return None
    for old in writes.aliases:
        # One line per merge, so that an operator can follow where a story id went.
        log.info(
            "stories merged",
            story_id=old,
            into=writes.record.id,
            by_document=doc_id,
            size=writes.record.size,
        )
    return writes.assignment


class MemoryStories:
    """Stories within one in-process run (``newsflow run``/``enrich``), under one lock.

    Rarity counts here are all stories carrying a feature in the run, not only recent ones, and
    postings are ranked by a scan: a run holds thousands of documents, not millions.
    """

    def __init__(self) -> None:
        self._docs: dict[str, StoryAssignment] = {}
        self._stories: dict[str, StoryRecord] = {}
        self._postings: dict[str, dict[str, float]] = {}
        self._aliases: dict[str, str] = {}
        self._seq = 0
        self._lock = threading.Lock()

    def resolve(self, story_id: str) -> str:
        for _ in range(MAX_ALIAS_HOPS):
            if story_id not in self._aliases:
                return story_id
            story_id = self._aliases[story_id]
        return story_id

    # The transaction interface: under the lock nothing changes between read and commit.
    def recorded(self, doc_id: str) -> StoryAssignment | None:
        found = self._docs.get(doc_id)
        return None if found is None else replace(found, story_id=self.resolve(found.story_id))

    def story_of(self, doc_id: str) -> str | None:
        found = self._docs.get(doc_id)
        return None if found is None else self.resolve(found.story_id)

    def postings(
        self, features: Sequence[str], since: float
    ) -> tuple[dict[str, list[str]], dict[str, int]]:
        found: dict[str, list[str]] = {}
        counts: dict[str, int] = {}
        for feature in features:
            stories = self._postings.get(feature)
            if not stories:
                continue
            recent = [(seconds, sid) for sid, seconds in stories.items() if seconds >= since]
            counts[feature] = len(recent)
            recent.sort(reverse=True)
            found[feature] = [sid for _, sid in recent[:POSTINGS_PER_FEATURE]]
        return found, counts

    def stories(self, ids: Iterable[str]) -> dict[str, StoryRecord]:
        # Copies: a decision that loses (never here, but the interface allows it) must not have
        # changed the stored record.
        return {
            sid: StoryRecord.from_json(json.loads(json.dumps(self._stories[sid].to_json())))
            for sid in ids
            if sid in self._stories
        }

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def commit(self, writes: Writes) -> bool:
        record = writes.record
        for old in writes.removed:
            self._stories.pop(old.id, None)
            for feature in old.features:
                self._postings.get(feature, {}).pop(old.id, None)
        self._aliases.update(writes.aliases)
        self._stories[record.id] = record
        for feature in record.features:
            self._postings.setdefault(feature, {})[record.id] = record.received[1]
        self._docs[writes.doc_id] = writes.assignment
        return True

    def assign(
        self,
        doc_id: str,
        signature: StorySignature,
        when: DocumentTime,
        params: StoryParams,
        *,
        near_duplicate_of: str | None = None,
    ) -> StoryAssignment:
        with self._lock:
            result = assign_in(self, doc_id, signature, when, params, near_duplicate_of)
        assert result is not None  # noqa: S101  (the memory commit never loses a race)
        return result

    def __len__(self) -> int:
        return len(self._stories)


KEY_PREFIX: Final = "newsflow:story:"
MAX_ATTEMPTS: Final = 50
"""Optimistic attempts before giving up as transient (the task is retried): each lost attempt
means another worker committed, so 50 in a row means a storm, not bad luck."""
TTL_WINDOWS: Final = 4
"""Story records and postings live this many windows (at least 30 days) after their last write:
nothing older is ever a candidate, and Redis must not keep every story forever."""


class RedisStories:
    """Stories shared by every enrich worker; keys carry ``version`` (a new story enricher
    version starts afresh, and reindex then resolves old ids, see README)."""

    def __init__(self, client: redis.Redis, version: str) -> None:
        self.client = client
        self.prefix = f"{KEY_PREFIX}{version}:"

    def doc_key(self, doc_id: str) -> str:
        return f"{self.prefix}doc:{doc_id}"

    def record_key(self, story_id: str) -> str:
        return f"{self.prefix}rec:{story_id}"

    def posting_key(self, feature: str) -> str:
        return f"{self.prefix}post:{feature}"

    @property
    def alias_key(self) -> str:
        return f"{self.prefix}alias"

    @property
    def active_key(self) -> str:
        """Every story by when a worker last added a document to it: what "active" counts."""
        return f"{self.prefix}active"

    def active_since(self, seconds: float) -> int:
        """How many stories received a document at ``seconds`` (epoch) or later."""
        return int(self.client.zcount(self.active_key, seconds, "+inf"))

    def resolve(self, story_id: str) -> str:
        for _ in range(MAX_ALIAS_HOPS):
            survivor = self.client.hget(self.alias_key, story_id)
            if survivor is None:
                return story_id
            story_id = _text(survivor)
        return story_id

    def story_of(self, doc_id: str) -> str | None:
        raw = self.client.get(self.doc_key(doc_id))
        if raw is None:
            return None
        return self.resolve(str(json.loads(raw)["story_id"]))

    def assign(
        self,
        doc_id: str,
        signature: StorySignature,
        when: DocumentTime,
        params: StoryParams,
        *,
        near_duplicate_of: str | None = None,
    ) -> StoryAssignment:
        for _ in range(MAX_ATTEMPTS):
            with self.client.pipeline(transaction=True) as watcher:
                txn = _RedisTransaction(self, watcher, params.window_days)
                try:
                    result = assign_in(txn, doc_id, signature, when, params, near_duplicate_of)
                except redis.WatchError:
                    result = None
                if result is not None:
                    return result
        msg = f"story assignment of {doc_id} lost {MAX_ATTEMPTS} races in a row"
        raise TransientError(msg)


class _RedisTransaction:
    """One optimistic attempt: WATCH before every read, MULTI/EXEC for the writes. Reads go
    through a second connection in one round trip each; WATCH (on the first) already covers
    them, since a key is watched before it is read."""

    def __init__(
        self, store: RedisStories, watcher: redis.client.Pipeline, window_days: int
    ) -> None:
        self._store = store
        self._watcher = watcher
        self._ttl = max(TTL_WINDOWS * window_days, 30) * DAY_SECONDS

    def recorded(self, doc_id: str) -> StoryAssignment | None:
        key = self._store.doc_key(doc_id)
        self._watcher.watch(key)  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
        raw = self._store.client.get(key)
        if raw is None:
            return None
        data = json.loads(raw)
        return StoryAssignment(
            story_id=self._store.resolve(data["story_id"]),
            similarity=data["similarity"],
            outcome=data["outcome"],
            merged_from=tuple(data["merged_from"]),
            size=int(data["size"]),
        )

    def story_of(self, doc_id: str) -> str | None:
        return self._store.story_of(doc_id)

    def postings(
        self, features: Sequence[str], since: float
    ) -> tuple[dict[str, list[str]], dict[str, int]]:
        if not features:
            return {}, {}
        keys = [self._store.posting_key(feature) for feature in features]
        self._watcher.watch(*keys)  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
        pipe = self._store.client.pipeline(transaction=False)
        for key in keys:
            pipe.zrevrangebyscore(key, "+inf", since, start=0, num=POSTINGS_PER_FEATURE)
            pipe.zcount(key, since, "+inf")
        replies = pipe.execute()
        found: dict[str, list[str]] = {}
        counts: dict[str, int] = {}
        for index, feature in enumerate(features):
            ids, count = replies[2 * index], int(replies[2 * index + 1])
            if count:
                found[feature] = [_text(sid) for sid in ids]
                counts[feature] = count
        return found, counts

    def stories(self, ids: Iterable[str]) -> dict[str, StoryRecord]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        keys = [self._store.record_key(sid) for sid in wanted]
        self._watcher.watch(*keys)  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
        raws = self._store.client.mget(keys)
        return {
            sid: StoryRecord.from_json(json.loads(raw))
            for sid, raw in zip(wanted, raws, strict=True)
            if raw is not None
        }

    def next_seq(self) -> int:
        # Outside the transaction: a lost attempt leaves a gap in the sequence, which only
        # orders stories and never needs to be dense.
        return int(self._store.client.incr(f"{self._store.prefix}seq"))

    def commit(self, writes: Writes) -> bool:
        store, pipe, record = self._store, self._watcher, writes.record
        pipe.multi()
        # Active is operational time (when a worker last added to the story), not the
        # documents' own times: a backfill of last year's news is activity now.
        now = time.time()
        pipe.zadd(store.active_key, {record.id: now})
        pipe.zremrangebyscore(store.active_key, 0, now - self._ttl)
        for old in writes.removed:
            pipe.zrem(store.active_key, old.id)
            pipe.delete(store.record_key(old.id))
            for feature in old.features:
                pipe.zrem(store.posting_key(feature), old.id)
        for merged_id, survivor_id in writes.aliases.items():
            pipe.hset(store.alias_key, merged_id, survivor_id)
        pipe.set(store.record_key(record.id), json.dumps(record.to_json()), ex=self._ttl)
        for feature in record.features:
            key = store.posting_key(feature)
            pipe.zadd(key, {record.id: record.received[1]})
            pipe.expire(key, self._ttl)
        assignment = writes.assignment
        pipe.set(
            store.doc_key(writes.doc_id),
            json.dumps(
                {
                    "story_id": assignment.story_id,
                    "similarity": assignment.similarity,
                    "outcome": assignment.outcome,
                    "merged_from": list(assignment.merged_from),
                    "size": assignment.size,
                }
            ),
        )
        pipe.execute()  # raises WatchError when a watched key changed: assign tries again
        return True


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
