"""A real `newsflow serve` (uvicorn) logs every line, uvicorn's own included, as one JSON object
with no terminal colour codes: log shippers parse it, and an escape sequence in a field is
noise at best."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.integration.conftest import NEWSFLOW
from tests.support import free_port

pytestmark = pytest.mark.integration


def _get(url: str, token: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310  # our own localhost
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310  # our own localhost
            return int(reply.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@pytest.mark.parametrize("log_format", ["json", "auto"])
def test_uvicorns_lines_and_each_request_are_json_without_colour_codes(
    redis_url: str, tmp_path: Path, log_format: str
) -> None:
    """``auto`` is what a container gets (stderr is not a terminal): JSON too."""
    port = free_port()
    log = tmp_path / "api.log"
    env = {
        **os.environ,
        "NEWSFLOW_REDIS_URL": redis_url,
        "NEWSFLOW_INDEX_URL": str(tmp_path / "index.db"),
        "NEWSFLOW_API_TOKEN": "secret",
        "NEWSFLOW_LOG_FORMAT": log_format,
        "NEWSFLOW_LOG_LEVEL": "INFO",
        # What makes libraries colour their output when they can; it must not reach the lines.
        "FORCE_COLOR": "1",
        "TERM": "xterm-256color",
    }
    with log.open("wb") as out:
        server = subprocess.Popen(
            [NEWSFLOW, "serve", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert _get(base + "/healthz") == 200
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert _get(base + "/v1/search?q=x") == 401
        assert _get(base + "/no/such/route", "secret") == 404
        # Not HTTP at all: uvicorn answers it itself and logs a warning, without the app.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            raw.sendall(b"NOT HTTP\r\n\r\n")
            raw.recv(1024)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    text = log.read_text(encoding="utf-8")
    assert "\x1b" not in text
    assert "\\u001b" not in text  # JSON's spelling of the escape character
    records = [json.loads(line) for line in text.splitlines()]  # every line is JSON
    uvicorn = [r["event"] for r in records if str(r.get("logger", "")).startswith("uvicorn")]
    assert any(event.startswith("Uvicorn running on http://127.0.0.1:") for event in uvicorn)
    assert "Invalid HTTP request received." in uvicorn
    assert "Shutting down" in uvicorn
    assert not any("color_message" in r for r in records)
    # The access log: one line per request that reached the app, with what an operator filters on.
    requests = [r for r in records if r.get("event") == "request"]
    assert [(r["method"], r["path"], r["status"]) for r in requests] == [
        ("GET", "/healthz", 200),
        ("GET", "/v1/search", 401),
        ("GET", "/no/such/route", 404),
    ]
    assert all(r["request_id"] and r["duration_s"] >= 0 and r["client"] for r in requests)
