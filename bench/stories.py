"""Story assignment cost as the Redis store grows, and the memory a story takes there.

What it does, on a Redis database claimed for this run (as the tests claim theirs, so it never
flushes a database someone else uses; freed at the end):

1. Makes synthetic *events*: one or two persons (surname keys, from 50 000), one to three
   organisations (20 000, Zipf-skewed: a few, like a newswire, are in many stories), one to three
   places (2 000, Zipf), one or two countries (60, very skewed: «BY» is in most), sometimes
   amounts, a percentage, a date in the window, unlinked names and subjects. A *report* of an event
   carries most of its features plus some noise of its own, which is what real reports of one
   event share (see the README's "Stories" for the weights).
2. Fills the store to 10^4, then 10^5 stories, each the first report of an event, received over
   the last seven days (so every story is inside the time window: the worst case for candidates).
   Filling writes the records as ``RedisStories.load`` (the commit of a new story) without
   deciding, which is what makes 10^5 take a minute rather than an hour.
3. At each size, assigns ``--probes`` reports one at a time, as an enrich worker does: half are
   further reports of stored events (they should join), half reports of new events (they should
   not). Each is timed from the call to the answer: WATCH, reads, decision and MULTI/EXEC.

How to read the figures:

- ``assign p50/p95`` per document, milliseconds of wall clock; ``ratio`` is the 10^5 figure over
  the 10^4 one (flat means about 1: the cost must not grow with the store). ``CPU`` is this
  process's own CPU time per assignment (Python, JSON, the client's packing and parsing), which
  a loaded machine cannot inflate. ``PING`` p50/p95, taken between probes, is the bare round
  trip: on a shared machine the wall figures are mostly its scheduling (an assignment is three
  round trips: WATCH with the lookup script, WATCH with MGET of the candidates, MULTI/EXEC).
- ``joined`` is the share of further reports that joined their event's story and ``false
  joins`` the share of new events that joined any story; on synthetic data these only show that
  the load is realistic enough to exercise joins, not the accuracy (``bench/accuracy.py
  stories`` measures that on labelled real news).
- ``memory`` is the sum of ``MEMORY USAGE`` over the store's keys after the fill, and per story.

Run ``python bench/stories.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.enrich.stories import (  # needs the repo on sys.path
    DocumentTime,
    RedisStories,
    StoryParams,
    StorySignature,
)
from services.enrich.stories.assign import new_record, story_id_for
from services.enrich.stories.facts import NamedDate
from services.enrich.stories.signature import (
    W_AMOUNT,
    W_COUNTRY,
    W_DATE,
    W_NAME,
    W_ORG,
    W_PERCENT,
    W_PERSON,
    W_PLACE,
    W_SUBJECT,
    Facts,
    amount_feature,
)
from tests.support import DatabaseClaim  # the tests' way to share one Redis

PARAMS = StoryParams(threshold=0.25, merge_threshold=0.25, window_days=7)
NOW = datetime(2025, 10, 8, 12, tzinfo=UTC)
SIZES = (10_000, 100_000)


@dataclass(frozen=True)
class Event:
    features: dict[str, float]
    amounts: frozenset[float]
    percentages: frozenset[float]
    dates: frozenset[NamedDate]
    day: date


def zipf(rng: random.Random, size: int, skew: float = 1.1) -> int:
    """An index in [0, size) drawn with a Zipf-like skew (a few values are very common)."""
    return min(size - 1, int(rng.paretovariate(skew)) - 1)


def make_event(rng: random.Random, number: int) -> Event:
    features: dict[str, float] = {}
    for _ in range(rng.randint(1, 2)):
        # Persons are keyed by surname (``signature.person_feature``): fewer keys than people.
        features[f"s:{rng.randrange(50_000)}"] = W_PERSON
    for _ in range(rng.randint(1, 3)):
        features[f"e:org:{zipf(rng, 20_000)}"] = W_ORG
    for _ in range(rng.randint(1, 3)):
        features[f"e:geonames:{zipf(rng, 2_000)}"] = W_PLACE
    for _ in range(rng.randint(1, 2)):
        features[f"e:C{zipf(rng, 60, 0.6)}"] = W_COUNTRY
    for _ in range(rng.randint(0, 4)):
        features[f"n:{rng.randrange(500_000)}"] = W_NAME
    for _ in range(rng.randint(0, 3)):
        # Subjects: a couple of dozen, a few (the budget, loans) in many stories.
        features[f"t:{zipf(rng, 24)}"] = W_SUBJECT
    amounts = frozenset(float(rng.randrange(1, 10_000) * 1000) for _ in range(rng.randint(0, 2)))
    for amount in amounts:
        features[amount_feature("USD", amount)] = W_AMOUNT
    percentages = frozenset(
        round(rng.uniform(0.1, 30), 1) for _ in range(1 if rng.random() < 0.3 else 0)
    )
    for value in percentages:
        features[f"p:{value:g}"] = W_PERCENT
    day = NOW.date() - timedelta(days=rng.randrange(7))
    dates = frozenset([NamedDate(day.month, day.day)] if rng.random() < 0.4 else [])
    for named in dates:
        features[f"d:{named.key()}"] = W_DATE
    del number
    return Event(features, amounts, percentages, dates, day)


def report(rng: random.Random, event: Event) -> StorySignature:
    """One report of ``event``: most of its features (never dropping all persons), some noise."""
    kept = {
        key: weight
        for key, weight in event.features.items()
        if key.startswith("s:") or rng.random() < 0.8
    }
    for _ in range(rng.randint(0, 3)):
        kept[f"n:{rng.randrange(500_000)}"] = W_NAME
    return StorySignature(
        features=kept,
        facts=Facts(
            percentages=event.percentages,
            dates=event.dates,
        ),
    )


def when(event: Event, rng: random.Random) -> DocumentTime:
    received = datetime.combine(event.day, datetime.min.time(), UTC) + timedelta(
        seconds=rng.randrange(86_400)
    )
    return DocumentTime(published=event.day, received=received)


def store_memory(client: redis.Redis, prefix: str) -> int:
    total = 0
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        total += int(client.memory_usage(key) or 0)
    return total


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def probe_store(  # noqa: PLR0917  (the bench's state, passed along)
    store: RedisStories,
    client: redis.Redis,
    events: list[Event],
    rng: random.Random,
    probes: int,
    size: int,
) -> tuple[list[float], list[float], list[float], int, int]:
    """Assign ``probes`` reports one at a time: (timings ms, this process's CPU ms, PING ms,
    joined, false joins)."""
    timings: list[float] = []
    cpu: list[float] = []
    pings: list[float] = []
    joined = false_joins = 0
    for probe in range(probes):
        follow_up = probe % 2 == 0
        event = rng.choice(events) if follow_up else make_event(rng, -1)
        signature = report(rng, event)
        doc_id = f"probe-{size}-{probe}"
        started, cpu_started = time.perf_counter(), time.process_time()
        answer = store.assign(doc_id, signature, when(event, rng), PARAMS)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        if follow_up:
            joined += answer.outcome == "joined"
        else:
            false_joins += answer.outcome == "joined"
        started = time.perf_counter()
        client.ping()
        pings.append((time.perf_counter() - started) * 1000)
    return timings, cpu, pings, joined, false_joins


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379", help="the Redis server")
    parser.add_argument("--probes", type=int, default=1000, help="documents timed per size")
    parser.add_argument("--seed", type=int, default=20251011)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    claim = DatabaseClaim(options.redis)
    claim.start_heartbeat()
    client = redis.Redis.from_url(claim.url)
    client.flushdb()  # our own claimed database: whatever a killed run left
    store = RedisStories(client, "bench")
    events: list[Event] = []
    figures: dict[int, tuple[float, float]] = {}
    try:
        for size in SIZES:
            started = time.perf_counter()
            while len(events) < size:
                event = make_event(rng, len(events))
                doc_id = f"fill-{len(events)}"
                record = new_record(
                    story_id_for(doc_id), len(events) + 1, report(rng, event), when(event, rng)
                )
                store.load(doc_id, record, PARAMS.window_days)
                events.append(event)
            fill = time.perf_counter() - started
            memory = store_memory(client, store.prefix)
            timings, cpu, pings, joined, false_joins = probe_store(
                store, client, events, rng, options.probes, size
            )
            p50, p95 = percentile(timings, 0.5), percentile(timings, 0.95)
            figures[size] = (p50, p95)
            half = options.probes / 2
            print(
                f"{size:>7} stories  fill {fill:6.1f} s  assign p50 {p50:.2f} ms  p95 {p95:.2f} ms"
                f"  CPU p50 {percentile(cpu, 0.5):.2f} p95 {percentile(cpu, 0.95):.2f} ms"
                f"  (PING p50 {percentile(pings, 0.5):.3f} p95 {percentile(pings, 0.95):.3f} ms)"
                f"  joined {joined / half:.0%}"
                f"  false joins {false_joins / half:.1%}"
                f"  memory {memory / 2**20:.1f} MiB = {memory / size:.0f} B/story"
            )
        small, large = figures[SIZES[0]], figures[SIZES[-1]]
        print(f"ratio 10^5 / 10^4: p50 {large[0] / small[0]:.2f}  p95 {large[1] / small[1]:.2f}")
    finally:
        client.flushdb()
        client.close()
        claim.release()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
