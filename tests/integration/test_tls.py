"""Redis over TLS with a password, for real: a ``redis-server`` of this test's own with a
self-signed certificate, and newsflow's own clients (app state, the Celery producer, a worker)
speaking ``rediss://`` to it, the certificate verified against that CA."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import redis

from shared.redis_client import redis_client
from shared.settings import Settings
from tests.integration.conftest import NEWSFLOW

pytestmark = pytest.mark.integration

PASSWORD = "tls-p@ss:word"  # noqa: S105  # a test value for a throwaway server
START_TIMEOUT = 15.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost (it is its own CA)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@pytest.fixture(scope="module")
def tls_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ``rediss://`` URL with a password, verifying the server against our CA."""
    for tool in ("redis-server", "openssl"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = _certificate(folder)
    port = _free_port()
    log = folder / "redis.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                *("redis-server", "--port", "0", "--tls-port", str(port)),
                *("--tls-cert-file", str(cert), "--tls-key-file", str(key)),
                *("--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no"),
                *("--requirepass", PASSWORD, "--save", "", "--appendonly", "no"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = (
        f"rediss://:{quote(PASSWORD, safe='')}@localhost:{port}/0"
        f"?ssl_cert_reqs=required&ssl_ca_certs={cert}"
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.skip(f"redis-server cannot serve TLS here:\n{log.read_text()[-2000:]}")
            try:
                redis.Redis.from_url(url, socket_connect_timeout=1).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail(f"TLS redis-server not answering:\n{log.read_text()[-2000:]}")
                time.sleep(0.1)
        yield url
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)


def test_settings_and_the_app_state_client_speak_tls_with_a_password(tls_url: str) -> None:
    settings = Settings(_env_file=None, redis_url=tls_url)
    client = redis_client(settings.redis_url)
    assert client.connection_pool.connection_class is redis.SSLConnection
    client.set("newsflow:tls-probe", b"over tls")
    assert client.get("newsflow:tls-probe") == b"over tls"
    wrong = tls_url.replace(quote(PASSWORD, safe=""), "wrong")
    with pytest.raises(redis.AuthenticationError):
        redis.Redis.from_url(wrong).ping()


def test_submit_and_a_worker_go_through_a_tls_redis(tls_url: str, tmp_path: Path) -> None:
    """The Celery producer (``newsflow submit``) and consumer (``newsflow worker``) accept the
    same ``rediss://`` URL: the file is queued and parsed over TLS."""
    env = {
        **os.environ,
        "NEWSFLOW_REDIS_URL": tls_url,
        "NEWSFLOW_INDEX_URL": str(tmp_path / "index.db"),
        "NEWSFLOW_LOG_FORMAT": "json",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    news = tmp_path / "news.txt"
    news.write_text("Заголовок новости\n\nТекст новости о выставке в Минске.\n", encoding="utf-8")
    submitted = subprocess.run(
        [NEWSFLOW, "submit", "--json", str(news)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert submitted.returncode == 0, submitted.stderr[-3000:]
    assert PASSWORD not in submitted.stderr
    client = redis.Redis.from_url(tls_url)
    assert client.llen("ingest") == 1

    log = tmp_path / "ingest.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [NEWSFLOW, "worker", "ingest", "--concurrency", "1"],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        # Until the message is on the next queue and acknowledged here (kombu keeps a delivered
        # message in its "unacked" hash until the ack): stopping the worker between the two would
        # put it back on `ingest`, as it should.
        while client.llen("enrich") == 0 or client.hlen("unacked") > 0:
            assert worker.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    assert client.llen("ingest") == 0
    assert PASSWORD not in log.read_text()
