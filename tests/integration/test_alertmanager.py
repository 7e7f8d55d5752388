"""deploy/alertmanager.yml routes alerts to its webhook: a real Alertmanager (Debian's package)
runs the file, with the webhook's URL pointed at this test's own receiver as an operator points
it at theirs, and an alert posted to it arrives there."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT
from tests.support import free_port

pytestmark = pytest.mark.integration

CONFIG = ROOT / "deploy" / "alertmanager.yml"


def _binary() -> str:
    found = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run Alertmanager: apt-get install prometheus-alertmanager")
        pytest.skip("Alertmanager is not installed (apt-get install prometheus-alertmanager)")
    return found


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A receiver on a free port: its URL, and the JSON bodies POSTed to it."""
    received: list[dict[str, Any]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass  # the test says what went wrong, not the server

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/alerts", received
    finally:
        server.shutdown()


def test_a_critical_alert_reaches_the_webhook(
    webhook: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, received = webhook
    config = yaml.safe_load(CONFIG.read_text())
    receivers = config["receivers"]
    assert [r["name"] for r in receivers] == [config["route"]["receiver"]]
    assert receivers[0]["webhook_configs"][0]["url"] == "http://host.docker.internal:5001/alerts"
    receivers[0]["webhook_configs"][0]["url"] = url
    local = tmp_path / "alertmanager.yml"
    local.write_text(yaml.safe_dump(config))
    port = free_port()
    log = (tmp_path / "alertmanager.log").open("wb")
    process = subprocess.Popen(
        [
            _binary(),
            f"--config.file={local}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",  # no gossip port: one instance, and shared machines
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    alert = {
        "labels": {
            "alertname": "NewsflowWorkerDown",
            "severity": "critical",
            "job": "newsflow-enrich",
            "instance": "enrich:9102",
        },
        "annotations": {"summary": "newsflow newsflow-enrich worker enrich:9102 is down"},
    }
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/v2/alerts",
                    data=json.dumps([alert]).encode(),
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=5):  # noqa: S310  # our own localhost
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail((tmp_path / "alertmanager.log").read_text())
                time.sleep(0.2)
        # The route's group_wait (10 s) is how long a first alert waits for others of its group.
        deadline = time.monotonic() + 30
        while not received and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert received, (tmp_path / "alertmanager.log").read_text()
    message = received[0]
    assert message["receiver"] == "webhook"
    assert message["status"] == "firing"
    assert [a["labels"]["alertname"] for a in message["alerts"]] == ["NewsflowWorkerDown"]
    assert message["alerts"][0]["annotations"]["summary"] == alert["annotations"]["summary"]
