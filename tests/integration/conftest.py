"""Real worker processes for integration tests: three ``newsflow worker`` commands over real Redis.

Nothing here is mocked or eager: the workers are separate prefork Celery processes started the
way an operator starts them, talking to the Redis server on this machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from shared.celery_app import make_celery, stage_queues
from shared.redis_client import connect as connect_redis
from shared.settings import Settings
from shared.stages import STAGES

NEWSFLOW = str(Path(sys.executable).with_name("newsflow"))
# The brokers the pipeline tests run on: Redis (the default) and RabbitMQ with quorum queues.
BROKERS = ("redis", "rabbitmq")
READY_TIMEOUT = 60.0


@dataclass
class Pipeline:
    env: dict[str, str]
    index_path: Path
    workdir: Path
    logs: dict[str, Path]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    commands: dict[str, tuple[list[str], dict[str, str]]] = field(default_factory=dict)

    def newsflow(
        self, *args: str, timeout: float = 180.0, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run the real ``newsflow`` command with this pipeline's environment (plus ``env``)."""
        return subprocess.run(
            [NEWSFLOW, *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.workdir,
            check=False,
        )

    def submit_and_wait(self, *paths: Path, timeout: float = 120.0) -> list[dict[str, Any]]:
        result = self.newsflow(
            "submit",
            "--wait",
            "--json",
            "--timeout",
            str(timeout),
            *map(str, paths),
            timeout=timeout + 60,
        )
        assert result.returncode in (0, 1), result.stderr
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]

    def launch(self, stage: str, command: list[str], env: dict[str, str]) -> None:
        """Start one worker process, its output in the stage's log file."""
        self.commands[stage] = (command, env)
        with self.logs[stage].open("ab") as log:
            self.processes[stage] = subprocess.Popen(
                command,
                env=env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def restart(self, stage: str) -> None:
        """Start a stage again with the command it was first started with (after a kill), once
        every process of its old group is gone."""
        old = self.processes[stage]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(old.pid, signal.SIGKILL)
        old.wait()
        command, env = self.commands[stage]
        ready_lines = self.log_text(stage).count(" ready.")
        self.launch(stage, command, env)
        deadline = time.monotonic() + READY_TIMEOUT
        while self.log_text(stage).count(" ready.") <= ready_lines:
            if time.monotonic() > deadline or self.processes[stage].poll() is not None:
                pytest.fail(f"{stage} did not restart:\n{self.log_text(stage)[-3000:]}")
            time.sleep(0.2)

    def children(self, stage: str) -> list[int]:
        """The prefork children of a stage's worker (the main process's child processes)."""
        main = self.processes[stage].pid
        found: list[int] = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == main:
                    found.append(int(stat.parent.name))
        return sorted(found)

    def wait_ready(self) -> None:
        for stage in self.processes:
            _wait_ready(self, stage)

    def all_alive(self) -> bool:
        return all(process.poll() is None for process in self.processes.values())

    def log_text(self, stage: str) -> str:
        return self.logs[stage].read_text(encoding="utf-8", errors="replace")


def _wait_ready(pipeline: Pipeline, stage: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if pipeline.processes[stage].poll() is not None:
            pytest.fail(f"{stage} worker exited at start:\n{pipeline.log_text(stage)[-3000:]}")
        if " ready." in pipeline.log_text(stage):
            return
        time.sleep(0.2)
    pytest.fail(
        f"{stage} worker not ready after {READY_TIMEOUT}s:\n{pipeline.log_text(stage)[-3000:]}"
    )


def start_pipeline(
    redis_url: str,
    workdir: Path,
    extra_env: dict[str, str] | None = None,
    metrics_ports: dict[str, int] | None = None,
    broker_url: str | None = None,
) -> Pipeline:
    """Three workers on a fresh Redis database (the broker too, unless ``broker_url`` names
    another: RabbitMQ, whose stage queues are emptied first)."""
    flushing = connect_redis(redis_url)  # a redis:// or a sentinel:// URL
    flushing.flushdb()
    flushing.close()
    if broker_url:
        empty_queues(broker_url)
        extra_env = {**(extra_env or {}), "NEWSFLOW_BROKER_URL": broker_url}
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "NEWSFLOW_REDIS_URL": redis_url,
        "NEWSFLOW_INDEX_URL": str(workdir / "index.db"),
        "NEWSFLOW_LOG_FORMAT": "json",
        "NEWSFLOW_LOG_LEVEL": "INFO",
        **(extra_env or {}),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    pipeline = Pipeline(
        env=env,
        index_path=workdir / "index.db",
        workdir=workdir,
        logs={stage: workdir / f"{stage}.log" for stage in STAGES},
    )
    for stage in STAGES:
        command = [NEWSFLOW, "worker", stage, "--concurrency", "2"]
        if metrics_ports:
            command += ["--metrics-port", str(metrics_ports[stage])]
        pipeline.launch(stage, command, env)
    pipeline.wait_ready()
    return pipeline


def empty_queues(broker_url: str) -> None:
    """Declare the stage queues as the workers do, and purge what an earlier suite left."""
    settings = Settings(_env_file=None, broker_url=broker_url)
    with make_celery(settings).connection_for_write() as connection:
        for queue in stage_queues(settings):
            bound = queue(connection.default_channel)
            bound.declare()
            bound.purge()


def stop_pipeline(pipeline: Pipeline) -> None:
    for process in pipeline.processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in pipeline.processes.values():
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def pipeline(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """Three worker processes (concurrency 2 each) on a fresh Redis database and index.

    Small limits make the bad-input cases cheap: files over 64 KiB are too large, and files over
    4 KiB travel by claim-check, so the seeds exercise both ways raw bytes travel.
    """
    yield from _small_limits_pipeline(redis_url, tmp_path_factory, broker_url=None)


@pytest.fixture(scope="module", params=BROKERS)
def pipeline_on_each_broker(
    request: pytest.FixtureRequest, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    """The same, with Redis as the broker and again with RabbitMQ (quorum queues)."""
    yield from _small_limits_pipeline(redis_url, tmp_path_factory, broker_for(request))


def _small_limits_pipeline(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory, broker_url: str | None
) -> Iterator[Pipeline]:
    running = start_pipeline(
        redis_url,
        tmp_path_factory.mktemp("pipeline"),
        {"NEWSFLOW_MAX_FILE_BYTES": "65536", "NEWSFLOW_INLINE_MAX_BYTES": "4096"},
        broker_url=broker_url,
    )
    yield running
    stop_pipeline(running)


def broker_for(request: pytest.FixtureRequest) -> str | None:
    """The broker a test parametrized over ``BROKERS`` runs on: None for the Redis of the test
    database, or this run's RabbitMQ virtual host."""
    return request.getfixturevalue("amqp_url") if request.param == "rabbitmq" else None
