"""What an operator would see: the dashboard's panels evaluated by a real Prometheus after a run.

Starts three real workers (metrics on), a real Prometheus (Debian's ``prometheus`` binary) that
scrapes them every second with ``deploy/alerts.yml`` loaded, pushes a corpus through (unique
documents made from the seeds, some exact copies, and a few bad files), then evaluates every
query of ``deploy/grafana/dashboards/newsflow.json`` through Prometheus's HTTP API and prints the
values, plus the alerts' states. Nothing here is simulated: the figures are scraped from the
workers, as Grafana would show them.

Usage: ``python bench/dashboard.py [--docs N]``. Needs Redis on 127.0.0.1:6379 (uses DB 5) and
``prometheus`` on PATH (``apt-get install prometheus``).
"""

# Newsflow modules are imported after NEWSFLOW_REDIS_URL is set, inside main().
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.pipeline import write_documents  # noqa: E402  # needs the repo on sys.path

NEWSFLOW = str(Path(sys.executable).with_name("newsflow"))
PORTS = {"ingest": 19201, "enrich": 19202, "index": 19203}
PROMETHEUS_PORT = 19290


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _prometheus_config(workdir: Path) -> Path:
    shutil.copy(REPO / "deploy" / "alerts.yml", workdir / "alerts.yml")
    jobs = "\n".join(
        f"  - job_name: newsflow-{stage}\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{port}']"
        for stage, port in PORTS.items()
    )
    config = workdir / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"rule_files: [alerts.yml]\nscrape_configs:\n{jobs}\n"
    )
    return config


def _query(expr: str) -> list[dict[str, Any]]:
    url = f"http://127.0.0.1:{PROMETHEUS_PORT}/api/v1/query?" + urllib.parse.urlencode(
        {"query": expr}
    )
    with urllib.request.urlopen(url, timeout=10) as reply:  # our own localhost
        result: list[dict[str, Any]] = json.load(reply)["data"]["result"]
    return result


def _wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310  # our own localhost
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {timeout}s")


def _bad_files(folder: Path) -> list[Path]:
    files = {
        "bad_binary.txt": b"\x00\x01\x02binary" * 20,
        "bad_empty.txt": b"   \n\n",
        "bad_header.txt": " date 2025-02-30 3.69 BYN\nЗаголовок\n\nО Минске.\n".encode(),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return [folder / name for name in files]


def _print_panels() -> None:
    dashboard = json.loads((REPO / "deploy/grafana/dashboards/newsflow.json").read_text())
    for panel in dashboard["panels"]:
        print(f"\n## {panel['title']}")
        for target in panel.get("targets", []):  # a row has none
            # Every instance, as Grafana's "All" sends it.
            for series in _query(target["expr"].replace("$instance", ".*")):
                legend = target.get("legendFormat", "")
                for key, value in series["metric"].items():
                    legend = legend.replace("{{" + key + "}}", value)
                number = float(series["value"][1])
                print(f"   {legend or series['metric']!s:<40} {number:>12.4g}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    args = parser.parse_args()
    if shutil.which("prometheus") is None:
        print("needs the prometheus binary: apt-get install prometheus")
        return 2
    # A SIGTERM (e.g. from `timeout`) must still stop the workers and Prometheus in `finally`.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ["NEWSFLOW_REDIS_URL"] = args.redis_url
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    workdir = Path(tempfile.mkdtemp(prefix="newsflow-dashboard-"))
    env = {
        **os.environ,
        "NEWSFLOW_INDEX_URL": str(workdir / "index.db"),
        "NEWSFLOW_LOG_LEVEL": "WARNING",
        "NEWSFLOW_LOG_FORMAT": "json",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    processes = [
        _start(
            [NEWSFLOW, "worker", stage, "--concurrency", "2", "--metrics-port", str(port)],
            env,
            workdir / f"{stage}.log",
        )
        for stage, port in PORTS.items()
    ]
    try:
        for port in PORTS.values():
            _wait_http(f"http://127.0.0.1:{port}/metrics")
        processes.append(
            _start(
                [
                    "prometheus",
                    f"--config.file={_prometheus_config(workdir)}",
                    f"--storage.tsdb.path={workdir / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{PROMETHEUS_PORT}",
                ],
                env,
                workdir / "prometheus.log",
            )
        )
        _wait_http(f"http://127.0.0.1:{PROMETHEUS_PORT}/-/ready")
        # Work done before Prometheus's first scrape of a worker would never show in rate():
        # wait until every worker has been scraped twice.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            scraped = _query('count_over_time(up{job=~"newsflow-.*"}[1m]) >= 2')
            if len(scraped) == len(PORTS):
                break
            time.sleep(0.5)
        corpus = workdir / "corpus"
        corpus.mkdir()
        files = write_documents(args.docs, corpus, 7)
        files += [shutil.copy(files[i], corpus / f"copy_{i}.txt") for i in range(10)]
        files += _bad_files(corpus)
        started = time.monotonic()
        submitted = subprocess.run(
            [NEWSFLOW, "submit", "--wait", "--json", "--timeout", "300", *map(str, files)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        outcomes = [json.loads(line) for line in submitted.stdout.splitlines() if line]
        elapsed = time.monotonic() - started
        states: dict[str, int] = {}
        for outcome in outcomes:
            key = outcome["state"] + (f":{outcome['reason']}" if outcome.get("reason") else "")
            states[key] = states.get(key, 0) + 1
        print(f"# {len(files)} files through the pipeline in {elapsed:.1f}s: {states}")
        time.sleep(5)  # a few more scrapes and rule evaluations after the last document
        _print_panels()
        print("\n## Alerts")
        for rule in _query("ALERTS"):
            print(f"   {rule['metric']['alertname']}: {rule['metric']['alertstate']}")
        print("   (no alert pending or firing)" if not _query("ALERTS") else "")
    finally:
        _stop(processes)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
