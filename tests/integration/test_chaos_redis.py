"""Redis killed with -9 mid-run and started again: workers and ``submit --wait`` ride it out.

The test runs a Redis server of its own on a free port, with the append-only file on and
``appendfsync everysec`` (as the compose stack runs it), so a kill -9 loses at most the last
second of writes: a message popped but not yet recorded, a receipt just written. The workers
reconnect, the reconciler drives again the receipts that stopped moving, and ``submit --wait``
submits again a receipt Redis lost entirely. 200 unique documents: every one indexed once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.integration.chaos import (
    CHAOS_ENV,
    DOCUMENTS,
    assert_nothing_lost,
    redriven,
    sqlite_ids,
    start_reconciler,
    stop,
    unique_documents,
    verdict,
    wait_terminal,
    wait_until,
)
from tests.integration.conftest import NEWSFLOW, start_pipeline, stop_pipeline
from tests.support import free_port

pytestmark = [pytest.mark.integration, pytest.mark.chaos]


class OwnRedis:
    """A redis-server of this test's own, with its data on disk (AOF, fsync every second)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "yes",
                "--appendfsync", "everysec",
                "--dir", str(self.folder),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_until(answers, "the test's Redis to answer", timeout=30)

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    try:
        server = OwnRedis(tmp_path / "redis")
        server.start()
    except FileNotFoundError:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is required in CI for the Redis restart test")
        pytest.skip("no redis-server binary")
    yield server
    if server.process and server.process.poll() is None:
        server.process.terminate()
        server.process.wait()


def test_redis_kill_9_and_restart_mid_run_loses_nothing(
    own_redis: OwnRedis, tmp_path: Path
) -> None:
    files = unique_documents(tmp_path / "docs")
    pipeline = start_pipeline(own_redis.url, tmp_path / "run", CHAOS_ENV)
    reconciler = start_reconciler(pipeline)
    client = redis.Redis.from_url(own_redis.url)
    try:
        submit = subprocess.Popen(
            [NEWSFLOW, "submit", "--wait", "--json", "--timeout", "240", *map(str, files)],
            env=pipeline.env,
            cwd=pipeline.workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

        def some_indexed() -> bool:
            try:
                return any(
                    b'"indexed"' in (raw or b"")
                    for raw in client.mget(client.keys("newsflow:receipt:*")[:400] or ["x"])
                )
            except redis.RedisError:
                return False

        wait_until(some_indexed, "the first documents to be indexed", timeout=120)
        own_redis.kill()
        time.sleep(2.0)
        own_redis.start()
        out, err = submit.communicate(timeout=300)
        receipts = [json.loads(line)["receipt"] for line in out.splitlines() if line.strip()]
        statuses = wait_terminal(client, receipts, timeout=120)
        alive = pipeline.all_alive()
    finally:
        stop(reconciler)
        stop_pipeline(pipeline)
    result = verdict(statuses, sqlite_ids(pipeline.index_path))
    print(f"Redis kill -9: {result}, re-driven by the reconciler: {redriven(pipeline)}")
    assert submit.returncode == 0, err[-3000:]
    assert len(receipts) == DOCUMENTS
    assert_nothing_lost(result)
    assert alive, "a worker did not survive the Redis restart"
