"""Batch consumption through real workers: every document of a batch ends on its own.

The enrich worker here takes up to 16 messages at once, or what it has after a second. Parsed
documents are put straight onto the enrich queue in one go (made in this process by ingest's
own function), so that they meet in one batch; each test then checks the receipts, the index
and the enrich worker's log, which names every batch with its size:

* a batch that waits out its time with fewer messages than its size goes as it is, and an
  invalid message in it is dead-lettered while the others are indexed;
* a batch that runs past its soft time limit sends what it has not finished to run alone,
  where the slow document is dead-lettered as ``timeout`` and the others are indexed;
* a batch whose process is killed under it is handed back whole, and each of its documents
  then runs alone and ends (indexed, or ``timeout`` for the slow one).

The slow document is real work, not a sleep (``chaos.large_document``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from services.ingest.intake import new_receipt, raw_file_message, read_limited
from services.ingest.stage import ingest_raw
from shared.celery_app import Publisher, make_celery
from shared.receipts import ReceiptStatus
from shared.settings import Settings
from tests.integration.chaos import (
    READ_WHOLE_TEXT,
    large_document,
    sqlite_ids,
    unique_documents,
    wait_terminal,
)
from tests.integration.conftest import Pipeline, start_pipeline, stop_pipeline
from tests.integration.test_chaos_limits import busy_child

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

BATCHES = {
    "NEWSFLOW_ENRICH_BATCH_SIZE": "16",
    "NEWSFLOW_ENRICH_BATCH_WAIT_MS": "1000",
    "NEWSFLOW_LOG_LEVEL": "INFO",
    # Entities and money read the whole large document, so that it keeps a batch busy.
    "NEWSFLOW_ENRICH_MAX_CHARS": "10000000",
}


@contextlib.contextmanager
def running(redis_url: str, workdir: Path, env: dict[str, str]) -> Iterator[Pipeline]:
    pipeline = start_pipeline(redis_url, workdir, {**BATCHES, **env})
    try:
        yield pipeline
    finally:
        stop_pipeline(pipeline)


def parsed_payloads(files: list[Path]) -> list[dict[str, Any]]:
    """What ingest would send to enrich for each file (a receipt of its own each)."""
    settings = Settings(_env_file=None, max_file_bytes=10 * 1024 * 1024)
    payloads = []
    for path in files:
        data, size = read_limited(path, settings.max_file_bytes)
        raw = raw_file_message(
            data, size, filename=path.name, source="cli", origin_path=None, receipt=new_receipt()
        )
        payloads.append(ingest_raw(raw, data, settings).model_dump(mode="json"))
    return payloads


def send_to_enrich(pipeline: Pipeline, payloads: list[dict[str, Any]]) -> None:
    settings = Settings(_env_file=None, redis_url=pipeline.env["NEWSFLOW_REDIS_URL"])
    publisher = Publisher(make_celery(settings))
    try:
        for payload in payloads:
            publisher.send("enrich", payload)
    finally:
        publisher.close()


def enrich_events(pipeline: Pipeline) -> list[dict[str, Any]]:
    """The enrich worker's JSON log lines."""
    found = []
    for line in pipeline.log_text("enrich").splitlines():
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if isinstance(event, dict) and "event" in event:
                found.append(event)
    return found


def batches(pipeline: Pipeline) -> list[dict[str, Any]]:
    """The enrich worker's ``batch processed`` lines."""
    return [event for event in enrich_events(pipeline) if event["event"] == "batch processed"]


def final(pipeline: Pipeline, receipts: list[str], timeout: float) -> dict[str, ReceiptStatus]:
    client = redis.Redis.from_url(pipeline.env["NEWSFLOW_REDIS_URL"])
    statuses = wait_terminal(client, receipts, timeout=timeout)
    open_ones = {r: s for r, s in statuses.items() if s is None or not s.final}
    assert not open_ones, open_ones
    return {receipt: status for receipt, status in statuses.items() if status is not None}


def test_a_partial_batch_goes_at_its_wait_and_an_invalid_message_in_it_is_dead_lettered(
    redis_url: str, tmp_path: Path
) -> None:
    """Five documents and one invalid message, fewer than the batch size: they go as one batch
    once the first has waited its second, the invalid one is dead-lettered as
    ``invalid_message`` and the five are indexed: one bad message never fails its batch."""
    with running(redis_url, tmp_path / "run", {}) as pipeline:
        payloads = parsed_payloads(unique_documents(tmp_path / "docs", count=5))
        poison = {**payloads[0], "receipt": new_receipt(), "language": 42, "paragraphs": "x"}
        send_to_enrich(pipeline, [*payloads[:3], poison, *payloads[3:]])
        receipts = [payload["receipt"] for payload in payloads]
        statuses = final(pipeline, [*receipts, poison["receipt"]], timeout=60)
        assert [statuses[r].state for r in receipts] == ["indexed"] * 5, statuses
        bad = statuses[poison["receipt"]]
        assert (bad.state, bad.stage, bad.reason) == ("dead_letter", "enrich", "invalid_message")
        assert len(set(sqlite_ids(pipeline.index_path))) == 5
        sizes = [(event["size"], event["together"]) for event in batches(pipeline)]
        assert (6, 5) in sizes, sizes  # one batch of six, five of them enriched together
        assert pipeline.all_alive()


def test_a_batch_past_its_soft_time_limit_sends_the_rest_to_run_alone(
    redis_url: str, tmp_path: Path
) -> None:
    """A large document in a batch of small ones holds the batch past its soft limit: the
    unfinished documents run alone, the large one is dead-lettered as ``timeout`` there, and
    every small one is indexed."""
    env = {
        "NEWSFLOW_ENRICH_SOFT_TIME_LIMIT": "3",
        "NEWSFLOW_ENRICH_TIME_LIMIT": "30",
        **READ_WHOLE_TEXT,
    }
    with running(redis_url, tmp_path / "run", env) as pipeline:
        small = parsed_payloads(unique_documents(tmp_path / "docs", count=6))
        [large] = parsed_payloads([large_document(tmp_path / "large", size=4 * 1024 * 1024)])
        send_to_enrich(pipeline, [*small[:3], large, *small[3:]])
        statuses = final(pipeline, [p["receipt"] for p in [*small, large]], timeout=120)
        assert [statuses[p["receipt"]].state for p in small] == ["indexed"] * 6, statuses
        slow = statuses[large["receipt"]]
        assert (slow.state, slow.stage, slow.reason) == ("dead_letter", "enrich", "timeout")
        log = pipeline.log_text("enrich")
        stopped = [e for e in enrich_events(pipeline) if e["event"].startswith("batch stopped")]
        assert len(stopped) == 1, stopped
        # All seven in one batch when they arrive within its wait; on a loaded machine the
        # first small ones may go in a batch of their own before the large one comes, and are
        # enriched there: what counts is that every unfinished one of the stopped batch (the
        # large one among them) is sent to run alone, once.
        alone = [
            e["task_id"]
            for e in enrich_events(pipeline)
            if e["event"] == "message sent to run alone"
        ]
        assert len(alone) == len(set(alone)) == stopped[0]["unfinished"] >= 1, (alone, stopped)
        assert "batch stopped at its soft time limit; the rest runs alone" in log
        assert pipeline.all_alive()


def test_a_batch_whose_process_is_killed_is_handed_back_and_each_document_ends(
    redis_url: str, tmp_path: Path
) -> None:
    """kill -9 of the child running a batch: the main process hands the batch back, and each
    of its documents, started once already, runs alone: the small ones are indexed, the large
    one (which kept the batch busy) ends at its soft limit alone. None is lost or stuck."""
    env = {
        "NEWSFLOW_ENRICH_SOFT_TIME_LIMIT": "5",
        "NEWSFLOW_ENRICH_TIME_LIMIT": "30",
        **READ_WHOLE_TEXT,
    }
    with running(redis_url, tmp_path / "run", env) as pipeline:
        main_pid = pipeline.processes["enrich"].pid
        small = parsed_payloads(unique_documents(tmp_path / "docs", count=6))
        [large] = parsed_payloads([large_document(tmp_path / "large", size=1024 * 1024)])
        send_to_enrich(pipeline, [*small[:3], large, *small[3:]])
        working = busy_child(pipeline, "enrich")
        time.sleep(0.5)  # well inside the batch: the large document takes seconds
        os.kill(working, signal.SIGKILL)
        statuses = final(pipeline, [p["receipt"] for p in [*small, large]], timeout=120)
        assert [statuses[p["receipt"]].state for p in small] == ["indexed"] * 6, statuses
        slow = statuses[large["receipt"]]
        assert slow.state in ("indexed", "dead_letter"), slow
        if slow.state == "dead_letter":
            assert (slow.stage, slow.reason) == ("enrich", "timeout"), slow
        log = pipeline.log_text("enrich")
        assert "batch lost; its messages go back to the queue, to run alone" in log, log[-3000:]
        assert log.count("message sent to run alone") >= 7
        assert len(set(sqlite_ids(pipeline.index_path))) == 6 + (slow.state == "indexed")
        assert pipeline.processes["enrich"].pid == main_pid
        assert pipeline.all_alive()
