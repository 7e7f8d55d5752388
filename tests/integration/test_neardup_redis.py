"""Near-duplicate claims on the real Redis: the Lua script under real concurrency.

Database 8 of the test server, flushed before and after each test: the claims are keyed by
document id, so leftovers from another run would change the verdicts.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import redis

from services.enrich import neardup
from services.enrich.neardup import (
    NearDuplicateResult,
    RedisNearDuplicates,
    Signature,
    band_location,
    find_near_duplicate,
    signature,
)

if TYPE_CHECKING:
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Barrier

pytestmark = pytest.mark.integration

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
WORKERS = 6
ROUNDS = 30


def seed_body(prefix: str) -> str:
    """A seed's body: after the optional ` date` header and the title line."""
    path = next(SEEDS.glob(f"{prefix}_*.txt"))
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if lines[0].startswith(" date"):
        lines = lines[1:]
    return "\n".join(lines[1:])


@pytest.fixture
def db8_url(redis_url: str) -> Iterator[str]:
    url = redis_url
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


# A credit that differs by a word, not a number: copies whose numbers differ are not copies.
AGENCIES = ("БелТА", "Интерфакс", "ТАСС", "РИА", "Sputnik", "Reuters", "dpa", "AFP")


def _body(base: str, worker: int) -> str:
    """Near-identical copies: the same article with a different one-line credit."""
    return f"{base}\nИсточник: агентство {AGENCIES[worker]}."


def _claim_in_worker(
    url: str,
    worker: int,
    start: Barrier,
    results: Queue[tuple[str, NearDuplicateResult | None]],
) -> None:
    """One enrich worker: its own process, permutations and connection. Each round it waits
    with the others at the barrier, so that their claims reach Redis at the same moment."""
    client = redis.Redis.from_url(url)
    store = RedisNearDuplicates(client)
    body = _body(seed_body("000"), worker)
    signature(body)  # draw the permutations before the first race, not inside it
    for round_number in range(ROUNDS):
        start.wait(timeout=60)
        doc_id = f"r{round_number}-w{worker}"
        results.put((doc_id, find_near_duplicate(doc_id, body, store)))
    client.close()


def test_concurrent_near_identical_claims_agree_on_one_first_member(db8_url: str) -> None:
    """Six worker processes get six slightly different copies at once, round after round:
    exactly one is first, and every other one names it as its near-duplicate and cluster.
    (A read-then-write claim, not atomic, failed 29 rounds of 30 here.)"""
    context = multiprocessing.get_context("spawn")
    client = redis.Redis.from_url(db8_url)
    start = context.Barrier(WORKERS + 1)
    results: Queue[tuple[str, NearDuplicateResult | None]] = context.Queue()
    processes = [
        context.Process(target=_claim_in_worker, args=(db8_url, worker, start, results))
        for worker in range(WORKERS)
    ]
    for process in processes:
        process.start()
    try:
        for _ in range(ROUNDS):
            # Each round starts empty: the copies of earlier rounds would be found otherwise.
            client.flushdb()
            start.wait(timeout=120)
            verdicts = dict(results.get(timeout=60) for _ in processes)
            _assert_one_first_member(verdicts)
    finally:
        for process in processes:
            process.join(timeout=60)
            if process.exitcode is None:
                process.kill()
        client.close()
    assert [process.exitcode for process in processes] == [0] * WORKERS


def _assert_one_first_member(verdicts: dict[str, NearDuplicateResult | None]) -> None:
    firsts = [doc for doc, verdict in verdicts.items() if verdict and not verdict.near_duplicate_of]
    assert len(firsts) == 1, verdicts
    first = firsts[0]
    for doc_id, verdict in verdicts.items():
        assert verdict is not None
        assert verdict.cluster_id == first
        if doc_id != first:
            assert verdict.near_duplicate_of == first
            assert verdict.similarity is not None
            assert verdict.similarity >= neardup.THRESHOLD


def test_band_collision_that_is_not_similar_is_rejected(db8_url: str) -> None:
    """A document that shares a band with a stored one is only a candidate: the script checks
    the stored signature and finds them unrelated."""
    client = redis.Redis.from_url(db8_url)
    store = RedisNearDuplicates(client)
    held = signature(seed_body("000"))
    unrelated = signature(seed_body("002"))
    assert held is not None
    assert unrelated is not None
    band = neardup.ROWS * 4
    colliding = Signature.from_values(
        held.values[:band] + unrelated.values[band:],
        size=unrelated.size,
        numbers=unrelated.numbers,
    )

    assert store.claim("held", held) == NearDuplicateResult(None, None, "held")
    key, field = band_location(colliding.bands[0])
    assert client.hget(key, field) == b"held", "the test must really make a band collide"
    assert store.claim("colliding", colliding) == NearDuplicateResult(None, None, "colliding")
    client.close()


def test_redelivery_and_a_copy_on_the_real_script(db8_url: str) -> None:
    """The real server's Lua (not fakeredis's) keeps a redelivered document out of its own
    cluster and finds a reflowed copy with a paragraph cut."""
    client = redis.Redis.from_url(db8_url)
    store = RedisNearDuplicates(client)
    paragraphs = seed_body("000").split("\n")[:4]
    original = "\n\n".join(paragraphs)
    copy = "  ".join(" ".join(paragraphs[:3]).split())

    first = find_near_duplicate("original", original, store)
    found = find_near_duplicate("copy", copy, store)
    assert first == NearDuplicateResult(None, None, "original")
    assert found is not None
    assert (found.near_duplicate_of, found.cluster_id) == ("original", "original")
    assert find_near_duplicate("original", original, store) == first
    assert find_near_duplicate("copy", copy, store) == found
    client.close()
