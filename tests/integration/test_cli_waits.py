"""Commands against a real Redis: a wait that times out says why when it can (nobody consumes
the queue its files are in), and `dlq purge` deletes only what it is told, only with --yes."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from shared.deadletters import DeadLetterStore
from shared.messages import DeadLetter
from tests.integration.conftest import NEWSFLOW

pytestmark = pytest.mark.integration


def test_a_timed_out_wait_names_the_stage_no_worker_consumes(
    redis_url: str, seed_files: list[Path], tmp_path: Path
) -> None:
    redis.Redis.from_url(redis_url).flushdb()  # no workers run on this database
    result = subprocess.run(
        [NEWSFLOW, "submit", "--wait", "--timeout", "2", str(seed_files[0])],
        env={"PATH": "/usr/bin:/bin", "NEWSFLOW_REDIS_URL": redis_url, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 4, result.stderr
    assert "no ingest worker is consuming `ingest`" in result.stderr


def _newsflow(redis_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NEWSFLOW, *args],
        env={"PATH": "/usr/bin:/bin", "NEWSFLOW_REDIS_URL": redis_url, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_dlq_purge_deletes_only_what_it_is_told_and_only_with_yes(
    redis_url: str, tmp_path: Path
) -> None:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    store = DeadLetterStore(client, ttl_seconds=3600, max_bytes=10**7)
    now = datetime.now(UTC)
    for receipt, reason, age in (("a", "binary", 0), ("b", "binary", 10), ("c", "empty", 10)):
        store.add(
            DeadLetter(
                stage="ingest",
                receipt=receipt,
                reason=reason,
                error="e",
                failed_at=now - timedelta(days=age),
                task_name="ingest.receive",
                payload={"receipt": receipt},
            )
        )
    dry = _newsflow(redis_url, tmp_path, "dlq", "purge", "--reason", "binary")
    assert dry.returncode == 2
    assert "2 dead letter(s) would be deleted" in dry.stderr
    assert store.count() == 3
    done = _newsflow(
        redis_url, tmp_path, "dlq", "purge", "--reason", "binary", "--older-than", "7d", "--yes"
    )
    assert done.returncode == 0, done.stderr
    assert sorted(letter.receipt for letter in store.list()) == ["a", "c"]
