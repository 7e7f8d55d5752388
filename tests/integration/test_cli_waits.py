"""A wait that times out says why when it can: nobody consumes the queue its files are in."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import redis

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
