"""`newsflow health STAGE`, the workers' container healthcheck, against a real worker process:
healthy only while the worker itself answers over the broker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.conftest import NEWSFLOW, Pipeline, stop_pipeline

pytestmark = pytest.mark.integration


def _health(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NEWSFLOW, "health", *args, "--timeout", "2"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_health_is_ok_only_while_this_hosts_worker_of_the_stage_answers(
    redis_url: str, tmp_path: Path
) -> None:
    """A healthcheck that only asked whether the process exists would call a frozen worker
    healthy: this one asks the worker, by its node name on this host."""
    env = {
        **os.environ,
        "NEWSFLOW_REDIS_URL": redis_url,
        "NEWSFLOW_INDEX_URL": str(tmp_path / "index.db"),
        "NEWSFLOW_LOG_FORMAT": "json",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    pipeline = Pipeline(env, tmp_path / "index.db", tmp_path, {"ingest": tmp_path / "ingest.log"})
    pipeline.launch("ingest", [NEWSFLOW, "worker", "ingest", "--concurrency", "1"], env)
    worker = pipeline.processes["ingest"]
    try:
        deadline = time.monotonic() + 60
        while " ready." not in pipeline.log_text("ingest") and time.monotonic() < deadline:
            time.sleep(0.2)
        # `newsflow worker` execs Celery, so the node is named after this very process.
        ok = _health(env, "ingest")
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout == f"ingest-{worker.pid}@{socket.gethostname()}: ok\n"

        nobody = _health(env, "enrich")
        assert nobody.returncode == 1
        assert nobody.stderr == (
            f"newsflow health: no enrich worker enrich-*@{socket.gethostname()} answered in 2 s\n"
        )
        assert _health(env, "ingest", "--node", "ingest-1@elsewhere").returncode == 1

        os.killpg(worker.pid, signal.SIGSTOP)  # alive, but answering nothing
        try:
            assert _health(env, "ingest").returncode == 1
        finally:
            os.killpg(worker.pid, signal.SIGCONT)
        assert _health(env, "ingest").returncode == 0
    finally:
        stop_pipeline(pipeline)
