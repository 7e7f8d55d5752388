"""End-to-end latency under a steady load: submit to indexed, through the three real workers.

1. Start one ``newsflow worker`` per stage on a dedicated Redis database (flushed first) with a
   temp SQLite index, wait for them, and warm them up (each seed alone, awaited).
2. Find the maximum: a burst of ``--burst`` unique documents submitted at once; the maximum is
   how many per second the pipeline finished (first submit to last receipt final). Skipped when
   ``--max-rate`` gives it.
3. Offer ``--load`` (default 0.5) of that maximum for ``--duration`` seconds (default 120): one
   document every 1/rate seconds on a fixed schedule (a late submit does not shift the ones after
   it, so a stall shows as latency, not as a lower offered rate).
4. Latency of each document = its receipt's final ``updated_at`` (written by the worker that
   finished it) minus the moment it was submitted; printed as p50/p95/p99/max.

The workers, Redis and this script share the machine's CPUs. This script only prints figures; it
never judges them. It exits 1 only when a document did not end ``indexed`` (the generator or the
pipeline is wrong then).
"""

# Newsflow modules are imported inside functions on purpose: main() sets NEWSFLOW_REDIS_URL from
# --redis-url first, and load_settings() reads (and caches) the environment once.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for bench.pipeline when run as a script
from bench.pipeline import (  # noqa: E402  # needs the path above
    git_commit,
    stage_counts,
    start_workers,
    stop_workers,
    use_servers,
    wait_final,
    wait_ready,
    warm_up,
    worker_defaults,
    workers_memory,
    write_documents,
)

if TYPE_CHECKING:
    from services.ingest.intake import Intake

STAGES_SETTLE_S = 2.0  # between the burst and the steady run: the queues drain, the pool idles


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(share * len(ordered))))
    return ordered[rank - 1]


def burst_rate(intake: Intake, paths: list[Path], workers: Any, timeout: float) -> float:
    """Documents per second the pipeline finishes when ``paths`` are all submitted at once."""
    from services.ingest.intake import submit_path

    start = time.time()
    receipts = [submit_path(intake, path).receipt for path in paths]
    final, pending = wait_final(intake.client, receipts, workers, timeout)
    if pending:
        raise RuntimeError(f"{len(pending)} burst documents not final after {timeout:.0f}s")
    last = max(status.updated_at.timestamp() for status in final.values())
    return len(final) / (last - start)


def steady_run(
    intake: Intake, paths: list[Path], rate: float, workers: Any, timeout: float
) -> dict[str, Any]:
    """Submit ``paths`` at ``rate`` per second on a fixed schedule; latencies in ms."""
    from services.ingest.intake import submit_path

    interval = 1.0 / rate
    submitted: list[tuple[str, float]] = []
    start = time.monotonic()
    wall_start = time.time()
    lag = []
    for number, path in enumerate(paths):
        due = start + number * interval
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        lag.append(max(0.0, time.monotonic() - due))
        submitted.append((submit_path(intake, path).receipt, time.time()))
    offered_seconds = time.time() - wall_start
    final, pending = wait_final(intake.client, [r for r, _ in submitted], workers, timeout)
    latencies = [
        1000 * (final[receipt].updated_at.timestamp() - sent)
        for receipt, sent in submitted
        if receipt in final
    ]
    outcomes = Counter(status.state for status in final.values())
    if pending:
        outcomes["timed_out"] = len(pending)
    return {
        "docs": len(paths),
        "offered_per_s": rate,
        "achieved_submit_per_s": len(paths) / offered_seconds,
        "submit_lag_p99_ms": 1000 * percentile(lag, 0.99),
        "latency_ms": {
            "p50": statistics.median(latencies),
            "p95": percentile(latencies, 0.95),
            "p99": percentile(latencies, 0.99),
            "max": max(latencies),
            "mean": statistics.fmean(latencies),
        },
        "outcomes": dict(outcomes),
    }


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from services.ingest.intake import Intake
    from shared.settings import load_settings

    settings = load_settings()
    intake = Intake.connect(settings)
    intake.client.flushdb()
    env = {**os.environ, "NEWSFLOW_INDEX_URL": str(workdir / "index.db")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    figures: dict[str, Any] = {}
    workers = start_workers(env, workdir, args.concurrency)
    try:
        wait_ready(workers)
        figures["idle_latency_ms"] = statistics.median(warm_up(intake)[1:])
        if args.max_rate:
            figures["max_per_s"] = args.max_rate
            figures["max_measured"] = False
        else:
            burst = write_documents(args.burst, workdir / "burst", args.seed + 1)
            print(f"burst of {len(burst)} documents...", file=sys.stderr)
            figures["max_per_s"] = burst_rate(intake, burst, workers, args.timeout)
            figures["max_measured"] = True
            time.sleep(STAGES_SETTLE_S)
        rate = args.load * figures["max_per_s"]
        count = max(1, round(rate * args.duration))
        steady = write_documents(count, workdir / "steady", args.seed)
        print(
            f"steady load: {rate:.1f} docs/s for {args.duration:.0f} s ({count} documents)...",
            file=sys.stderr,
        )
        figures["steady"] = steady_run(intake, steady, rate, workers, args.timeout)
        figures["memory_mb"] = workers_memory(workers)
    finally:
        stop_workers(workers)
    return figures


def print_report(figures: dict[str, Any]) -> None:
    steady = figures["steady"]
    latency = steady["latency_ms"]
    how = "measured by a burst" if figures["max_measured"] else "given"
    print(
        f"newsflow latency bench  commit {figures['commit'] or 'unknown'}  {figures['cpus']} CPUs  "
        "worker concurrency "
        + " ".join(f"{stage} {n}" for stage, n in figures["concurrency"].items())
        + f"  broker {figures['broker']}"
    )
    print(f"idle latency            {figures['idle_latency_ms']:8.0f} ms (one document alone)")
    print(f"maximum                 {figures['max_per_s']:8.1f} docs/s ({how})")
    print(
        f"offered                 {steady['offered_per_s']:8.1f} docs/s "
        f"({figures['load']:.0%} of the maximum) for {figures['duration']:.0f} s, "
        f"{steady['docs']} documents; submitted at {steady['achieved_submit_per_s']:.1f}/s "
        f"(p99 lag behind schedule {steady['submit_lag_p99_ms']:.0f} ms)"
    )
    print(
        f"end-to-end latency      p50 {latency['p50']:.0f} ms  p95 {latency['p95']:.0f} ms  "
        f"p99 {latency['p99']:.0f} ms  max {latency['max']:.0f} ms  {steady['outcomes']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of steady load")
    parser.add_argument("--load", type=float, default=0.5, help="share of the maximum to offer")
    parser.add_argument("--max-rate", type=float, default=None, help="docs/s; skips the burst")
    parser.add_argument("--burst", type=int, default=600, help="documents in the burst")
    parser.add_argument(
        "--concurrency",
        type=stage_counts,
        default=None,
        help="prefork processes per stage: one number for all, or ingest=1,enrich=2,index=1; by "
        "default what `newsflow worker` starts (an enrich child per core, one ingest and index)",
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/12",
        help="Redis for the workers; its database is FLUSHED first, so give a dedicated one",
    )
    parser.add_argument("--broker-url", default=None, help="the broker, if not the Redis above")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for a run")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the generator")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if not 0 < args.load <= 1 or args.duration <= 0:
        parser.error("--load must be in (0, 1] and --duration positive")
    import redis  # not a newsflow module: safe before the environment is set

    if redis.Redis.from_url(args.redis_url).connection_pool.connection_kwargs.get("db", 0) == 0:
        parser.error("refusing to flush database 0; give a dedicated database such as /12")
    # Before any newsflow import: load_settings() reads the environment once and caches it.
    use_servers(args.redis_url, args.broker_url)
    from shared.redact import redact_url

    args.concurrency = args.concurrency or worker_defaults()

    with tempfile.TemporaryDirectory(prefix="newsflow-latency-") as tmp:
        figures = run(args, Path(tmp))
    figures |= {
        "commit": git_commit(),
        "cpus": os.cpu_count(),
        "concurrency": args.concurrency,
        "load": args.load,
        "duration": args.duration,
        "broker": redact_url(args.broker_url or args.redis_url),
    }
    if args.json:
        print(json.dumps(figures, default=str))
    else:
        print_report(figures)
    outcomes = figures["steady"]["outcomes"]
    return 0 if outcomes == {"indexed": figures["steady"]["docs"]} else 1


if __name__ == "__main__":
    sys.exit(main())
