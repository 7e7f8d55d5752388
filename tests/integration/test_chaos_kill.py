"""kill -9 of a worker's prefork child, then of its main process, mid-run: nothing is lost.

A killed child's message goes back to the queue (late acks, reject on worker lost) and runs
again. A killed main process takes with it the messages it had popped but not acknowledged;
Redis would hand them out again only after the visibility timeout, so the reconciler drives
those receipts again from the ledger. Each run: 200 unique documents, the index counted
directly, every receipt terminal, none lost, none stored twice.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.receipts import read_status
from shared.stages import STAGES
from tests.integration.chaos import (
    CHAOS_ENV,
    assert_nothing_lost,
    intake_for,
    redriven,
    sqlite_ids,
    start_reconciler,
    stop,
    submit_all,
    unique_documents,
    verdict,
    wait_terminal,
    wait_until,
)
from tests.integration.conftest import (
    BROKERS,
    Pipeline,
    broker_for,
    start_pipeline,
    stop_pipeline,
)

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

# The state a receipt reaches when a stage has finished with it.
DONE_BY = {"ingest": "parsed", "enrich": "enriched", "index": "indexed"}
RANK = {"queued": 0, "parsed": 1, "enriched": 2, "indexed": 3}


@pytest.fixture(params=BROKERS)
def chaos_pipeline(
    request: pytest.FixtureRequest, redis_url: str, tmp_path: Path
) -> Iterator[Pipeline]:
    running = start_pipeline(redis_url, tmp_path / "run", CHAOS_ENV, broker_url=broker_for(request))
    reconciler = start_reconciler(running)
    yield running
    stop(reconciler)
    stop_pipeline(running)


def kill_mid_run(pipeline: Pipeline, stage: str, files: list[Path]) -> list[str]:
    """Submit in four waves: kill -9 a child of ``stage`` once it has started on the first,
    its main process during the second, restart it during the third."""
    intake = intake_for(pipeline)
    waves = [files[i : i + len(files) // 4] for i in range(0, len(files), len(files) // 4)]
    receipts = submit_all(intake, waves[0])

    def started() -> bool:
        done = [read_status(intake.client, receipt) for receipt in receipts]
        return any(s is not None and RANK.get(s.state, 3) >= RANK[DONE_BY[stage]] for s in done)

    wait_until(started, f"{stage} to start on the documents")
    children = pipeline.children(stage)
    assert children, f"{stage} has no prefork children"
    os.kill(children[0], signal.SIGKILL)
    receipts += submit_all(intake, waves[1])
    time.sleep(0.5)
    os.kill(pipeline.processes[stage].pid, signal.SIGKILL)
    receipts += submit_all(intake, waves[2])
    time.sleep(1.0)
    pipeline.restart(stage)
    receipts += submit_all(intake, waves[3])
    return receipts


@pytest.mark.parametrize("stage", STAGES)
def test_kill_9_of_child_and_main_process_loses_nothing(
    stage: str, chaos_pipeline: Pipeline, tmp_path: Path
) -> None:
    files = unique_documents(tmp_path / "docs")
    receipts = kill_mid_run(chaos_pipeline, stage, files)
    statuses = wait_terminal(intake_for(chaos_pipeline).client, receipts, timeout=180)
    result = verdict(statuses, sqlite_ids(chaos_pipeline.index_path))
    # The figures for the closing note (pytest -s shows them).
    broker = "rabbitmq" if "NEWSFLOW_BROKER_URL" in chaos_pipeline.env else "redis"
    print(
        f"kill -9 {stage} on {broker}: {result}, "
        f"re-driven by the reconciler: {redriven(chaos_pipeline)}"
    )
    assert_nothing_lost(result)
    assert chaos_pipeline.all_alive()
