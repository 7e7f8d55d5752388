"""The HTTP API as deployed: ``newsflow serve`` in its own process, spoken to over real HTTP.

Every status the API promises is provoked for real: 401 without the token, 413 for a file over
the limit (declared or streamed), 429 when the ingest queue in Redis is deep, 404, 422, and 503
from /readyz when Redis or the index cannot be reached. With the three workers running, a file
posted to the API comes out indexed, readable and searchable. Redis database 6, flushed here.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx2 as httpx
import pytest
import redis

from tests.integration.conftest import NEWSFLOW, Pipeline, start_pipeline, stop_pipeline
from tests.support import free_port

pytestmark = pytest.mark.integration

TOKEN = "integration-token"  # noqa: S105  # a test token, not a credential
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LIMIT = 64 * 1024
REQUEST_LIMIT = 4 * LIMIT
MAX_FILES = 10
MAX_QUEUE_DEPTH = 20
START_TIMEOUT = 30.0

T = TypeVar("T")


def wait_for(produce: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = produce()
        if value is not None:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, token: bool = True) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=AUTH if token else {}, timeout=30.0)

    def log_lines(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines


def start_server(env: dict[str, str], workdir: Path, name: str) -> Server:
    """``newsflow serve`` on a free port, returned once /healthz answers."""
    port = free_port()
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [NEWSFLOW, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)

    def healthy() -> bool | None:
        if process.poll() is not None:
            pytest.fail(f"newsflow serve exited at start:\n{log.read_text()[-3000:]}")
        try:
            return httpx.get(f"{server.url}/healthz", timeout=1.0).status_code == 200 or None
        except httpx.TransportError:
            return None

    wait_for(healthy, START_TIMEOUT, "newsflow serve to answer /healthz")
    return server


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()


def api_env(redis_url: str, index_path: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "NEWSFLOW_REDIS_URL": redis_url,
        "NEWSFLOW_INDEX_URL": str(index_path),
        "NEWSFLOW_MAX_FILE_BYTES": str(LIMIT),
        "NEWSFLOW_MAX_REQUEST_BYTES": str(REQUEST_LIMIT),
        "NEWSFLOW_MAX_FILES_PER_REQUEST": str(MAX_FILES),
        "NEWSFLOW_API_TOKEN": TOKEN,
        "NEWSFLOW_MAX_QUEUE_DEPTH": str(MAX_QUEUE_DEPTH),
        "NEWSFLOW_LOG_FORMAT": "json",
        **extra,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


@pytest.fixture(scope="module")
def api_redis_url(redis_url: str) -> str:
    return redis_url


@pytest.fixture(scope="module")
def idle_api(api_redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The API with no workers running: what it queues stays on the ingest queue."""
    redis.Redis.from_url(api_redis_url).flushdb()
    workdir = tmp_path_factory.mktemp("api-idle")
    server = start_server(api_env(api_redis_url, workdir / "index.db"), workdir, "serve")
    yield server
    stop_server(server)
    redis.Redis.from_url(api_redis_url).flushdb()


@pytest.fixture
def queue(api_redis_url: str) -> Iterator[redis.Redis]:
    """Database 6 with an empty ingest queue, emptied again afterwards."""
    client = redis.Redis.from_url(api_redis_url)
    client.delete("ingest")
    yield client
    client.delete("ingest")
    client.close()


def test_probes_docs_and_metrics_answer(idle_api: Server) -> None:
    with idle_api.client(token=False) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["ready"] is True
        assert "swagger" in client.get("/docs").text.lower()
        paths = client.get("/openapi.json").json()["paths"]
        assert {"/v1/files", "/v1/files/{receipt}", "/v1/search", "/v1/documents/{doc_id}"} <= set(
            paths
        )
        assert "newsflow_http_requests_total" in client.get("/metrics").text


def test_v1_needs_the_bearer_token(idle_api: Server, queue: redis.Redis) -> None:
    """With NEWSFLOW_API_TOKEN set, nothing under /v1 answers without it."""
    with idle_api.client(token=False) as client:
        missing = client.post("/v1/files", content=b"text", params={"name": "a.txt"})
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = {"Authorization": "Bearer not-the-token"}
        assert client.post("/v1/files", content=b"text", headers=wrong).status_code == 401
        assert client.get("/v1/search", params={"q": "x"}).status_code == 401
        assert client.get("/v1/documents/x").status_code == 401
    assert queue.llen("ingest") == 0


def test_posted_file_is_queued_with_a_receipt(idle_api: Server, queue: redis.Redis) -> None:
    with idle_api.client() as client:
        answer = client.post(
            "/v1/files", content="Заголовок\n\nТекст.".encode(), params={"name": "новость.txt"}
        )
        assert answer.status_code == 202, answer.text
        accepted = answer.json()
        assert accepted["status_url"] == f"/v1/files/{accepted['receipt']}"
        assert accepted["filename"] == "новость.txt"
        status = client.get(accepted["status_url"]).json()
        assert (status["state"], status["filename"]) == ("queued", "новость.txt")
        batch = client.post(
            "/v1/files",
            files=[("files", ("a.txt", b"one")), ("files", ("b.txt", b"two"))],
            data={"source": "scraper-1"},
        )
        assert batch.status_code == 202, batch.text
        assert [item["filename"] for item in batch.json()["receipts"]] == ["a.txt", "b.txt"]
    assert queue.llen("ingest") == 3


def test_file_over_the_limit_is_413_and_not_queued(idle_api: Server, queue: redis.Redis) -> None:
    """Declared, streamed (chunked, no Content-Length) or inside multipart: refused, not queued."""

    def chunked() -> Iterator[bytes]:
        for _ in range(LIMIT // 1024 + 8):
            yield b"x" * 1024

    with idle_api.client() as client:
        declared = client.post("/v1/files", content=b"x" * (LIMIT + 1), params={"name": "big"})
        assert declared.status_code == 413, declared.text
        streamed = client.post("/v1/files", content=chunked(), params={"name": "big"})
        assert streamed.status_code == 413, streamed.text
        inside = client.post("/v1/files", files=[("files", ("big.txt", b"x" * (LIMIT + 1)))])
        assert inside.status_code == 413, inside.text
        assert client.get("/healthz").status_code == 200  # the server is fine afterwards
    assert queue.llen("ingest") == 0


def test_a_request_over_the_whole_request_limit_is_413_and_not_queued(
    idle_api: Server, queue: redis.Redis
) -> None:
    """The audit's request: many files, each under the file limit, together far over any sane
    request. Refused whether its length is declared or streamed, and nothing is queued."""
    files = [("files", (f"{n}.txt", b"x" * (LIMIT - 1024))) for n in range(MAX_FILES)]
    boundary = "integration-boundary"
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"'
            "\r\n\r\n".encode()
            + data
            + b"\r\n"
            for _, (name, data) in files
        )
        + f"--{boundary}--\r\n".encode()
    )

    def chunked() -> Iterator[bytes]:
        for start in range(0, len(body), 16 * 1024):
            yield body[start : start + 16 * 1024]

    with idle_api.client() as client:
        declared = client.post("/v1/files", files=files)
        assert declared.status_code == 413, declared.text
        assert "request body" in declared.json()["detail"]
        streamed = client.post(
            "/v1/files",
            content=chunked(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert streamed.status_code == 413, streamed.text
        too_many = client.post(
            "/v1/files", files=[("files", (f"{n}.txt", b"x")) for n in range(MAX_FILES + 1)]
        )
        assert too_many.status_code == 422, too_many.text
        assert client.get("/healthz").status_code == 200
    assert queue.llen("ingest") == 0


def test_deep_ingest_queue_answers_429_with_retry_after(
    idle_api: Server, queue: redis.Redis
) -> None:
    """Back pressure: while ingest is behind, submitters are told when to come back."""
    queue.rpush("ingest", *[b"dummy"] * (MAX_QUEUE_DEPTH + 1))
    with idle_api.client() as client:
        answer = client.post("/v1/files", content=b"text", params={"name": "a.txt"})
        assert answer.status_code == 429, answer.text
        assert int(answer.headers["retry-after"]) > 0
        assert queue.llen("ingest") == MAX_QUEUE_DEPTH + 1
        queue.delete("ingest")
        assert client.post("/v1/files", content=b"text").status_code == 202


def test_thirty_concurrent_uploads_against_a_limit_of_five_admit_five(
    api_redis_url: str, queue: redis.Redis, tmp_path: Path
) -> None:
    """Back pressure is one atomic step in Redis: with check-then-act, thirty uploads at once
    all saw a short queue and all got 202 (the audit). Now at most the limit are queued, and
    every other upload is told to retry later."""
    limit = 5
    env = api_env(api_redis_url, tmp_path / "index.db", NEWSFLOW_MAX_QUEUE_DEPTH=str(limit))
    server = start_server(env, tmp_path, "serve-admission")
    start = threading.Barrier(30)

    def upload(number: int) -> int:
        with server.client() as client:
            start.wait()
            answer = client.post("/v1/files", content=b"text", params={"name": f"{number}.txt"})
            return answer.status_code

    try:
        with ThreadPoolExecutor(30) as pool:
            statuses = list(pool.map(upload, range(30)))
    finally:
        stop_server(server)
    assert set(statuses) <= {202, 429}, statuses
    assert statuses.count(202) == limit, statuses
    assert queue.llen("ingest") == limit
    assert queue.zcard("newsflow:admission:ingest") == 0


def test_unknown_receipt_and_document_are_404(idle_api: Server) -> None:
    with idle_api.client() as client:
        assert client.get("/v1/files/0123456789abcdef").status_code == 404
        assert client.get("/v1/documents/no-such-document").status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x", "limit": "0"},
        {"q": "x", "type": "PLANET"},
        {"q": "x", "since": "last week"},
        {"q": "x", "collapse": "perhaps"},
        {"q": "x", "since": "2025-02-01", "until": "2025-01-01"},
    ],
)
def test_bad_search_parameters_are_422(idle_api: Server, params: dict[str, str]) -> None:
    with idle_api.client() as client:
        assert client.get("/v1/search", params=params).status_code == 422


def test_bad_source_name_is_422(idle_api: Server, queue: redis.Redis) -> None:
    with idle_api.client() as client:
        answer = client.post("/v1/files", content=b"x", params={"source": "no spaces, please"})
        assert answer.status_code == 422
    assert queue.llen("ingest") == 0


def test_metrics_count_requests_by_route_template(idle_api: Server) -> None:
    counted = re.compile(
        r'newsflow_http_requests_total\{method="GET",route="/v1/files/\{receipt\}",status="404"\}'
        r" [1-9]"
    )
    with idle_api.client() as client:
        client.get("/v1/files/receipt-that-is-not-there")

        # Counted as the response goes out, so the next scrape may (rarely) be a moment early.
        def scrape() -> str | None:
            page = client.get("/metrics").text
            return page if counted.search(page) else None

        text = wait_for(scrape, 5.0, "the request to be counted")
    assert 'newsflow_http_request_duration_seconds_bucket{le="0.005",route="/healthz"}' in text
    assert "receipt-that-is-not-there" not in text


def test_each_request_is_one_json_log_line(idle_api: Server) -> None:
    with idle_api.client() as client:
        answer = client.get("/v1/documents/logged-document-id")
    request_id = answer.headers["x-request-id"]

    def logged() -> list[dict[str, Any]] | None:
        # The line is written once the response has gone out, so it may trail the client.
        found = [line for line in idle_api.log_lines() if line.get("request_id") == request_id]
        return found or None

    lines = wait_for(logged, 5.0, "the request's log line")
    time.sleep(0.2)  # and no second line for the same request
    lines = [line for line in idle_api.log_lines() if line.get("request_id") == request_id]
    assert len(lines) == 1, lines
    assert lines[0]["event"] == "request"
    assert (lines[0]["route"], lines[0]["status"]) == ("/v1/documents/{doc_id}", 404)


@pytest.mark.parametrize("broken", ["redis", "index"])
def test_readyz_is_503_naming_what_failed(broken: str, api_redis_url: str, tmp_path: Path) -> None:
    """A process that cannot reach Redis or the index must leave the load balancer's pool."""
    closed = free_port()  # nothing listens there
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("a file, so no index can be created under it")
    env = api_env(
        f"redis://127.0.0.1:{closed}/0" if broken == "redis" else api_redis_url,
        not_a_folder / "index.db" if broken == "index" else tmp_path / "index.db",
    )
    server = start_server(env, tmp_path, f"serve-{broken}")
    try:
        with server.client(token=False) as anonymous:
            # No token, no details: the errors would name internal hosts and ports.
            hidden = anonymous.get("/readyz")
            assert (hidden.status_code, hidden.json()) == (503, {"ready": False})
        with server.client() as client:
            answer = client.get("/readyz")
            assert client.get("/healthz").status_code == 200
            if broken == "index":
                assert client.get("/v1/search", params={"q": "x"}).status_code == 503
            else:
                assert client.post("/v1/files", content=b"x").status_code == 503
    finally:
        stop_server(server)
    assert answer.status_code == 503, answer.text
    checks = answer.json()["checks"]
    assert checks[broken]["ok"] is False
    assert checks[broken]["error"]
    other = "index" if broken == "redis" else "redis"
    assert checks[other]["ok"] is True


@dataclass
class Live:
    pipeline: Pipeline
    server: Server


@pytest.fixture(scope="module")
def live(api_redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The three workers and the API over one Redis database and one index."""
    workdir = tmp_path_factory.mktemp("api-live")
    pipeline = start_pipeline(
        api_redis_url,
        workdir,
        {
            "NEWSFLOW_MAX_FILE_BYTES": str(LIMIT),
            "NEWSFLOW_API_TOKEN": TOKEN,
            "NEWSFLOW_MAX_QUEUE_DEPTH": str(MAX_QUEUE_DEPTH),
        },
    )
    try:
        server = start_server(pipeline.env, workdir, "serve")
    except BaseException:
        stop_pipeline(pipeline)
        raise
    yield Live(pipeline, server)
    stop_server(server)
    stop_pipeline(pipeline)
    redis.Redis.from_url(api_redis_url).flushdb()


def final_status(client: httpx.Client, receipt: str) -> dict[str, Any]:
    def final() -> dict[str, Any] | None:
        status: dict[str, Any] = client.get(f"/v1/files/{receipt}").json()
        return status if status["state"] in {"indexed", "duplicate", "dead_letter"} else None

    return wait_for(final, 120.0, f"receipt {receipt} to reach a final state")


def test_posted_file_is_indexed_readable_and_searchable(live: Live, seed_files: list[Path]) -> None:
    seed = seed_files[0]
    with live.server.client() as client:
        answer = client.post(
            "/v1/files",
            content=seed.read_bytes(),
            params={"name": seed.name, "source": "belta-scraper"},
        )
        assert answer.status_code == 202, answer.text
        status = final_status(client, answer.json()["receipt"])
        assert status["state"] == "indexed", status
        doc_id = status["doc_id"]
        assert status["document_url"] == f"/v1/documents/{doc_id}"

        document = client.get(status["document_url"])
        assert document.status_code == 200
        stored = document.json()
        assert (stored["id"], stored["filename"], stored["source"]) == (doc_id, seed.name, "http")
        assert stored["source_name"] == "belta-scraper"  # the submitter's name travels along

        word = max(re.findall(r"\w{5,}", stored["title"]), key=len)
        found = client.get("/v1/search", params={"q": word, "facets": "true"})
        assert found.status_code == 200, found.text
        result = found.json()
        assert doc_id in [hit["id"] for hit in result["hits"]], result
        assert result["total"] >= 1

        # Seed 000 names Nadezhda Lazarevich in Russian; her Belarusian spelling finds it, and
        # the facet labels her in the display language (English unless asked), with her id.
        assert "per:ndsd-lsrvc" in {entity["id"] for entity in stored["entities"]}
        for language, label in (("", "Nadezhda Lazarevich"), ("ru", "Надежда Лазаревич")):
            params = {"entity": "Лазарэвіч", "type": "PER", "facets": "true"}
            by_name = client.get(
                "/v1/search", params=params | ({"label_language": language} if language else {})
            )
            assert by_name.status_code == 200, by_name.text
            assert doc_id in [hit["id"] for hit in by_name.json()["hits"]]
            persons = by_name.json()["facets"]["entities"]["PER"]
            assert {"value": "per:ndsd-lsrvc", "label": label} in [
                {"value": count["value"], "label": count["label"]} for count in persons
            ]

        again = client.post("/v1/files", content=seed.read_bytes(), params={"name": "copy.txt"})
        duplicate = final_status(client, again.json()["receipt"])
        assert (duplicate["state"], duplicate["duplicate_of"]) == ("duplicate", doc_id)


def test_several_files_posted_as_multipart_are_all_indexed(
    live: Live, seed_files: list[Path]
) -> None:
    with live.server.client() as client:
        answer = client.post(
            "/v1/files",
            files=[("files", (seed.name, seed.read_bytes())) for seed in seed_files[1:]],
            data={"source": "integration"},
        )
        assert answer.status_code == 202, answer.text
        receipts = [item["receipt"] for item in answer.json()["receipts"]]
        states = [final_status(client, receipt)["state"] for receipt in receipts]
    assert states == ["indexed"] * (len(seed_files) - 1)
