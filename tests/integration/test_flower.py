"""Celery's own monitoring works against newsflow's workers: task events are on by default, so
Flower (run as the compose stack runs it, here as a process) lists the three workers and counts
the seeds' tasks. Also: `newsflow worker` passes options it does not know to Celery, and names
each worker uniquely."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from celery import Celery

from tests.integration.conftest import NEWSFLOW, start_pipeline, stop_pipeline
from tests.support import free_port

pytestmark = pytest.mark.integration

CELERY = str(Path(sys.executable).with_name("celery"))


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as reply:  # noqa: S310  # our own localhost
        return json.loads(reply.read())


def _wait_for(produce: Any, what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = produce()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


def test_flower_lists_the_three_workers_and_counts_the_seeds_tasks(
    redis_url: str, tmp_path: Path, seed_files: list[Path]
) -> None:
    pipeline = start_pipeline(redis_url, tmp_path / "run")
    port = free_port()
    log = (tmp_path / "flower.log").open("wb")
    flower = subprocess.Popen(
        [CELERY, f"--broker={redis_url}", "flower", f"--port={port}", "--address=127.0.0.1"],
        env={**os.environ, "FLOWER_UNAUTHENTICATED_API": "true"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        workers = _wait_for(
            lambda: (found := _get(f"{base}/api/workers?refresh=1")) and len(found) >= 3 and found,
            "Flower to see the three workers",
        )
        outcomes = pipeline.submit_and_wait(*seed_files)
        assert [o["state"] for o in outcomes] == ["indexed"] * 5

        def seeds_counted() -> Counter[str] | None:
            tasks = _get(f"{base}/api/tasks")
            done = Counter(t["name"] for t in tasks.values() if t.get("state") == "SUCCESS")
            return done if all(done[name] >= 5 for name in TASKS) else None

        counted = _wait_for(seeds_counted, "Flower to count the seeds' tasks")
    finally:
        flower.terminate()
        flower.wait(timeout=30)
        stop_pipeline(pipeline)
    names = sorted(workers)
    assert {name.split("@")[0].rsplit("-", 1)[0] for name in names} == {"ingest", "enrich", "index"}
    assert len(set(names)) == 3
    assert all(counted[name] >= 5 for name in TASKS), counted


TASKS = ("ingest.receive", "enrich.document", "index.document")


def test_unknown_worker_options_reach_celery_and_names_are_unique(
    redis_url: str, tmp_path: Path
) -> None:
    """Two ingest workers on one host get two node names; a -n of the operator's own wins."""
    pipeline = start_pipeline(redis_url, tmp_path / "run")
    try:
        extra = [
            NEWSFLOW, "worker", "ingest", "--concurrency", "1",
            "--max-tasks-per-child", "50", "-n", "second-ingest@%h",
        ]  # fmt: skip
        pipeline.logs["second"] = tmp_path / "second.log"
        pipeline.launch("second", extra, pipeline.env)
        _wait_for(lambda: " ready." in pipeline.log_text("second"), "the second worker")
        control = Celery(broker=redis_url).control
        node = f"second-ingest@{socket.gethostname()}"
        stats = _wait_for(
            lambda: (control.inspect(destination=[node], timeout=2).stats() or {}).get(node),
            "the second worker's stats",
        )
        first = pipeline.log_text("ingest")
    finally:
        stop_pipeline(pipeline)
    assert stats["pool"]["max-tasks-per-child"] == 50  # an option newsflow does not know
    assert stats["pool"]["max-concurrency"] == 1
    assert "ingest-" in first.split(" ready.")[0]  # the default name: stage-PID@host
