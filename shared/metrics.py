"""Every newsflow metric, declared once, named by the Prometheus naming guide.

Labels are bounded sets only (stage, outcome, reason, language, kind, result, source); never a
document id, a file name or free text. Under Celery's prefork pool each child process counts on
its own; prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, set and wiped by
the worker's start command before Python starts) sums them when ``/metrics`` is scraped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from typing import get_args

import structlog
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from shared.errors import DeadLetterReason
from shared.messages import EntityType, HeaderResult, RepairKind

log = structlog.get_logger("newsflow.metrics")

# A stage handles a few-KiB news file in milliseconds (ingest, index) to a few hundred
# milliseconds (language detection on a long text); retries and large files reach seconds.
# The buckets resolve that range and put anything slower than half a minute in one tail bucket.
STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

FILES_RECEIVED = Counter(
    "newsflow_files_received_total", "Raw files accepted for processing.", ["source"]
)
RECEIVED_BYTES = Counter("newsflow_received_bytes_total", "Bytes of raw files received.")
DOCUMENTS_PROCESSED = Counter(
    "newsflow_documents_processed_total",
    "Messages a stage finished, by how they ended.",
    ["stage", "outcome"],
)
STAGE_DURATION = Histogram(
    "newsflow_stage_duration_seconds",
    "Time a stage spent on one message.",
    ["stage"],
    buckets=STAGE_BUCKETS,
)
# Messages a worker's child took at once (``shared.batches``): up to the stage's batch size
# (16 by default, 256 at most); a batch of one is a quiet pipeline, a full one a backlog.
BATCH_BUCKETS = (1, 2, 4, 8, 12, 16, 32, 64, 128, 256)
BATCH_SIZE = Histogram(
    "newsflow_batch_size_messages",
    "Messages a stage's worker child took in one batch.",
    ["stage"],
    buckets=BATCH_BUCKETS,
)
TASK_RETRIES = Counter(
    "newsflow_task_retries_total", "Retries scheduled after a transient error.", ["stage"]
)
DEAD_LETTERS = Counter(
    "newsflow_dead_letters_total",
    "Messages dead-lettered, by stage and reason.",
    ["stage", "reason"],
)
# Why a dead letter left the store before anyone replayed it: older than the TTL, or pushed
# out (oldest first) when the store passed its size cap.
EVICTION_REASONS = ("expired", "size_cap")
DEAD_LETTERS_EVICTED = Counter(
    "newsflow_dead_letters_evicted_total",
    "Dead letters evicted before being replayed, by reason (expired, size_cap).",
    ["reason"],
)
DOCUMENTS_BY_LANGUAGE = Counter(
    "newsflow_documents_by_language_total", "Enriched documents by detected language.", ["language"]
)
DUPLICATES = Counter("newsflow_duplicates_total", "Duplicates found, by kind.", ["kind"])
REDRIVES = Counter(
    "newsflow_redrives_total",
    "Receipts the reconciler drove again after they stopped moving, by the stage re-sent to.",
    ["stage"],
)
HEADER_PARSE = Counter("newsflow_header_parse_total", "Header lines by parse result.", ["result"])
REPAIRS = Counter("newsflow_repairs_total", "Repairs made to raw text, by kind.", ["kind"])
MONEY_MENTIONS = Counter(
    "newsflow_money_mentions_total", "Money mentions found, by ISO 4217 currency.", ["currency"]
)
ENTITIES = Counter("newsflow_entities_total", "Entities found, by type.", ["type"])
# Per indexed document: it started a story ("new") or joined one ("joined"); "merged" counts the
# stories a document folded into another. New stories per minute is what the dashboard shows as
# "new stories", joins as stories growing.
STORY_OUTCOMES = ("new", "joined", "merged")
STORIES = Counter(
    "newsflow_stories_total",
    "Story assignments: documents that started (new) or joined one, and stories merged away.",
    ["outcome"],
)
STORY_SIZE = Histogram(
    "newsflow_story_size_documents",
    "Size (documents) of the story a document joined or started, after it did.",
    buckets=(1, 2, 3, 5, 10, 20, 50, 100, 500),
)
# From the moment intake accepted a file to the moment its document is searchable. A quiet
# pipeline does it in well under a second; a backlog stretches it to minutes, which is exactly
# what the alert on this histogram must see, so the buckets reach ten minutes.
END_TO_END_LATENCY = Histogram(
    "newsflow_end_to_end_latency_seconds",
    "Time from receipt of a raw file to its document being indexed.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0),
)


def initialise_stage_series(stage: str, outcomes: Sequence[str]) -> None:
    """Export a stage's bounded series at zero from the start.

    A counter series that first appears at 1 is invisible to ``rate()``/``increase()`` (there is
    no earlier sample to compare with), so the very first dead letter of a kind would never show
    on the dashboard or fire an alert. Every bounded label value is therefore created at zero.
    """
    for outcome in outcomes:
        DOCUMENTS_PROCESSED.labels(stage=stage, outcome=outcome)
    for reason in get_args(DeadLetterReason):
        DEAD_LETTERS.labels(stage=stage, reason=reason)
    for reason in EVICTION_REASONS:
        DEAD_LETTERS_EVICTED.labels(reason=reason)
    STAGE_DURATION.labels(stage=stage)
    BATCH_SIZE.labels(stage=stage)
    TASK_RETRIES.labels(stage=stage)
    if stage == "ingest":
        for result in get_args(HeaderResult):
            HEADER_PARSE.labels(result=result)
        for kind in get_args(RepairKind):
            REPAIRS.labels(kind=kind)
    if stage == "enrich":
        for kind in ("exact", "near"):
            DUPLICATES.labels(kind=kind)
        for entity_type in get_args(EntityType):
            ENTITIES.labels(type=entity_type)
        for outcome in STORY_OUTCOMES:
            STORIES.labels(outcome=outcome)


class QueueDepthCollector(Collector):
    """``newsflow_queue_depth{queue}``: messages waiting in each stage's Redis list, read at
    scrape time. A gauge kept by the workers would be stale the moment they stop consuming,
    which is exactly when the depth matters; reading Redis on each scrape is always true."""

    def __init__(self, queues: Sequence[str], llen: Callable[[str], int]) -> None:
        self._queues = tuple(queues)
        self._llen = llen

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "newsflow_queue_depth", "Messages waiting in a stage's queue.", labels=["queue"]
        )
        try:
            for queue in self._queues:
                family.add_metric([queue], float(self._llen(queue)))
        except Exception as error:  # noqa: BLE001  # a scrape must not fail because Redis did
            log.warning("queue depth unavailable", error=repr(error))
            return
        yield family


class LedgerCollector(Collector):
    """``newsflow_receipts_pending`` and ``newsflow_receipts_overdue``: receipts not yet
    terminal, and those that have not moved for the deadline (what the reconciler drives again),
    read from the ledger at scrape time. Overdue receipts that stay overdue mean a stage is
    stuck, not just slow."""

    def __init__(self, counts: Callable[[], tuple[int, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            pending, overdue = self._counts()
        except Exception as error:  # noqa: BLE001  # a scrape must not fail because Redis did
            log.warning("ledger counts unavailable", error=repr(error))
            return
        yield GaugeMetricFamily(
            "newsflow_receipts_pending",
            "Accepted files not yet indexed, duplicate or dead.",
            value=float(pending),
        )
        yield GaugeMetricFamily(
            "newsflow_receipts_overdue",
            "Receipts that have not moved for the reconcile deadline.",
            value=float(overdue),
        )


ACTIVE_WINDOWS = {"1h": 3600, "24h": 86400}


class ActiveStoriesCollector(Collector):
    """``newsflow_stories_active{window}``: stories that received a document within the last
    hour and day, read from the story store at scrape time (a count of distinct stories is not
    something counters can add up)."""

    def __init__(
        self, active_since: Callable[[float], int], clock: Callable[[], float] = time.time
    ) -> None:
        self._active_since = active_since
        self._clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "newsflow_stories_active",
            "Stories that received a document within the window.",
            labels=["window"],
        )
        now = self._clock()
        try:
            for window, seconds in ACTIVE_WINDOWS.items():
                family.add_metric([window], float(self._active_since(now - seconds)))
        except Exception as error:  # noqa: BLE001  # a scrape must not fail because Redis did
            log.warning("active stories unavailable", error=repr(error))
            return
        yield family


def metrics_registry() -> CollectorRegistry | None:
    """The registry to serve: the multiprocess collector when prefork children write files."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None  # the default registry of this single process
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped upstream
    return registry


def serve_metrics(port: int, *extra: Collector) -> None:
    """Serve /metrics on ``port`` from this (the parent) process; 0 means off."""
    if not port:
        return
    registry = metrics_registry() or REGISTRY
    for collector in extra:
        registry.register(collector)
    start_http_server(port, registry=registry)


def mark_process_dead(pid: int) -> None:
    """Tell multiprocess mode a child has exited, so its live gauges stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]  # untyped upstream
