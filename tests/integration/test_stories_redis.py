"""Story assignment on the real Redis: WATCH/MULTI under real concurrency.

Uses this run's own Redis database (the ``redis_url`` fixture), emptied before each round: story
keys are keyed by document and feature, so leftovers would change the answers.
"""

from __future__ import annotations

import multiprocessing
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import pytest
import redis

from services.enrich.stories import DocumentTime, RedisStories, StoryParams, StorySignature
from services.enrich.stories.signature import Facts

if TYPE_CHECKING:
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Barrier

pytestmark = pytest.mark.integration

WORKERS = 6
ROUNDS = 10
PARAMS = StoryParams(threshold=0.2, merge_threshold=0.5, window_days=7)
WHEN = DocumentTime(published=date(2025, 9, 29), received=datetime(2025, 9, 29, 12, tzinfo=UTC))


def _report(worker: int) -> StorySignature:
    """Reports of one event by six agencies: the same person, fair and city, each agency's own
    name (so no two signatures are identical)."""
    return StorySignature(
        features={
            "e:per:ndsd-lsrvc": 3.0,
            "e:org:innoprom": 1.5,
            "e:geonames:625144": 0.75,
            f"e:org:agency-{worker}": 1.5,
        },
        facts=Facts(),
    )


def _assign_in_worker(
    url: str, worker: int, start: Barrier, results: Queue[tuple[str, str, str]]
) -> None:
    """One enrich worker: its own process and connection; each round it waits with the others
    at the barrier so that their assignments reach Redis together."""
    client = redis.Redis.from_url(url)
    store = RedisStories(client, "race")
    for round_number in range(ROUNDS):
        start.wait(timeout=60)
        doc_id = f"r{round_number}-w{worker}"
        found = store.assign(doc_id, _report(worker), WHEN, PARAMS)
        results.put((doc_id, found.story_id, found.outcome))
    client.close()


def test_concurrent_reports_of_one_event_start_exactly_one_story(redis_url: str) -> None:
    """Six workers assign six reports of one event at the same moment, round after round: one
    starts the story and the five others join it (a read-then-write assignment would start
    several stories in the same round)."""
    context = multiprocessing.get_context("spawn")
    client = redis.Redis.from_url(redis_url)
    start = context.Barrier(WORKERS + 1)
    results: Queue[tuple[str, str, str]] = context.Queue()
    processes = [
        context.Process(target=_assign_in_worker, args=(redis_url, worker, start, results))
        for worker in range(WORKERS)
    ]
    for process in processes:
        process.start()
    try:
        for _ in range(ROUNDS):
            client.flushdb()
            start.wait(timeout=120)
            answers = [results.get(timeout=60) for _ in processes]
            assert len({story for _, story, _ in answers}) == 1, answers
            assert sorted(outcome for _, _, outcome in answers) == ["joined"] * 5 + ["new"]
    finally:
        for process in processes:
            process.join(timeout=60)
            if process.exitcode is None:
                process.kill()
        client.close()
    assert [process.exitcode for process in processes] == [0] * WORKERS


def test_a_redelivered_document_keeps_its_story_on_the_real_server(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    store = RedisStories(client, "race")
    first = store.assign("doc", _report(0), WHEN, PARAMS)
    assert store.assign("doc", _report(0), WHEN, PARAMS) == first
    assert store.story_of("doc") == first.story_id
    client.close()


def test_assignment_reloads_scripts_a_restarted_server_forgot(redis_url: str) -> None:
    """A Redis restarted without its script cache answers NOSCRIPT to both scripts (the lookup
    and the commit inside MULTI): each is loaded again and the assignment goes on."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    store = RedisStories(client, "race")
    first = store.assign("a", _report(0), WHEN, PARAMS)
    client.script_flush()
    second = store.assign("b", _report(1), WHEN, PARAMS)
    assert (second.story_id, second.outcome) == (first.story_id, "joined")
    client.script_flush()
    assert store.assign("a", _report(0), WHEN, PARAMS) == first
    client.close()


def test_a_redelivery_hands_its_connection_back_unwatched(redis_url: str) -> None:
    """A redelivered document's attempt watched keys and committed nothing: the connection must
    go back to the pool without the watch, or the next transaction on it would fail because
    another client wrote one of those keys."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    store = RedisStories(client, "race")
    store.assign("doc", _report(0), WHEN, PARAMS)
    store.assign("doc", _report(0), WHEN, PARAMS)  # the recorded answer, nothing written
    other = redis.Redis.from_url(redis_url)
    other.set(store.doc_key("doc"), "changed by another client")
    # The pool hands out its most recently released connection: the one the redelivery used.
    with client.pipeline(transaction=True) as pipe:
        pipe.set("after-redelivery", 1)
        assert pipe.execute() == [True]
    other.close()
    client.close()
