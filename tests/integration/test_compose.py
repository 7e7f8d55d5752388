"""docker-compose.yml: validated by a real compose implementation, and its newsflow services'
commands run as local processes (no Docker engine runs here) with compose's environment.

Compose is given what an operator gives it: ``.env.example`` copied to a ``.env`` with the
secrets filled in (and, here, a few settings changed to show that they reach the services).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import yaml

from shared.settings import Settings
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
# Settings the operator changes in .env, each seen taking effect in a different service: ingest
# (and the watcher, which submits) refuse larger files, enrich reads less of a document, the
# API takes fewer files per request. The file limit lets the two smallest seeds through.
SEED_SIZES = sorted(path.stat().st_size for path in (ROOT / "seeds").glob("*.txt"))
CHANGED = {
    "NEWSFLOW_MAX_FILE_BYTES": str(SEED_SIZES[1]),
    "NEWSFLOW_ENRICH_MAX_CHARS": "1000",
    "NEWSFLOW_MAX_FILES_PER_REQUEST": "1",
}
# What docker-compose.yml sets itself, whatever .env says: the stack's own addresses.
FIXED = {"NEWSFLOW_REDIS_URL", "NEWSFLOW_INDEX_URL", "NEWSFLOW_LOG_FORMAT"}


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
    """This machine's environment without the stack's variables, so that only the .env file
    given to compose speaks."""
    prefixes = ("NEWSFLOW_", "GRAFANA_", "POSTGRES_", "FLOWER_")
    base = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return {**base, **extra}


def dot_env(folder: Path, values: dict[str, str]) -> Path:
    """``.env.example`` copied to ``folder/.env`` as an operator does, with ``values`` written
    over the lines that name them (or added)."""
    left = dict(values)
    lines = []
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}={left.pop(name)}" if "=" in line and name in left else line)
    lines += [f"{name}={value}" for name, value in left.items()]
    path = folder / ".env"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def compose(env_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``compose --env-file ENV_FILE -f docker-compose.yml ARGS``: the project's own .env, if a
    developer has one, is not read."""
    return subprocess.run(
        [
            *_compose_command(),
            "--env-file",
            str(env_file),
            "-f",
            str(ROOT / "docker-compose.yml"),
            *args,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env=_compose_env(),
    )


@pytest.fixture(scope="module")
def compose_config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The file as compose itself resolves it (anchors merged, variables substituted), from
    .env.example with the secrets filled in and CHANGED changed."""
    env_file = dot_env(tmp_path_factory.mktemp("compose"), {**REQUIRED, **CHANGED})
    result = compose(env_file, "config")
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def test_env_example_with_its_secrets_filled_in_is_a_valid_stack(tmp_path: Path) -> None:
    """The README's first step, `cp .env.example .env` and set the secrets, must be all it
    takes for compose to accept the stack."""
    result = compose(dot_env(tmp_path, REQUIRED), "config", "-q")
    assert result.returncode == 0, result.stderr


def test_every_setting_reaches_every_newsflow_service(compose_config: dict[str, Any]) -> None:
    """A setting in .env reaches each newsflow service (the API token only the API): none is
    silently dropped, and none is given a second default in the compose file."""
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name in NEWSFLOW_SERVICES:
        environment = compose_config["services"][name]["environment"]
        for field in Settings.model_fields:
            variable = f"NEWSFLOW_{field.upper()}"
            if field == "api_token" and name != "api":
                assert variable not in environment, (name, variable)
                continue
            assert variable in environment, (name, variable)
            if variable in FIXED or variable in ("NEWSFLOW_API_TOKEN", "NEWSFLOW_DROP_DIRS"):
                continue
            line = f"\n{variable}="
            if variable in CHANGED:
                assert environment[variable] == CHANGED[variable], (name, variable)
            elif line in example:  # set in .env.example (to its default): passed on as it is
                given = example.split(line, 1)[1].split("\n", 1)[0]
                assert environment[variable] == given, (name, variable)
            else:  # commented out there: left unset, so the process takes its default
                assert environment[variable] is None, (name, variable)


def test_compose_file_is_valid_and_complete(compose_config: dict[str, Any]) -> None:
    """Operators start the stack with compose: it must parse and wire every service to Redis
    and PostgreSQL, started only once those are healthy."""
    services = compose_config["services"]
    monitoring = {"prometheus", "grafana", "alertmanager", "redis-exporter", "postgres-exporter"}
    assert {"redis", "postgres", "flower", *monitoring, *NEWSFLOW_SERVICES} <= services.keys()
    assert "healthcheck" in services["redis"]
    assert "healthcheck" in services["postgres"]
    for stage in ("ingest", "enrich", "index"):
        assert services[stage]["command"][:3] == ["newsflow", "worker", stage]
        assert "replicas" in services[stage]["deploy"]
        # The worker itself must answer (run as a process in the smoke test below).
        assert services[stage]["healthcheck"]["test"] == ["CMD", "newsflow", "health", stage]
    assert "/readyz" in " ".join(services["api"]["healthcheck"]["test"])
    assert services["watch"]["command"][:2] == ["newsflow", "watch"]
    assert services["api"]["command"][:2] == ["newsflow", "serve"]
    assert services["flower"]["command"][:2] == ["celery", "--broker=redis://redis:6379/0"]
    assert services["flower"]["environment"]["FLOWER_BASIC_AUTH"] == "admin:w"
    assert services["api"]["environment"]["NEWSFLOW_API_TOKEN"] == REQUIRED["NEWSFLOW_API_TOKEN"]
    assert services["api"]["environment"]["NEWSFLOW_API_ALLOW_ANONYMOUS"] == "false"
    assert services["watch"]["environment"]["NEWSFLOW_DROP_DIRS"] == "/drop"
    assert services["watch"]["user"] == "1000:1000"  # the image's user, unless .env says
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
def test_compose_refuses_to_start_without_a_password(missing: str, tmp_path: Path) -> None:
    """A secret with no safe default must be set by the operator, not defaulted silently: the
    API token included, since the API is published on every interface. .env.example leaves
    each one empty, which counts as not set."""
    given = dict(REQUIRED)
    del given[missing]
    result = compose(dot_env(tmp_path, given), "config", "-q")
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


def test_prometheus_scrapes_and_alerts_only_services_of_the_stack(
    compose_config: dict[str, Any],
) -> None:
    """Each host Prometheus scrapes or sends alerts to is a compose service, at the port it
    listens on: a newsflow service's --metrics-port or --port, an exporter's own."""
    services = compose_config["services"]
    config = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    targets = [
        (name, int(sd["port"]))
        for job in config["scrape_configs"]
        for sd in job.get("dns_sd_configs", [])
        for name in sd["names"]
    ]
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            targets += [(t.split(":")[0], int(t.split(":")[1])) for t in static["targets"]]
    alerting = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    targets += [(t.split(":")[0], int(t.split(":")[1])) for t in alerting]
    known_ports = {"redis-exporter": 9121, "postgres-exporter": 9187, "alertmanager": 9093}
    scraped = set()
    for host, port in targets:
        if host == "localhost":  # Prometheus itself
            continue
        assert host in services, host
        scraped.add(host)
        command = [str(part) for part in services[host].get("command", [])]
        if command[:1] == ["newsflow"]:
            flag = "--port" if "serve" in command else "--metrics-port"
            assert command[command.index(flag) + 1] == str(port), host
        else:
            assert known_ports[host] == port, host
    assert {"ingest", "enrich", "index", "api", "reconcile", *known_ports} <= scraped


def test_the_exporters_read_redis_and_postgresql_as_compose_configures_them(
    compose_config: dict[str, Any], tmp_path: Path
) -> None:
    """Debian's redis_exporter and postgres_exporter, run with the environment compose gives
    the exporter images (this machine's servers standing in for the stack's), report the
    servers up: the variable names and address forms in docker-compose.yml are the ones the
    exporters read."""
    services = compose_config["services"]
    found = {
        name: shutil.which(f"prometheus-{name}") for name in ("redis-exporter", "postgres-exporter")
    }
    if not all(found.values()):
        if os.environ.get("CI") == "true":
            pytest.fail(
                "CI must run the exporters: apt-get install prometheus-redis-exporter "
                "prometheus-postgres-exporter"
            )
        pytest.skip("the exporters are not installed (Debian prometheus-*-exporter)")
    redis_env = {str(k): str(v) for k, v in services["redis-exporter"]["environment"].items()}
    assert redis_env["REDIS_ADDR"] == "redis://redis:6379"
    redis_env["REDIS_ADDR"] = "redis://127.0.0.1:6379"
    pg_env = {str(k): str(v) for k, v in services["postgres-exporter"]["environment"].items()}
    assert pg_env["DATA_SOURCE_URI"].startswith("postgres:5432/newsflow?")
    assert pg_env["DATA_SOURCE_PASS"] == REQUIRED["POSTGRES_PASSWORD"]
    # This machine's server: trust authentication, database `test`, user postgres.
    pg_env["DATA_SOURCE_URI"] = pg_env["DATA_SOURCE_URI"].replace(
        "postgres:5432/newsflow", "127.0.0.1:5432/test"
    )
    pg_env["DATA_SOURCE_USER"] = "postgres"
    runs = {
        "redis-exporter": ("redis_up 1", "-web.listen-address", redis_env),
        "postgres-exporter": ("pg_up 1", "--web.listen-address", pg_env),
    }
    processes = []
    try:
        for name, (expected, flag, env) in runs.items():
            port = free_port()
            log = (tmp_path / f"{name}.log").open("wb")
            processes.append(
                subprocess.Popen(
                    [str(found[name]), f"{flag}=127.0.0.1:{port}"],
                    env={**_compose_env(), **env},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            url = f"http://127.0.0.1:{port}/metrics"
            _wait_for(
                lambda url=url, expected=expected: expected in _get(url).decode().splitlines(),
                f"{name} to report {expected!r}",
                timeout=30,
            )
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def _local_env(
    service: dict[str, Any], redis_url: str, postgres_url: str, drop: Path
) -> dict[str, str]:
    """Compose's environment for a service, with this machine standing in for the stack:
    localhost's Redis (a test database) for ``redis``, the local PostgreSQL (a fresh schema; its
    credentials differ from the stack's) for ``postgres``, a temp folder for the /drop volume."""
    # A variable compose resolved to null is not set in the container at all.
    given = {k: str(v) for k, v in service["environment"].items() if v is not None}
    env = {**_compose_env(), **given}
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
    """Every newsflow service of the compose file, started with its exact command and the
    environment compose gives it from .env: seeds dropped into the watched folder come out
    indexed in PostgreSQL and searchable over HTTP, and each setting changed in .env shows in
    the service that reads it."""
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
        _healthchecks_pass(
            {
                name: (
                    services[name],
                    _local_env(services[name], local_redis, fresh_postgres_url, drop),
                )
                for name in ("ingest", "enrich", "index", "api")
            },
            api,
        )

        limit = int(CHANGED["NEWSFLOW_MAX_FILE_BYTES"])
        small = sorted(seed.name for seed in seed_files if seed.stat().st_size <= limit)
        large = sorted(seed.name for seed in seed_files if seed.stat().st_size > limit)
        assert small, "no seed is under the limit"
        assert large, "no seed is over the limit"
        for seed in seed_files:
            shutil.copy(seed, drop / seed.name)
        done, failed = drop / "done", drop / "failed"
        _wait_for(
            lambda: (
                sorted(p.name for p in done.glob("*.txt")) == small
                and sorted(p.name for p in failed.glob("*.txt")) == large
            ),
            "the small seeds in done/, the large ones in failed/",
        )
        # NEWSFLOW_MAX_FILE_BYTES from .env reached the watcher and the ingest worker.
        for name in large:
            assert "reason: too_large\n" in (failed / f"{name}.reason").read_text()

        token = services["api"]["environment"]["NEWSFLOW_API_TOKEN"]
        with pytest.raises(urllib.error.HTTPError) as anonymous:
            _get(api + "/v1/search?q=x")
        assert anonymous.value.code == 401
        found = _get(api + "/v1/search?q=" + urllib.parse.quote("технопарков"), token)
        assert found["total"] >= 1
        belarus = _get(api + "/v1/search?entity=BY&limit=10", token)
        assert belarus["total"] == len(small)
        # NEWSFLOW_ENRICH_MAX_CHARS reached the enrich worker: it read at most 1000 characters
        # (cut at a space), where the default would have read each seed whole, with no warning.
        read = re.compile(r"entities and money read from the first (\d+) of \d+ characters")
        for hit in belarus["hits"]:
            warnings = _get(f"{api}/v1/documents/{hit['id']}", token)["warnings"]
            counts = [int(m[1]) for m in map(read.fullmatch, warnings) if m]
            assert counts, warnings
            assert counts[0] <= 1000, warnings
        # NEWSFLOW_MAX_FILES_PER_REQUEST reached the API: two files are one too many.
        two = httpx.post(
            api + "/v1/files",
            files=[("file", ("a.txt", b"one")), ("file", ("b.txt", b"two"))],
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert two.status_code == 422, two.text
        for port in (9101, 9102, 9103):
            metrics = _get(f"http://127.0.0.1:{ports[port]}/metrics")
            assert b"newsflow_documents_processed_total" in metrics
        assert b"newsflow_http_requests_total" in _get(api + "/metrics")
        assert pipeline.all_alive()
    finally:
        stop_pipeline(pipeline)


def _healthchecks_pass(
    services: dict[str, tuple[dict[str, Any], dict[str, str]]], api: str
) -> None:
    """The healthcheck compose runs inside each service's container, run here as a process
    with the service's environment (the API reached at its local port), all at once."""
    checks = {}
    for name, (service, env) in services.items():
        kind, program, *args = (str(part) for part in service["healthcheck"]["test"])
        assert kind == "CMD"
        local = {"newsflow": NEWSFLOW, "python": sys.executable}[program]
        args = [arg.replace("localhost:8000", api.removeprefix("http://")) for arg in args]
        checks[name] = subprocess.Popen(
            [local, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    for name, check in checks.items():
        out, err = check.communicate(timeout=60)
        assert check.returncode == 0, (name, out, err)


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


def test_make_up_names_every_missing_secret_before_compose_runs(tmp_path: Path) -> None:
    """`make up` with .env.example copied as it is names all the secrets still to set, and
    never gets to compose; with them set it runs compose."""

    def make_up() -> subprocess.CompletedProcess[str]:
        # Compose replaced by a command that says what it was given.
        fake = "COMPOSE=sh -c 'echo compose-ran uid=$$NEWSFLOW_UID gid=$$NEWSFLOW_GID $$*' compose"
        return subprocess.run(
            ["make", "-s", "-C", str(tmp_path), "-f", str(ROOT / "Makefile"), "up", fake],
            capture_output=True, text=True, check=False, env=_compose_env(), timeout=30,
        )  # fmt: skip

    dot_env(tmp_path, {})
    refused = make_up()
    assert refused.returncode != 0
    assert "compose-ran" not in refused.stdout
    for name in REQUIRED:
        assert name in refused.stdout
    dot_env(
        tmp_path, {name: value for name, value in REQUIRED.items() if name != "POSTGRES_PASSWORD"}
    )
    one_left = make_up()
    assert one_left.returncode != 0
    assert "set POSTGRES_PASSWORD in .env" in one_left.stdout
    dot_env(tmp_path, REQUIRED)
    (tmp_path / "drop").mkdir()
    owner = (4242, 4343) if os.geteuid() == 0 else (os.geteuid(), os.getegid())
    if os.geteuid() == 0:
        os.chown(tmp_path / "drop", *owner)  # the host user who owns ./drop
    started = make_up()
    assert started.returncode == 0, started.stdout + started.stderr
    # The watcher runs as the owner of ./drop, so that it may move files in it...
    assert f"compose-ran uid={owner[0]} gid={owner[1]} up --build -d" in started.stdout
    dot_env(tmp_path, {**REQUIRED, "NEWSFLOW_UID": "1500", "NEWSFLOW_GID": "1600"})
    # ... unless .env names the user.
    assert "compose-ran uid=1500 gid=1600 up --build -d" in make_up().stdout


def test_the_watchers_user_is_taken_from_env(tmp_path: Path) -> None:
    env_file = dot_env(tmp_path, {**REQUIRED, "NEWSFLOW_UID": "4242", "NEWSFLOW_GID": "4343"})
    result = compose(env_file, "config")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["services"]["watch"]["user"] == "4242:4343"
