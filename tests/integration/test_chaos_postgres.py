"""The PostgreSQL index unreachable mid-run, then back: retries, nothing lost, a quick resume.

The index workers reach PostgreSQL through a TCP proxy of the test's own. Once the first
documents are indexed, the proxy stops: its listening socket is closed and every open
connection cut, so the workers see what they would see of a crashed or partitioned server
(connections reset, new ones refused). After the outage it listens again on the same port.
Index tasks retry with capped backoff meanwhile, and each worker process drops its broken
pool, so the stage must pick up within seconds of the database's return. The index is counted
in PostgreSQL itself: 200 unique documents, each stored once, each receipt ``indexed``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from services.index.postgres import parse_index_url
from tests.integration.chaos import (
    CHAOS_ENV,
    DOCUMENTS,
    assert_nothing_lost,
    intake_for,
    redriven,
    start_reconciler,
    stop,
    submit_all,
    unique_documents,
    verdict,
    wait_terminal,
    wait_until,
)
from tests.integration.conftest import Pipeline, start_pipeline, stop_pipeline
from tests.integration.proxy import TcpProxy

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

# The promise: once the database answers again, the index stage is storing documents within
# this many seconds (the retry countdown is capped at NEWSFLOW_RETRY_BACKOFF_MAX, 8 s).
RESUME_WITHIN_SECONDS = 10.0
# Indexed before the outage: enough that the stage is running, few enough that most wait.
INDEXED_BEFORE_OUTAGE = 10
# The reconciler runs, as in production, with a deadline longer than a live index worker holds
# a message unseen by the ledger during an outage (a task's start and each retry restart the
# receipt's clock; in between come a retry's countdown, up to 8 s, and the wait for a child
# busy with another attempt, up to 10 s for a pooled connection), so that it does not take a
# retrying document for a lost one. The kill tests' 4 s is shorter than one such attempt.
OUTAGE_ENV = {**CHAOS_ENV, "NEWSFLOW_RECONCILE_AFTER_SECONDS": "30"}


def proxied(url: str, port: int) -> str:
    """``url`` with its host and port replaced by the proxy's (user, database, query kept)."""
    parts = urlsplit(url)
    user, at, _ = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user}{at}127.0.0.1:{port}"))


def stored_ids(url: str) -> list[str]:
    """Every id in the schema's documents table, read in PostgreSQL itself (not through the
    proxy): what the index holds, whatever the receipts say."""
    conninfo, schema = parse_index_url(url)
    assert schema is not None
    with psycopg.connect(conninfo) as conn:
        query = sql.SQL("SELECT id FROM {}.documents").format(sql.Identifier(schema))
        return [row[0] for row in conn.execute(query)]


@pytest.fixture
def proxy(fresh_postgres_url: str) -> Iterator[TcpProxy]:
    upstream = urlsplit(parse_index_url(fresh_postgres_url)[0])
    running = TcpProxy(upstream.hostname or "127.0.0.1", upstream.port or 5432)
    running.start()
    yield running
    running.stop()


def _indexed_count(url: str) -> int:
    try:
        return len(stored_ids(url))
    except psycopg.Error:
        return 0


@dataclass(frozen=True)
class Outage:
    seconds: float
    documents: int


@pytest.mark.parametrize(
    "outage",
    [
        Outage(30.0, DOCUMENTS),
        # Twice as long: retries go on (NEWSFLOW_RETRY_FOR_SECONDS is 30 minutes) and nothing
        # is dead-lettered. Fewer documents keep it cheap; the outage is what is tested.
        Outage(60.0, 40),
    ],
    ids=["30s", "60s"],
)
def test_index_database_unreachable_then_back_loses_nothing_and_resumes_fast(
    outage: Outage, proxy: TcpProxy, fresh_postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    documents = outage.documents
    files = unique_documents(tmp_path / "docs", count=documents)
    index_url = proxied(fresh_postgres_url, proxy.port)
    pipeline: Pipeline = start_pipeline(
        redis_url, tmp_path / "run", {**OUTAGE_ENV, "NEWSFLOW_INDEX_URL": index_url}
    )
    reconciler = start_reconciler(pipeline)
    intake = intake_for(pipeline)
    try:
        receipts = submit_all(intake, files)
        wait_until(
            lambda: _indexed_count(fresh_postgres_url) >= INDEXED_BEFORE_OUTAGE,
            "the first documents to be indexed",
            timeout=120,
        )
        proxy.stop()
        down_at = time.time()
        indexed_before = _indexed_count(fresh_postgres_url)
        time.sleep(outage.seconds)  # the outage itself: its length is what is being tested
        retries_during = pipeline.log_text("index").count('"transient error, retrying"')
        proxy.start()
        back_at = time.time()
        statuses = wait_terminal(intake.client, receipts, timeout=240)
        alive = pipeline.all_alive()
    finally:
        stop(reconciler)
        stop_pipeline(pipeline)
    ids = stored_ids(fresh_postgres_url)
    result = verdict(statuses, ids)
    resumed = sorted(
        s.updated_at.timestamp() - back_at
        for s in statuses.values()
        if s is not None and s.state == "indexed" and s.updated_at.timestamp() >= back_at
    )
    retries = pipeline.log_text("index").count('"transient error, retrying"')
    # The figures for the closing note (pytest -s shows them).
    print(
        f"PostgreSQL down {outage.seconds:.0f} s ({back_at - down_at:.1f} s measured): {result}; "
        f"indexed before the outage {indexed_before}, retries {retries} "
        f"({retries_during} during the outage), first document indexed "
        f"{resumed[0] if resumed else float('nan'):.2f} s after the database's return, "
        f"last {resumed[-1] if resumed else float('nan'):.2f} s; "
        f"re-driven by the reconciler: {redriven(pipeline)}"
    )
    assert indexed_before < documents, "the outage came after the run: nothing was tested"
    assert_nothing_lost(result, documents)
    assert len(ids) == len(set(ids)) == documents
    assert retries_during > 0, "no index task met the outage"
    # Redis was up throughout: no message was lost, so a re-drive would mean the reconciler
    # took a document that was still being retried for a lost one.
    assert redriven(pipeline) == 0
    assert resumed, "nothing was indexed after the database came back"
    assert resumed[0] < RESUME_WITHIN_SECONDS, f"resumed {resumed[0]:.1f} s after the return"
    assert alive, "a worker did not survive the database outage"
