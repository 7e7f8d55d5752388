"""Redis behind Sentinel, for real: a master (and, for the failover, a replica) and a Sentinel of
this test's own on free ports, with passwords on both, and every newsflow process given one
``sentinel://`` URL: the three workers (app state and the Celery broker), ``newsflow submit
--wait``, the API and the reconciler.

The URL lists a sentinel that does not answer before the one that does, as when one of three
sentinels is down: the clients must move on to the next. The failover test kills the master
with -9 mid-run; the sentinel promotes the replica, every client finds it through the sentinel,
and the reconciler drives again what the old master took with it (replication is asynchronous).
A third test puts the master and the sentinel behind TLS only (no plain-text port).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx2 as httpx
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from shared.celery_app import Publisher, make_celery, queue_depth
from shared.deadletters import DeadLetterStore
from shared.redis_client import connect, redis_client
from shared.settings import Settings
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
from tests.integration.conftest import NEWSFLOW, Pipeline, start_pipeline, stop_pipeline
from tests.support import free_port

pytestmark = pytest.mark.integration

MASTER_NAME = "newsflow-test"
# Characters that must be percent-encoded in the URL, to prove they arrive intact.
PASSWORD = "m@ster:pw/1"  # noqa: S105  # a test value for throwaway servers
SENTINEL_PASSWORD = "s&ntinel;pw"  # noqa: S105  # a test value for throwaway servers
DATABASE = 2
TOKEN = "sentinel-test-token"  # noqa: S105  # a test token, not a credential
API_FILE = "Новость через API\n\nТекст о выставке в Минске, отправленный по HTTP.\n"


class RedisNode:
    """A redis-server of this test's own: the master, or a replica of it."""

    def __init__(self, folder: Path, replica_of: int | None = None) -> None:
        self.folder = folder
        self.port = free_port()
        self.replica_of = replica_of
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        command = [
            "redis-server",
            *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)),
            *("--save", "", "--appendonly", "no"),
            # A replica's first sync starts at once, not after Redis's default 5 s wait.
            *("--repl-diskless-sync-delay", "0"),
            # The same password on every node, and the one a replica (or a demoted master)
            # authenticates to its master with.
            *("--requirepass", PASSWORD, "--masterauth", PASSWORD),
        ]
        if self.replica_of is not None:
            command += ["--replicaof", "127.0.0.1", str(self.replica_of)]
        with (self.folder / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: _answers(self.client()), "the test's Redis to answer", timeout=30)

    def client(self) -> redis.Redis:
        """A direct client of this node (not through the sentinel)."""
        return redis.Redis(port=self.port, password=PASSWORD, db=DATABASE, socket_timeout=5)

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


class OwnSentinel:
    """``redis-server sentinel.conf --sentinel`` (no separate redis-sentinel binary needed),
    monitoring the master under ``MASTER_NAME`` with a quorum of 1, and quick to act: the
    master counts as down after 1 s without an answer."""

    def __init__(self, folder: Path, master: RedisNode) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        # Sentinel rewrites its config file as it learns the topology: it must be writable.
        (folder / "sentinel.conf").write_text(
            f"port {self.port}\n"
            "bind 127.0.0.1\n"
            f'dir "{folder}"\n'
            f'requirepass "{SENTINEL_PASSWORD}"\n'
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master.port} 1\n"
            f'sentinel auth-pass {MASTER_NAME} "{PASSWORD}"\n'
            f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
            f"sentinel failover-timeout {MASTER_NAME} 10000\n"
        )

    def start(self) -> None:
        with (self.folder / "sentinel.log").open("ab") as log:
            self.process = subprocess.Popen(
                ["redis-server", str(self.folder / "sentinel.conf"), "--sentinel"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(lambda: self.master_port() is not None, "the sentinel to answer", timeout=30)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, password=SENTINEL_PASSWORD, socket_timeout=5)

    def master_port(self) -> int | None:
        try:
            address = self.client().sentinel_get_master_addr_by_name(MASTER_NAME)
        except redis.RedisError:
            return None
        return int(address[1]) if address else None

    def knows_replica(self, port: int) -> bool:
        """The sentinel has seen the replica, in sync and up: a failover can choose it."""
        try:
            replicas = self.client().sentinel_slaves(MASTER_NAME)
        except redis.RedisError:
            return False
        return any(
            int(replica["port"]) == port
            and not replica["is_sdown"]
            and replica.get("master-link-status") == "ok"
            for replica in replicas
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def url(self) -> str:
        """The one URL every newsflow process gets: a sentinel nobody listens on first (one
        of several being down), then this one; the master's password in the user info, the
        sentinel's as a parameter, both percent-encoded."""
        dead = free_port()
        return (
            f"sentinel://:{quote(PASSWORD, safe='')}@127.0.0.1:{dead},127.0.0.1:{self.port}"
            f"/{DATABASE}?master={MASTER_NAME}"
            f"&sentinel_password={quote(SENTINEL_PASSWORD, safe='')}"
        )


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def _require_redis_server() -> None:
    if shutil.which("redis-server") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is required in CI for the Sentinel tests")
        pytest.skip("no redis-server binary")


@pytest.fixture
def master(tmp_path: Path) -> Iterator[RedisNode]:
    _require_redis_server()
    node = RedisNode(tmp_path / "master")
    node.start()
    yield node
    node.stop()


@pytest.fixture
def replica(tmp_path: Path, master: RedisNode) -> Iterator[RedisNode]:
    """A replica of the master, in sync. Asked for before ``sentinel``, it is there when the
    sentinel first looks at the master, which saves waiting for its next look (every 10 s)."""
    node = RedisNode(tmp_path / "replica", replica_of=master.port)
    node.start()

    def in_sync() -> bool:
        replication = master.client().info("replication")
        return bool(replication.get("slave0", {}).get("state") == "online")

    wait_until(in_sync, "the replica to be in sync", timeout=30)
    yield node
    node.stop()


@pytest.fixture
def sentinel(tmp_path: Path, master: RedisNode) -> Iterator[OwnSentinel]:
    watcher = OwnSentinel(tmp_path / "sentinel", master)
    watcher.start()
    yield watcher
    watcher.stop()


def _no_password_in(*texts: str) -> None:
    for secret in (PASSWORD, SENTINEL_PASSWORD):
        for text in texts:
            assert secret not in text
            assert quote(secret, safe="") not in text


def _scrape(port: int) -> str:
    return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text


def _serve_api(pipeline: Pipeline) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (pipeline.workdir / "api.log").open("ab")
    process = subprocess.Popen(
        [NEWSFLOW, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**pipeline.env, "NEWSFLOW_API_TOKEN": TOKEN},
        cwd=pipeline.workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(healthy, "the API to answer", timeout=30)
    return process, url


def test_workers_submit_api_and_reconciler_run_through_a_sentinel(
    master: RedisNode, sentinel: OwnSentinel, seed_files: list[Path], tmp_path: Path
) -> None:
    """One sentinel:// URL is all a deployment behind Sentinel sets: the seeds go through the
    three real workers and come out indexed, the state and the queues are on the master the
    sentinel names (in the URL's database), the API admits and reports through it, the
    reconciler and the queue-depth metric read the broker's lists through it, and neither
    password shows in any output."""
    metrics = {stage: free_port() for stage in ("ingest", "enrich", "index")}
    pipeline = start_pipeline(sentinel.url(), tmp_path / "run", metrics_ports=metrics)
    api, api_url = _serve_api(pipeline)
    try:
        outcomes = pipeline.submit_and_wait(*seed_files)
        assert [outcome["state"] for outcome in outcomes] == ["indexed"] * 5, outcomes
        assert len(sqlite_ids(pipeline.index_path)) == 5

        state = master.client()
        assert len(state.keys("newsflow:receipt:*")) == 5  # in the URL's database, on the master
        depth = _scrape(metrics["ingest"])
        assert 'newsflow_queue_depth{queue="ingest"} 0.0' in depth, depth

        reconciled = pipeline.newsflow("reconcile", "--json")
        assert reconciled.returncode == 0, reconciled.stderr[-3000:]

        with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {TOKEN}"}) as web:
            assert web.get("/readyz").json()["ready"] is True
            posted = web.post(
                "/v1/files",
                params={"name": "api.txt", "source": "sentinel-test"},
                content=API_FILE.encode(),
            )
            assert posted.status_code == 202, posted.text
            receipt = posted.json()["receipt"]

            def indexed() -> bool:
                return web.get(f"/v1/files/{receipt}").json().get("state") == "indexed"

            wait_until(indexed, "the file posted to the API to be indexed", timeout=60)
        assert pipeline.all_alive()
    finally:
        stop(api)
        stop_pipeline(pipeline)
    logs = [pipeline.log_text(stage) for stage in pipeline.logs]
    api_log = (pipeline.workdir / "api.log").read_text(errors="replace")
    _no_password_in(*logs, api_log, reconciled.stdout, reconciled.stderr)


def test_a_command_caught_by_a_failover_waits_for_the_new_master(
    master: RedisNode, replica: RedisNode, sentinel: OwnSentinel
) -> None:
    """A command in flight when the master is killed is retried on the replica the sentinel
    promotes (redis-py alone reconnects it to the dead address until its retries run out,
    redis/redis-py#3874); with no master left at all a call gives up within seconds, far inside
    the stages' time limits, with a ConnectionError that the tasks retry."""
    wait_until(lambda: sentinel.knows_replica(replica.port), "the sentinel to see the replica", 30)
    client = redis_client(sentinel.url())  # the workers' own client
    assert client.ping()
    outcome: list[object] = []

    def wait_for_an_item() -> None:
        try:
            outcome.append(client.blpop(["newsflow:probe"], timeout=20))
        except redis.RedisError as error:
            outcome.append(error)

    def blocked_on(node: redis.Redis) -> bool:
        return any(entry.get("cmd") == "blpop" for entry in node.client_list())

    waiter = threading.Thread(target=wait_for_an_item)
    waiter.start()
    wait_until(lambda: blocked_on(master.client()), "the command to block on the master", 10)
    master.kill()  # the command's connection drops with it
    wait_until(lambda: sentinel.master_port() == replica.port, "the failover", 60)
    new_master = replica.client()
    wait_until(lambda: blocked_on(new_master), "the command sent again, to the new master", 20)
    new_master.rpush("newsflow:probe", b"after the failover")
    waiter.join(timeout=30)
    assert outcome == [(b"newsflow:probe", b"after the failover")]

    replica.kill()  # no master left
    started = time.monotonic()
    with pytest.raises(redis.ConnectionError):
        client.set("newsflow:probe", b"nowhere")
    assert time.monotonic() - started < 15


def test_master_killed_mid_run_fails_over_to_the_replica_and_loses_nothing(
    master: RedisNode, replica: RedisNode, sentinel: OwnSentinel, tmp_path: Path
) -> None:
    """The reason to run behind Sentinel. 200 unique documents; once the first are indexed the
    master is killed with -9. The sentinel promotes the replica; workers, ``submit --wait`` and
    the reconciler find the new master through it, and every document is indexed exactly once
    (counted in the index itself), every receipt terminal, every worker alive."""
    wait_until(lambda: sentinel.knows_replica(replica.port), "the sentinel to see the replica", 30)
    files = unique_documents(tmp_path / "docs")
    pipeline = start_pipeline(sentinel.url(), tmp_path / "run", CHAOS_ENV)
    reconciler = start_reconciler(pipeline)
    client = connect(sentinel.url(), socket_timeout=5, socket_connect_timeout=2)
    try:
        submit = subprocess.Popen(
            [NEWSFLOW, "submit", "--wait", "--json", "--timeout", "240", *map(str, files)],
            env=pipeline.env,
            cwd=pipeline.workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        direct = master.client()

        def some_indexed() -> bool:
            keys = direct.keys("newsflow:receipt:*")[:400]
            return bool(keys) and any(b'"indexed"' in (raw or b"") for raw in direct.mget(keys))

        wait_until(some_indexed, "the first documents to be indexed", timeout=120)
        killed_at = time.monotonic()
        master.kill()
        wait_until(lambda: sentinel.master_port() == replica.port, "the sentinel to fail over", 60)
        failover_seconds = time.monotonic() - killed_at
        out, err = submit.communicate(timeout=300)
        receipts = [json.loads(line)["receipt"] for line in out.splitlines() if line.strip()]
        statuses = wait_terminal(client, receipts, timeout=120)
        letters = DeadLetterStore(client, ttl_seconds=3600, max_bytes=2**30).list()
        alive = pipeline.all_alive()
    finally:
        stop(reconciler)
        stop_pipeline(pipeline)
    result = verdict(statuses, sqlite_ids(pipeline.index_path))
    print(
        f"Sentinel failover (master kill -9): {result}, failover took {failover_seconds:.1f} s, "
        f"re-driven by the reconciler: {redriven(pipeline)}"
    )
    for letter in letters:  # shown when the test fails: why a document was dead-lettered
        print(f"dead letter {letter.stage} {letter.reason}: {letter.error}")
    assert submit.returncode == 0, err[-3000:]
    assert len(receipts) == DOCUMENTS
    assert_nothing_lost(result)
    assert alive, "a worker did not survive the failover"
    _no_password_in(err, *(pipeline.log_text(stage) for stage in pipeline.logs))


def _self_signed(folder: Path) -> Path:
    """A certificate for localhost and 127.0.0.1 (its own CA), its key beside it."""
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
            *("-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return folder / "cert.pem"


def test_state_client_and_broker_speak_tls_to_the_sentinel_and_the_master(
    tmp_path: Path,
) -> None:
    """With ``ssl=true`` both clients use TLS for both hops, verifying the certificates: the
    master and the sentinel here have no plain-text port at all, so anything that tried plain
    text, or skipped the sentinel's certificate options, would fail to connect."""
    _require_redis_server()
    if shutil.which("openssl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is required in CI for the Sentinel TLS test")
        pytest.skip("no openssl")
    cert = _self_signed(tmp_path)
    # The same TLS settings for both servers, as options and as config lines.
    tls = {
        "tls-cert-file": cert,
        "tls-key-file": tmp_path / "key.pem",
        "tls-ca-cert-file": cert,
        "tls-auth-clients": "no",
    }
    tls_args = [arg for name, value in tls.items() for arg in (f"--{name}", str(value))]
    master_port, sentinel_port = free_port(), free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port 0\ntls-port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        + "".join(f"{name} {value}\n" for name, value in tls.items())
        + "tls-replication yes\n"  # the sentinel speaks TLS to the master too
        f'requirepass "{SENTINEL_PASSWORD}"\n'
        f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master_port} 1\n"
        f'sentinel auth-pass {MASTER_NAME} "{PASSWORD}"\n'
    )
    log = (tmp_path / "servers.log").open("ab")
    servers = [
        subprocess.Popen(
            [
                *("redis-server", "--port", "0", "--tls-port", str(master_port), *tls_args),
                *("--requirepass", PASSWORD, "--save", "", "--appendonly", "no"),
                *("--dir", str(tmp_path)),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            ["redis-server", str(conf), "--sentinel"], stdout=log, stderr=subprocess.STDOUT
        ),
    ]
    url = (
        f"sentinel://:{quote(PASSWORD, safe='')}@localhost:{sentinel_port}/{DATABASE}"
        f"?master={MASTER_NAME}&sentinel_password={quote(SENTINEL_PASSWORD, safe='')}"
        f"&ssl=true&ssl_ca_certs={cert}"
    )
    try:
        state = connect(url, socket_timeout=5, socket_connect_timeout=2)
        wait_until(lambda: _answers(state), "the master to answer through the sentinel", 30)
        state.set("newsflow:tls-probe", b"over tls")
        assert state.get("newsflow:tls-probe") == b"over tls"

        app = make_celery(Settings(_env_file=None, redis_url=url))
        Publisher(app).send("ingest", {"receipt": "tls-probe"})
        assert queue_depth(app, "ingest") == 1  # kombu, through the sentinel, over TLS
        assert state.llen("ingest") == 1  # the message is on the master the sentinel named
        app.close()
        plain = url.replace("&ssl=true", "").split("&ssl_ca_certs")[0]
        with pytest.raises(redis.ConnectionError):
            connect(plain, socket_timeout=2, retry=Retry(NoBackoff(), 0)).ping()
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        log.close()
