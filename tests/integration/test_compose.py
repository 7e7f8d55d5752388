"""docker-compose.yml: validated by a real compose implementation, and its newsflow services'
commands run as local processes (no Docker engine runs here) with compose's environment."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT
from tests.integration.conftest import NEWSFLOW, Pipeline, stop_pipeline
from tests.support import free_port

pytestmark = pytest.mark.integration

NEWSFLOW_SERVICES = ("ingest", "enrich", "index", "watch", "api", "reconcile")
# Variables without a safe default, which compose must refuse to start without.
REQUIRED = {
    "GRAFANA_ADMIN_PASSWORD": "x",
    "POSTGRES_PASSWORD": "y",
    "NEWSFLOW_API_TOKEN": "z",
    "FLOWER_BASIC_AUTH": "admin:w",
}


def _compose_command() -> list[str]:
    if (
        shutil.which("docker")
        and subprocess.run(
            ["docker", "compose", "version"], capture_output=True, check=False
        ).returncode
        == 0
    ):
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if os.environ.get("CI") == "true":
        pytest.fail("CI must validate docker-compose.yml: install Debian's docker-compose")
    pytest.skip("no compose implementation installed (apt-get install docker-compose)")


def _compose_env(**extra: str) -> dict[str, str]:
    """This machine's environment without NEWSFLOW_* (so the file's defaults are what we test)."""
    prefixes = ("NEWSFLOW_", "GRAFANA_", "POSTGRES_")
    base = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return {**base, **extra}


@pytest.fixture(scope="module")
def compose_config() -> dict[str, Any]:
    """The file as compose itself resolves it (anchors merged, variables substituted)."""
    result = subprocess.run(
        [*_compose_command(), "-f", str(ROOT / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env=_compose_env(**REQUIRED),
    )
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def test_compose_file_is_valid_and_complete(compose_config: dict[str, Any]) -> None:
    """Operators start the stack with compose: it must parse and wire every service to Redis
    and PostgreSQL, started only once those are healthy."""
    services = compose_config["services"]
    assert {"redis", "postgres", "prometheus", "grafana", *NEWSFLOW_SERVICES} <= services.keys()
    assert "healthcheck" in services["redis"]
    assert "healthcheck" in services["postgres"]
    for stage in ("ingest", "enrich", "index"):
        assert services[stage]["command"][:3] == ["newsflow", "worker", stage]
        assert "replicas" in services[stage]["deploy"]
    assert services["watch"]["command"][:2] == ["newsflow", "watch"]
    assert services["api"]["command"][:2] == ["newsflow", "serve"]
    assert services["flower"]["command"][:2] == ["celery", "--broker=redis://redis:6379/0"]
    assert services["flower"]["environment"]["FLOWER_BASIC_AUTH"] == "admin:w"
    assert services["api"]["environment"]["NEWSFLOW_API_TOKEN"] == REQUIRED["NEWSFLOW_API_TOKEN"]
    assert "NEWSFLOW_API_ALLOW_ANONYMOUS" not in services["api"]["environment"]
    assert services["watch"]["environment"]["NEWSFLOW_DROP_DIRS"] == "/drop"
    for name in NEWSFLOW_SERVICES:
        service = services[name]
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["environment"]["NEWSFLOW_REDIS_URL"].startswith("redis://redis:")
        assert service["environment"]["NEWSFLOW_INDEX_URL"].startswith("postgresql://")


# The image each service needs: what its command imports (tests/unit/test_lock.py proves each
# stage's lock file is enough for its entry points, and that only enrich's loads the models).
STAGE_OF_COMMAND = {
    ("newsflow", "worker", "ingest"): "ingest",
    ("newsflow", "worker", "enrich"): "enrich",
    ("newsflow", "worker", "index"): "index",
    ("newsflow", "watch"): "ingest",
    ("newsflow", "reconcile"): "ingest",
    ("newsflow", "serve"): "api",
}


def test_each_service_builds_the_image_of_its_stage(compose_config: dict[str, Any]) -> None:
    """A worker's image holds only its stage's dependencies: the build argument must match
    the command, or the service would start without a package it imports."""
    for name in NEWSFLOW_SERVICES:
        service = compose_config["services"][name]
        command = tuple(service["command"])
        stage = next(
            s for prefix, s in STAGE_OF_COMMAND.items() if command[: len(prefix)] == prefix
        )
        assert service["build"]["args"]["NEWSFLOW_STAGE"] == stage, name
        assert service["image"] == f"newsflow-{stage}:latest", name
        assert (ROOT / "requirements" / f"{stage}.txt").is_file()


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_compose_refuses_to_start_without_a_password(missing: str) -> None:
    """A secret with no safe default must be set by the operator, not defaulted silently: the
    API token included, since the API is published on every interface."""
    given = dict(REQUIRED)
    del given[missing]
    result = subprocess.run(
        [*_compose_command(), "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env=_compose_env(**given),
    )
    assert result.returncode != 0
    assert missing in result.stderr


def test_compose_mounts_the_monitoring_config(compose_config: dict[str, Any]) -> None:
    """Prometheus gets the rules and Grafana the dashboard from deploy/, as the tests check them."""
    services = compose_config["services"]
    prometheus_volumes = " ".join(str(v) for v in services["prometheus"]["volumes"])
    assert "deploy" in prometheus_volumes
    assert "/etc/prometheus" in prometheus_volumes
    grafana_volumes = " ".join(str(v) for v in services["grafana"]["volumes"])
    assert "/etc/grafana/provisioning" in grafana_volumes
    assert services["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"
    assert services["redis"]["command"][:3] == ["redis-server", "--appendonly", "yes"]


def _local_env(
    service: dict[str, Any], redis_url: str, postgres_url: str, drop: Path
) -> dict[str, str]:
    """Compose's environment for a service, with this machine standing in for the stack:
    localhost's Redis (a test database) for ``redis``, the local PostgreSQL (a fresh schema; its
    credentials differ from the stack's) for ``postgres``, a temp folder for the /drop volume."""
    env = {**_compose_env(), **{k: str(v) for k, v in service["environment"].items()}}
    assert env["NEWSFLOW_REDIS_URL"].startswith("redis://redis:")
    assert env["NEWSFLOW_INDEX_URL"].split("@", 1)[1].startswith("postgres:5432/")
    env["NEWSFLOW_REDIS_URL"] = redis_url
    env["NEWSFLOW_INDEX_URL"] = postgres_url
    env["NEWSFLOW_DROP_DIR"] = str(drop)
    if env.get("NEWSFLOW_DROP_DIRS") == "/drop":
        env["NEWSFLOW_DROP_DIRS"] = str(drop)  # the volume's folder, as in the command
    return env


def _local_command(service: dict[str, Any], drop: Path, ports: dict[int, int]) -> list[str]:
    """The service's exact command, with the /drop volume at ``drop`` and each port it listens
    on mapped to a free one on this machine (as Docker maps a container's ports), recorded in
    ``ports``, so that two test runs never contend for 8000 or 9101."""
    command = [str(part) for part in service["command"]]
    assert command[0] == "newsflow"
    local = [NEWSFLOW]
    for previous, part in itertools.pairwise(command):
        if previous in ("--port", "--metrics-port"):
            ports.setdefault(int(part), free_port())
            local.append(str(ports[int(part)]))
        else:
            local.append(str(drop) if part == "/drop" else part)
    return local


def _get(url: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310  # our own localhost
    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310  # our own localhost
        body = reply.read()
    return json.loads(body) if body.startswith((b"{", b"[")) else body


def test_compose_commands_run_the_whole_system(
    compose_config: dict[str, Any],
    redis_url: str,
    fresh_postgres_url: str,
    tmp_path: Path,
    seed_files: list[Path],
) -> None:
    """Every newsflow service of the compose file, started with its exact command: seeds
    dropped into the watched folder come out indexed in PostgreSQL and searchable over HTTP."""
    import redis as redis_lib

    local_redis = redis_url
    redis_lib.Redis.from_url(local_redis).flushdb()
    drop = tmp_path / "drop"
    drop.mkdir()
    services = compose_config["services"]
    ports: dict[int, int] = {}
    pipeline = Pipeline(
        env={},
        index_path=tmp_path / "unused.db",
        workdir=tmp_path,
        logs={name: tmp_path / f"{name}.log" for name in NEWSFLOW_SERVICES},
    )
    try:
        for name in NEWSFLOW_SERVICES:
            env = _local_env(services[name], local_redis, fresh_postgres_url, drop)
            pipeline.env = env
            pipeline.launch(name, _local_command(services[name], drop, ports), env)
        for stage in ("ingest", "enrich", "index"):
            _wait_ready_stage(pipeline, stage)
        api = f"http://127.0.0.1:{ports[int(services['api']['ports'][0]['target'])]}"
        _wait_for(lambda: _get(api + "/readyz")["ready"] is True, "the API to be ready")

        for seed in seed_files:
            shutil.copy(seed, drop / seed.name)
        done = drop / "done"
        _wait_for(lambda: done.is_dir() and len(list(done.glob("*.txt"))) == 5, "5 files in done/")
        failed = drop / "failed"
        assert not failed.exists() or not list(failed.iterdir())

        token = services["api"]["environment"]["NEWSFLOW_API_TOKEN"]
        with pytest.raises(urllib.error.HTTPError) as anonymous:
            _get(api + "/v1/search?q=x")
        assert anonymous.value.code == 401
        found = _get(api + "/v1/search?q=" + urllib.parse.quote("технопарков"), token)
        assert found["total"] >= 2
        belarus = _get(api + "/v1/search?entity=BY&limit=10", token)
        assert belarus["total"] == 5
        for port in (9101, 9102, 9103):
            metrics = _get(f"http://127.0.0.1:{ports[port]}/metrics")
            assert b"newsflow_documents_processed_total" in metrics
        assert b"newsflow_http_requests_total" in _get(api + "/metrics")
        assert pipeline.all_alive()
    finally:
        stop_pipeline(pipeline)


def _wait_ready_stage(pipeline: Pipeline, stage: str) -> None:
    _wait_for(lambda: " ready." in pipeline.log_text(stage), f"the {stage} worker")


def _wait_for(check: Any, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")
