"""Transient failures: retried with backoff, dead-lettered when retries run out, replayable."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Pipeline, start_pipeline, stop_pipeline

pytestmark = pytest.mark.integration


@pytest.fixture
def broken_index_pipeline(redis_url: str, tmp_path: Path) -> Iterator[Pipeline]:
    """Workers whose index path is a folder: SQLite cannot open it, as when a disk is gone."""
    index_dir = tmp_path / "index-is-a-folder"
    index_dir.mkdir()
    running = start_pipeline(
        redis_url,
        tmp_path / "work",
        {
            "NEWSFLOW_INDEX_URL": str(index_dir),
            "NEWSFLOW_TASK_MAX_RETRIES": "2",
            "NEWSFLOW_RETRY_BACKOFF_MAX": "1",
        },
    )
    yield running
    stop_pipeline(running)


def _status(pipeline: Pipeline, receipt: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(pipeline.newsflow("status", receipt).stdout)
    return result


def test_unreachable_index_is_retried_then_dead_lettered_then_replayed(
    broken_index_pipeline: Pipeline, seed_files: list[Path]
) -> None:
    """Nothing is lost while the index is down: retries, a dead letter, replay once it is back."""
    pipeline = broken_index_pipeline
    [outcome] = pipeline.submit_and_wait(seed_files[0])
    assert (outcome["state"], outcome["stage"], outcome["reason"]) == (
        "dead_letter",
        "index",
        "retries_exhausted",
    ), outcome
    index_log = pipeline.log_text("index")
    assert index_log.count('"transient error, retrying"') == 2
    assert pipeline.all_alive()

    Path(pipeline.env["NEWSFLOW_INDEX_URL"]).rmdir()  # the "disk" is back: SQLite can create it
    assert pipeline.newsflow("dlq", "replay", "--all").returncode == 0
    deadline = time.monotonic() + 60
    while _status(pipeline, outcome["receipt"])["state"] != "indexed":
        assert time.monotonic() < deadline, _status(pipeline, outcome["receipt"])
        time.sleep(0.3)
    found = pipeline.newsflow("search", "технопарков", "--json").stdout
    assert outcome["doc_id"] in found
