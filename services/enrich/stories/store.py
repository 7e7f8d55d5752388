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

import bisect
import hashlib
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final, Protocol

import hiredis
import orjson
import redis
import structlog

from services.enrich.stories.assign import (
    DAY_SECONDS,
    DUE_DAYS,
    POSTINGS_PER_FEATURE,
    Decision,
    DocumentTime,
    StoryAssignment,
    StoryRecord,
    add_document,
    decide,
    feature_weights,
    fold_into,
    new_record,
    story_id_for,
    top_candidates,
)
from services.enrich.stories.signature import StorySignature
from shared.errors import TransientError

log = structlog.get_logger(__name__)

ANCHOR_WEIGHT: Final = 1.0
"""Candidates are found only through features of at least this prior weight (persons,
organisations, amounts, rates, percentages): a story sharing none of them would need places,
countries, dates and names alone to reach ``MIN_SHARED``, which reports of one event never do
on the seeds or the benchmark, while those lists are the longest (every story names a country)."""

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
    posted: tuple[str, ...]
    """The features whose postings get the story at its latest time: the document's own (and,
    after a merge, all the survivor keeps). A story is found through the features of its recent
    documents; its older features' postings keep their older times and age out of the window."""


@dataclass(frozen=True, slots=True)
class Since:
    """Epoch seconds from which a lookup reads: ``counted``, the window, for how many recent
    stories carry a feature (its rarity); ``candidates``, further back, for the stories the
    document may join (a story reaches forward to a day its reports named as due)."""

    counted: float
    candidates: float


@dataclass(frozen=True, slots=True)
class Lookup:
    """What an attempt reads first, in one go: the document's recorded answer (a redelivery),
    the newest stories under each anchor feature, how many recent stories carry each feature,
    and a sequence number for the story it may start."""

    recorded: StoryAssignment | None
    postings: dict[str, list[str]]
    counts: dict[str, int]
    seq: int


class _Transaction(Protocol):
    def begin(
        self, doc_id: str, features: Sequence[str], anchors: Sequence[str], since: Since
    ) -> Lookup:
        """Read ``Lookup``: candidates last received at ``since.candidates`` or later, and how
        many stories last received at ``since.counted`` or later carry each feature."""

    def story_of(self, doc_id: str) -> str | None: ...

    def stories(self, ids: Iterable[str]) -> dict[str, StoryRecord]: ...

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
    doc_id: str, signature: StorySignature, when: DocumentTime, decision: Decision, seq: int
) -> Writes:
    if decision.join is None:
        record = new_record(story_id_for(doc_id), seq, signature, when)
        assignment = StoryAssignment(
            story_id=record.id,
            similarity=None,
            outcome="new",
            vetoes=tuple(sorted(decision.vetoes)),
        )
        return Writes(doc_id, assignment, record, (), {}, tuple(record.features))
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
        vetoes=tuple(sorted(decision.vetoes)),
    )
    posted = tuple(record.features) if merged else tuple(signature.features)
    return Writes(
        doc_id, assignment, record, decision.merge, dict.fromkeys(merged, record.id), posted
    )


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
    # A document dated only to a month may report an event of any day of it, so stories active
    # that much earlier are still candidates (``decide`` then checks the published dates).
    # A story may also reach forward to a day its reports named as due (``placements``), so
    # candidates come from that much further back; rarity still counts the window's stories
    # (a feature is common when many stories of these days carry it, not of the last month).
    back = (params.window_days + when.uncertain_days) * DAY_SECONDS
    since = Since(
        counted=when.received_seconds - back,
        candidates=when.received_seconds - back - DUE_DAYS * DAY_SECONDS,
    )
    features = list(signature.features)
    anchors = [key for key in features if signature.features[key] >= ANCHOR_WEIGHT]
    lookup = txn.begin(doc_id, features, anchors, since)
    if lookup.recorded is not None:
        return lookup.recorded
    forced_id = txn.story_of(near_duplicate_of) if near_duplicate_of else None
    postings, counts = lookup.postings, lookup.counts
    weights = feature_weights(signature, counts)
    wanted = top_candidates(postings, weights)
    records = txn.stories([*wanted, *([forced_id] if forced_id else [])])
    decision = decide(
        signature,
        when,
        [records[sid] for sid in wanted if sid in records],
        weights,
        threshold=params.threshold,
        merge_threshold=params.merge_threshold,
        window_days=params.window_days,
        forced=records.get(forced_id) if forced_id else None,
    )
    writes = _plan(doc_id, signature, when, decision, lookup.seq)
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


class TimeOrderedPostings:
    """The stories carrying one feature, kept in time order, so that a lookup counts the recent
    ones and takes the newest by bisection. A scan of every story under a common feature
    («BY») for each document made an in-process run quadratic in its size."""

    __slots__ = ("order", "times")

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.order: list[tuple[float, str]] = []  # (time, story id), oldest first

    def put(self, story_id: str, seconds: float) -> None:
        self.remove(story_id)
        self.times[story_id] = seconds
        bisect.insort(self.order, (seconds, story_id))

    def remove(self, story_id: str) -> None:
        seconds = self.times.pop(story_id, None)
        if seconds is not None:
            del self.order[bisect.bisect_left(self.order, (seconds, story_id))]

    def count(self, since: float) -> int:
        """How many stories were last seen at ``since`` or later."""
        return len(self.order) - bisect.bisect_left(self.order, (since, ""))

    def newest(self, since: float) -> list[str]:
        """The stories last seen at ``since`` or later, newest first (ties by story id,
        descending), at most ``POSTINGS_PER_FEATURE``."""
        first = bisect.bisect_left(self.order, (since, ""))
        newest = self.order[max(first, len(self.order) - POSTINGS_PER_FEATURE) :]
        return [story_id for _, story_id in reversed(newest)]


class MemoryStories:
    """Stories within one in-process run (``newsflow run``/``enrich``), under one lock."""

    def __init__(self) -> None:
        self._docs: dict[str, StoryAssignment] = {}
        self._stories: dict[str, StoryRecord] = {}
        self._postings: dict[str, TimeOrderedPostings] = {}
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
    def begin(
        self, doc_id: str, features: Sequence[str], anchors: Sequence[str], since: Since
    ) -> Lookup:
        found = self._docs.get(doc_id)
        recorded = None if found is None else replace(found, story_id=self.resolve(found.story_id))
        postings: dict[str, list[str]] = {}
        counts: dict[str, int] = {}
        wanted = set(anchors)
        for feature in features:
            stories = self._postings.get(feature)
            if stories is None:
                continue
            if count := stories.count(since.counted):
                counts[feature] = count
            if feature in wanted and (newest := stories.newest(since.candidates)):
                postings[feature] = newest
        self._seq += 1
        return Lookup(recorded, postings, counts, self._seq)

    def story_of(self, doc_id: str) -> str | None:
        found = self._docs.get(doc_id)
        return None if found is None else self.resolve(found.story_id)

    def stories(self, ids: Iterable[str]) -> dict[str, StoryRecord]:
        # The records themselves, not copies: the decision that changes one is committed under
        # the same lock, and a memory commit never loses a race.
        return {sid: self._stories[sid] for sid in ids if sid in self._stories}

    def commit(self, writes: Writes) -> bool:
        record = writes.record
        for old in writes.removed:
            self._stories.pop(old.id, None)
            for feature in old.features:
                if (stories := self._postings.get(feature)) is not None:
                    stories.remove(old.id)
        self._aliases.update(writes.aliases)
        self._stories[record.id] = record
        for feature in writes.posted:
            self._postings.setdefault(feature, TimeOrderedPostings()).put(
                record.id, record.received[1]
            )
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
"""Story records and postings live this many windows (at least 30 days), and ``DUE_DAYS`` more,
after their last write: nothing older is ever a candidate (a story reaches forward at most
``DUE_DAYS`` to a day its reports named as due), and Redis must not keep every story forever."""


class RedisStories:
    """Stories shared by every enrich worker; keys carry ``version`` (a new story enricher
    version starts afresh, and reindex then resolves old ids, see README)."""

    def __init__(self, client: redis.Redis, version: str) -> None:
        self.client = client
        self.prefix = f"{KEY_PREFIX}{version}:"
        # The SHA is computed here, not loaded: the script is loaded on its first NOSCRIPT.
        self.commit_sha = hashlib.sha1(_COMMIT_LUA.encode()).hexdigest()  # noqa: S324  (Redis names scripts by SHA-1)
        self.lookup_sha = hashlib.sha1(_LOOKUP_LUA.encode()).hexdigest()  # noqa: S324  (likewise)

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
        return self.resolve(str(orjson.loads(raw)["story_id"]))

    def load(self, doc_id: str, record: StoryRecord, window_days: int) -> None:
        """Write ``record`` as the story ``doc_id`` started, without deciding anything: for
        filling a store from stories decided elsewhere (the benchmark's synthetic load)."""
        with _Session(self.client) as session:
            txn = _RedisTransaction(self, session, window_days)
            assignment = StoryAssignment(story_id=record.id, similarity=None, outcome="new")
            txn.commit(Writes(doc_id, assignment, record, (), {}, tuple(record.features)))

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
            with _Session(self.client) as session:
                txn = _RedisTransaction(self, session, params.window_days)
                result = assign_in(txn, doc_id, signature, when, params, near_duplicate_of)
                if result is not None:
                    return result
        msg = f"story assignment of {doc_id} lost {MAX_ATTEMPTS} races in a row"
        raise TransientError(msg)


class _Session:
    """One connection of the client's pool for one optimistic attempt, sending each step's
    commands together: WATCH with the reads it guards, then MULTI/EVALSHA/EXEC. redis-py's
    watching pipeline sends a command per round trip and reads through a second connection; an
    assignment took five round trips and as many command dispatches, which were most of its
    time (``bench/stories.py``). WATCH still comes before every read on the same connection, so
    the transaction is as optimistic and as safe as before.

    A command error leaves replies unread on the connection, so the connection is dropped (a
    fresh one comes from the pool next time) rather than handed back out of step."""

    def __init__(self, client: redis.Redis) -> None:
        self._pool = client.connection_pool
        self._connection: redis.connection.Connection | None = None
        self.watching = False

    def __enter__(self) -> _Session:
        self._connection = self._pool.get_connection()
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if error is not None:
                connection.disconnect()  # type: ignore[no-untyped-call]  # untyped in redis-py
            elif self.watching:
                # A recorded answer was found: nothing to commit, the watch is let go.
                connection.send_command("UNWATCH")  # type: ignore[no-untyped-call]  # likewise
                connection.read_response()
        finally:
            self._pool.release(connection)

    def send(self, *commands: tuple[bytes | str | float | int, ...]) -> list[object]:
        """The replies to ``commands``, sent in one write; an error reply raises (after the
        replies before it were read; the session then drops the connection)."""
        connection = self._connection
        if connection is None:
            raise RuntimeError("a session sends only inside its with block")
        # hiredis packs the arguments as they are; redis-py's packer first re-encodes each in
        # Python, a third of an assignment's CPU at ~130 arguments (keys and feature flags).
        # (hiredis's stub types the argument as a tuple of one element; it takes any length.)
        packed = b"".join(hiredis.pack_command(command) for command in commands)  # type: ignore[arg-type]
        # One buffer, one send: redis-py sends each item of a list with its own sendall, and on
        # a loopback connection each send runs the server side's TCP receive path on this
        # process's CPU (~50 us): four of an assignment's seven sends were that alone.
        connection.send_packed_command([packed])  # type: ignore[no-untyped-call]  # untyped in redis-py
        replies = [connection.read_response() for _ in commands]
        if commands[0][0] == "WATCH":
            self.watching = True
        elif commands[-1][0] == "EXEC":
            self.watching = False  # EXEC ends every watch, whether it ran or not
        return replies


class _RedisTransaction:
    """One optimistic attempt over a ``_Session``: each read goes in one write with the WATCH of
    the keys it reads (three round trips in all: the lookup, the candidates' records, the
    commit). EXEC fails when another worker changed any watched key: ``assign`` tries again."""

    def __init__(self, store: RedisStories, session: _Session, window_days: int) -> None:
        self._store = store
        self._session = session
        self._ttl = (max(TTL_WINDOWS * window_days, 30) + DUE_DAYS) * DAY_SECONDS

    def _lookup(self, keys: Sequence[str], args: Sequence[str | float | int]) -> object:
        """The lookup script's reply, every key it reads watched first (all but the sequence,
        its own counter, whose INCR would fail the watch); the script is loaded on a server that
        does not know it (restarted or flushed)."""
        watch = ("WATCH", keys[0], *keys[2:])
        call = ("EVALSHA", self._store.lookup_sha, len(keys), *keys, *args)
        try:
            return self._session.send(watch, call)[1]
        except redis.exceptions.NoScriptError:
            # Its reply was the last one read: the connection is in step.
            self._store.client.script_load(_LOOKUP_LUA)
            return self._session.send(watch, call)[1]

    def begin(
        self, doc_id: str, features: Sequence[str], anchors: Sequence[str], since: Since
    ) -> Lookup:
        """The document's key and its features' postings watched and read in one script call
        (with a sequence number, which a lost attempt leaves unused: it only orders stories and
        never needs to be dense)."""
        store = self._store
        wanted = set(anchors)
        # One script call for all the reads: a command per feature cost more in redis-py's
        # packing and parsing than in Redis.
        flags = "".join("1" if feature in wanted else "0" for feature in features)
        args: list[str | float | int] = [
            since.counted,
            since.candidates,
            POSTINGS_PER_FEATURE,
            flags,
        ]
        keys = [
            store.doc_key(doc_id),
            f"{store.prefix}seq",
            *(store.posting_key(feature) for feature in features),
        ]
        reply = self._lookup(keys, args)
        replies = iter(reply)  # type: ignore[call-overload]  # the script's array reply
        raw, seq = next(replies), int(next(replies))
        postings: dict[str, list[str]] = {}
        counts: dict[str, int] = {}
        for feature in features:
            count, ids = int(next(replies)), next(replies)
            if count:
                counts[feature] = count
            if ids:
                postings[feature] = [_text(sid) for sid in ids]
        recorded = None
        if raw is not None:
            data = orjson.loads(raw)
            recorded = StoryAssignment(
                story_id=store.resolve(data["story_id"]),
                similarity=data["similarity"],
                outcome=data["outcome"],
                merged_from=tuple(data["merged_from"]),
                size=int(data["size"]),
                vetoes=tuple(data.get("vetoes", ())),
            )
        return Lookup(recorded, postings, counts, seq)

    def story_of(self, doc_id: str) -> str | None:
        return self._store.story_of(doc_id)

    def stories(self, ids: Iterable[str]) -> dict[str, StoryRecord]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        keys = [self._store.record_key(sid) for sid in wanted]
        raws = self._session.send(("WATCH", *keys), ("MGET", *keys))[1]
        return {
            sid: StoryRecord.from_json(orjson.loads(raw))
            for sid, raw in zip(wanted, raws, strict=True)  # type: ignore[call-overload]  # MGET's array
            if raw is not None
        }

    def commit(self, writes: Writes) -> bool:
        """Every write of ``writes`` as one script call inside MULTI/EXEC: one command to send
        and one reply to read instead of two per feature, which was most of an assignment's
        CPU. False when a watched key changed (EXEC did nothing): ``assign`` tries again."""
        store, record, assignment = self._store, writes.record, writes.assignment
        keys = [
            store.record_key(record.id),
            store.doc_key(writes.doc_id),
            store.active_key,
            store.alias_key,
            *(store.posting_key(feature) for feature in writes.posted),
        ]
        removed: list[str] = []
        for old in writes.removed:
            keys.append(store.record_key(old.id))
            keys.extend(store.posting_key(feature) for feature in old.features)
            removed.extend([old.id, str(len(old.features))])
        doc = {
            "story_id": assignment.story_id,
            "similarity": assignment.similarity,
            "outcome": assignment.outcome,
            "merged_from": list(assignment.merged_from),
            "size": assignment.size,
            "vetoes": list(assignment.vetoes),
        }
        args: list[bytes | str | float | int] = [
            orjson.dumps(record.to_json()),
            orjson.dumps(doc),
            self._ttl,
            # Active is operational time (when a worker last added to the story), not the
            # documents' own times: a backfill of last year's news is activity now.
            time.time(),
            record.id,
            record.received[1],
            len(writes.posted),
            len(writes.removed),
            *removed,
            *(value for pair in writes.aliases.items() for value in pair),
        ]
        executed = self._session.send(
            ("MULTI",), ("EVALSHA", store.commit_sha, len(keys), *keys, *args), ("EXEC",)
        )[2]
        if executed is None:
            return False  # a watched key changed
        if isinstance(executed, list) and isinstance(executed[0], redis.exceptions.NoScriptError):
            # A restarted (or flushed) server forgot the script: load it and try again (the
            # transaction did nothing, its only command having failed).
            store.client.script_load(_COMMIT_LUA)
            return False
        return True


# KEYS: the document's answer, the sequence, then the features' postings. ARGV: the oldest time
# counted as recent (rarity), the oldest time a candidate may have, postings read per anchor,
# then one character per feature: 1 for an anchor, else 0. Returns the answer (nil if none),
# the next sequence number, then per feature how many recent stories carry it and (for an
# anchor) the newest candidates under it.
_LOOKUP_LUA: Final = """
local counted, since = ARGV[1], ARGV[2]
local limit, anchors = tonumber(ARGV[3]), ARGV[4]
local out = {redis.call('GET', KEYS[1]), redis.call('INCR', KEYS[2])}
for i = 3, #KEYS do
  out[#out + 1] = redis.call('ZCOUNT', KEYS[i], counted, '+inf')
  if string.sub(anchors, i - 2, i - 2) == '1' then
    out[#out + 1] = redis.call('ZREVRANGEBYSCORE', KEYS[i], '+inf', since, 'LIMIT', 0, limit)
  else
    out[#out + 1] = {}
  end
end
return out
"""


# KEYS: the story's record, the document's answer, the active set, the aliases, the postings to
# put the story in, then per merged story its record and its postings. ARGV: record JSON, answer
# JSON, TTL, now, story id, its time, how many postings, how many merged stories, then per merged
# story its id and its postings' count, then (old, survivor) alias pairs.
_COMMIT_LUA: Final = """
local record, answer, ttl, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local story, score = ARGV[5], ARGV[6]
local posted, merged = tonumber(ARGV[7]), tonumber(ARGV[8])
redis.call('ZADD', KEYS[3], now, story)
redis.call('ZREMRANGEBYSCORE', KEYS[3], 0, tonumber(now) - ttl)
local key, arg = 5 + posted, 9
for _ = 1, merged do
  local old, count = ARGV[arg], tonumber(ARGV[arg + 1])
  arg = arg + 2
  redis.call('ZREM', KEYS[3], old)
  redis.call('DEL', KEYS[key])
  for i = key + 1, key + count do redis.call('ZREM', KEYS[i], old) end
  key = key + count + 1
end
while arg < #ARGV do
  redis.call('HSET', KEYS[4], ARGV[arg], ARGV[arg + 1])
  arg = arg + 2
end
redis.call('SET', KEYS[1], record, 'EX', ttl)
for i = 5, 4 + posted do
  redis.call('ZADD', KEYS[i], score, story)
  redis.call('EXPIRE', KEYS[i], ttl)
end
redis.call('SET', KEYS[2], answer)
return 1
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
