"""Pipeline throughput: the in-process path against the Redis pipeline with real workers.

What it measures, on N unique documents made by varying the files in ``seeds/``:

1. **in-process docs/s**: ``newsflow.local.process_file`` (the very stage functions
   ``newsflow run`` calls) in one process, with a fresh SQLite index in a temp folder serving as
   both the dedupe claims and the index. The language models are loaded on a warm-up pass over
   the seeds first, so the figure is steady-state work per document.
2. **Redis end-to-end docs/s**: three real ``newsflow worker ingest|enrich|index`` processes on
   this machine, on a dedicated Redis database (flushed first) and a temp SQLite index. After
   the workers answer a ping and a warm-up (each seed submitted alone and awaited, which also
   gives the idle latency), all N files are submitted in one go with
   ``services.ingest.intake.submit_path``; the clock runs from the first submit to the last
   receipt turning final (its ``updated_at``), so polling cadence does not count.

How to read the figures:

- ``ratio`` is in-process docs/s divided by Redis docs/s: what the queues, JSON messages, three
  hops through Redis and receipt writes cost on this machine. The workers, this script and Redis
  share the same CPUs, so on a small machine the Redis figure is a floor, not what a deployment
  with a core per worker would reach.
- ``ms/doc`` is 1 / throughput: the CPU-and-wait cost of one document at full load.
- ``idle latency`` is submit-to-final for one document with nothing else queued.
- ``batch latency`` p50/p95 is submit-to-final inside the big batch; it is mostly time spent
  waiting in the queue behind the documents submitted before it, so it grows with N.
- Every document should end ``indexed``; any duplicate or dead letter means the generator or the
  pipeline is wrong, and the script exits 1 (it never judges the timings).

Run ``python bench/pipeline.py --help`` for the options; ``make bench`` runs the default.
"""

# Newsflow modules are imported inside functions on purpose: main() sets NEWSFLOW_REDIS_URL from
# --redis-url first, and load_settings() reads (and caches) the environment once.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis import Redis

    from services.ingest.intake import Intake
    from shared.receipts import ReceiptStatus

REPO = Path(__file__).resolve().parent.parent
# One BLAS thread, before numpy is imported, as `newsflow worker` gives each worker: the
# in-process figure must be the same arithmetic (unpinned, the tagger's threads fought the
# workers' and each other for the cores, 4 docs/s instead of tens).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
SEEDS = REPO / "seeds"
sys.path.insert(0, str(REPO))  # for bench.procmem when run as a script
NEWSFLOW = str(Path(sys.executable).with_name("newsflow"))
STAGES = ("ingest", "enrich", "index")  # as in shared.stages; importing it would read settings
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
POLL_INTERVAL_S = 0.2

# The header some sources put first: ``date YYYY-MM-DD <rate> <CUR>`` (services/ingest/header.py).
HEADER = re.compile(r"date (\d{4}-\d{2}-\d{2}) (\d+(?:[.,]\d+)?) ([A-Z]{3})")
# A sentence ends at . ! ? followed by a space and a capital letter (Latin or Cyrillic).
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜА-ЯЁІЎЄЇ])")
QUOTES = "\"«»„“”'"
TRAILER_MAX_CHARS = 60

MONTHS = {
    "ru": (
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ),
    "de": (
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


# ---------------------------------------------------------------------------------------------
# Documents


@dataclass(frozen=True)
class Seed:
    name: str
    language: str  # only picks the language of the added update line
    header: tuple[date, float, str] | None
    title: str
    body: tuple[str, ...]
    tail: tuple[str, ...]  # calls to action at the end; they stay last, where sites put them
    repeated: bool  # the scraper printed the body twice (seed 001 does)
    separator: str


def guess_language(text: str) -> str:
    if re.search("[а-яё]", text, re.IGNORECASE):
        return "ru"
    return "de" if re.search("[äöüß]", text, re.IGNORECASE) else "en"


def read_seed(path: Path) -> Seed:
    text = path.read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    header = None
    if match := HEADER.fullmatch(lines[0]):
        header = (date.fromisoformat(match[1]), float(match[2].replace(",", ".")), match[3])
        lines = lines[1:]
    title, body = lines[0], lines[1:]
    tail: list[str] = []
    while len(body) > 2 and len(body[-1]) <= TRAILER_MAX_CHARS:
        tail.insert(0, body.pop())
    unique = list(dict.fromkeys(body))
    return Seed(
        name=path.stem,
        language=guess_language(text),
        header=header,
        title=title,
        body=tuple(unique),
        tail=tuple(tail),
        repeated=len(unique) < len(body),
        separator="\n\n" if "\n\n" in text.strip() else "\n",
    )


def update_line(language: str, when: date, rng: random.Random, number: int) -> str:
    """A dated update note with a revision number: what makes every variant unique."""
    hour, minute = rng.randint(7, 22), rng.randrange(60)
    month = MONTHS[language][when.month - 1]
    if language == "ru":
        return (
            f"Материал обновлён {when.day} {month} {when.year} года в {hour:02d}:{minute:02d}, "
            f"редакция № {number}."
        )
    if language == "de":
        return (
            f"Aktualisiert am {when.day}. {month} {when.year} um {hour:02d}:{minute:02d} Uhr, "
            f"Fassung Nr. {number}."
        )
    return (
        f"Updated on {month} {when.day}, {when.year} at {hour:02d}:{minute:02d}, revision {number}."
    )


def drop_a_sentence(paragraphs: list[str], rng: random.Random) -> None:
    """Drop one non-lead sentence from a paragraph without quotes (so no quote is cut in half)."""
    candidates = [
        i
        for i, text in enumerate(paragraphs)
        if not any(q in text for q in QUOTES) and len(SENTENCE_END.split(text)) >= 3
    ]
    if candidates:
        i = rng.choice(candidates)
        sentences = SENTENCE_END.split(paragraphs[i])
        del sentences[rng.randrange(1, len(sentences))]
        paragraphs[i] = " ".join(sentences)


def make_variant(seed: Seed, number: int, rng: random.Random) -> str:
    body = list(seed.body)
    # The lead paragraph stays first, as an editor would keep it.
    if len(body) >= 4 and rng.random() < 0.5:
        j = rng.randrange(1, len(body) - 1)
        body[j], body[j + 1] = body[j + 1], body[j]
    if len(body) >= 4 and rng.random() < 0.3:
        del body[rng.randrange(1, len(body))]
    if rng.random() < 0.5:
        drop_a_sentence(body, rng)
    if seed.repeated:
        body += body
    lines = []
    when = date(2025, 10, 1) + timedelta(days=rng.randint(-60, 30))
    if seed.header:
        published, rate, currency = seed.header
        when = published + timedelta(days=rng.randint(-30, 30))
        lines.append(f"date {when.isoformat()} {rate * rng.uniform(0.98, 1.02):.2f} {currency}")
    lines += [seed.title, *body, update_line(seed.language, when, rng, number), *seed.tail]
    return seed.separator.join(lines) + "\n"


def write_documents(count: int, folder: Path, random_seed: int) -> list[Path]:
    seeds = [read_seed(path) for path in sorted(SEEDS.glob("*.txt"))]
    if not seeds:
        raise SystemExit(f"no seed files in {SEEDS}")
    rng = random.Random(random_seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths, texts = [], set()
    for i in range(count):
        seed = seeds[i % len(seeds)]
        text = make_variant(seed, i + 1, rng)
        texts.add(text)
        path = folder / f"{i:05d}_{seed.name}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    if len(texts) != count:  # the revision number makes this impossible; say so if it happens
        raise SystemExit(f"generator made {count - len(texts)} exact duplicates")
    return paths


# ---------------------------------------------------------------------------------------------
# 1. In-process


def bench_in_process(paths: list[Path], workdir: Path) -> dict[str, Any]:
    from newsflow.local import local_stores, process_file
    from services.index.sqlite import SqliteIndex
    from shared.logging import configure_logging
    from shared.settings import load_settings

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    with SqliteIndex(":memory:") as warm:  # loads the language models outside the clock
        for seed in sorted(SEEDS.glob("*.txt")):
            process_file(seed, settings, local_stores(), warm)
    # The claims in memory: the index no longer holds them, and `newsflow run`'s SQLite file
    # commits each claim on its own (a disk sync per document: it measured the disk, 3.5
    # docs/s on this machine, not the pipeline).
    with SqliteIndex(workdir / "inprocess.db") as index:
        start, cpu_start = time.perf_counter(), time.process_time()
        stores = local_stores()
        outcomes = Counter(process_file(path, settings, stores, index).outcome for path in paths)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        in_index = index.count()
    return {
        "seconds": elapsed,
        "docs_per_s": len(paths) / elapsed,
        "ms_per_doc": 1000 * elapsed / len(paths),
        "cpu_ms_per_doc": 1000 * cpu / len(paths),
        "outcomes": dict(outcomes),
        "in_index": in_index,
    }


# ---------------------------------------------------------------------------------------------
# 2. Redis end to end


@dataclass
class Workers:
    processes: dict[str, subprocess.Popen[bytes]]
    logs: dict[str, Path]

    def tail(self, stage: str, chars: int = 2000) -> str:
        return self.logs[stage].read_text(encoding="utf-8", errors="replace")[-chars:]


def start_workers(
    env: dict[str, str],
    workdir: Path,
    concurrency: int | Mapping[str, int],
    stages: tuple[str, ...] = STAGES,
) -> Workers:
    """Start one ``newsflow worker`` process per stage, each logging to ``workdir/<stage>.log``,
    with ``concurrency`` prefork children (one number for all, or one per stage)."""
    workers = Workers({}, {stage: workdir / f"{stage}.log" for stage in stages})
    for stage in stages:
        children = concurrency if isinstance(concurrency, int) else concurrency[stage]
        with workers.logs[stage].open("wb") as log:
            workers.processes[stage] = subprocess.Popen(
                [
                    NEWSFLOW,
                    "worker",
                    stage,
                    "--concurrency",
                    str(children),
                    "--metrics-port",
                    "0",
                ],
                env=env,
                cwd=workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so SIGTERM reaches the children
            )
    return workers


def wait_ready(workers: Workers) -> None:
    """Ready when the log says `` ready.`` or the worker answers a control ping.

    Celery logs ``<name> ready.`` at INFO, which NEWSFLOW_LOG_LEVEL=WARNING hides (and INFO
    would add a log line per document per stage to the figures), so the ping is what usually
    answers; it is handled by the same consumer that takes tasks, after the task queue is bound.
    """
    from shared.celery_app import make_celery
    from shared.settings import load_settings

    app = make_celery(load_settings())

    waiting = set(workers.processes)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while waiting:
        for stage in sorted(waiting):
            if workers.processes[stage].poll() is not None:
                raise RuntimeError(f"{stage} worker exited at start:\n{workers.tail(stage)}")
        if time.monotonic() > deadline:
            late = ", ".join(sorted(waiting))
            raise RuntimeError(f"not ready after {READY_TIMEOUT_S:.0f}s: {late}")
        waiting -= {stage for stage in waiting if " ready." in workers.tail(stage, 100_000)}
        for reply in app.control.ping(timeout=0.5) or []:
            waiting -= {name.split("@", 1)[0].rsplit("-", 1)[0] for name in reply}


def stop_workers(workers: Workers) -> None:
    for process in workers.processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in workers.processes.values():
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def warm_up(intake: Intake) -> list[float]:
    """Each seed alone, awaited: loads the models in the worker children; the later seeds
    (models loaded) give the latency of one document through an idle pipeline, in ms."""
    from services.ingest.intake import submit_path
    from shared.receipts import read_status

    latencies = []
    for seed in sorted(SEEDS.glob("*.txt")):
        started = time.time()
        receipt = submit_path(intake, seed).receipt
        status = None
        while status is None or not status.final:
            if time.time() - started > READY_TIMEOUT_S:
                raise RuntimeError(f"warm-up document {seed.name} not done in time")
            time.sleep(0.005)
            status = read_status(intake.client, receipt)
        latencies.append(1000 * (status.updated_at.timestamp() - started))
    return latencies


def wait_final(
    client: Redis, receipts: list[str], workers: Workers, timeout: float
) -> tuple[dict[str, ReceiptStatus], list[str]]:
    """The final statuses, and the receipts still pending when ``timeout`` ran out."""
    from shared.receipts import read_status

    final: dict[str, ReceiptStatus] = {}
    pending = list(receipts)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        if not all(process.poll() is None for process in workers.processes.values()):
            raise RuntimeError("a worker died during the run")
        # Oldest first, stopping at the first unfinished one: cheap on a loaded machine, and
        # exact anyway, since the end time is read from the receipts, not from this loop.
        while pending:
            status = read_status(client, pending[0])
            if status is None or not status.final:
                break
            final[pending.pop(0)] = status
        if pending:
            time.sleep(POLL_INTERVAL_S)
    return final, pending


def bench_redis(
    paths: list[Path], workdir: Path, concurrency: Mapping[str, int], timeout: float
) -> dict[str, Any]:
    from services.index.sqlite import SqliteIndex
    from services.ingest.intake import Intake, submit_path
    from shared.settings import load_settings

    settings = load_settings()
    intake = Intake.connect(settings)
    client = intake.client
    client.flushdb()
    if settings.broker_url:
        purge_queues(intake)
    env = {**os.environ, "NEWSFLOW_INDEX_URL": str(workdir / "redis-index.db")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    workers = start_workers(env, workdir, concurrency)
    try:
        wait_ready(workers)
        idle_ms = warm_up(intake)
        memory_warm = workers_memory(workers)
        cpu_before = workers_cpu(workers, client)
        submitted: list[tuple[str, float]] = []
        start, submit_cpu = time.time(), time.process_time()
        for path in paths:
            submitted.append((submit_path(intake, path).receipt, time.time()))
        submit_seconds = time.time() - start
        submit_cpu = time.process_time() - submit_cpu
        final, pending = wait_final(client, [r for r, _ in submitted], workers, timeout)
        cpu_after = workers_cpu(workers, client)
        memory_after = workers_memory(workers)
    finally:
        stop_workers(workers)
    cpu_ms = {name: 1000 * (cpu_after[name] - cpu_before[name]) / len(paths) for name in cpu_before}
    cpu_ms["submit"] = 1000 * submit_cpu / len(paths)

    with SqliteIndex(workdir / "redis-index.db") as index:
        in_index = index.count()
    outcomes = Counter(status.state for status in final.values())
    if pending:
        outcomes["timed_out"] = len(pending)
    done = [
        (1000 * (final[receipt].updated_at.timestamp() - sent))
        for receipt, sent in submitted
        if receipt in final
    ]
    last = max((status.updated_at.timestamp() for status in final.values()), default=start)
    elapsed = last - start
    return {
        "seconds": elapsed,
        "docs_per_s": len(final) / elapsed if elapsed > 0 else 0.0,
        "ms_per_doc": 1000 * elapsed / len(final) if final else None,
        "submit_seconds": submit_seconds,
        "idle_latency_ms": statistics.median(idle_ms[1:] or idle_ms),  # first one loads models
        "batch_latency_p50_ms": statistics.median(done) if done else None,
        "batch_latency_p95_ms": statistics.quantiles(done, n=20)[18] if len(done) >= 2 else None,
        "outcomes": dict(outcomes),
        "in_index": in_index - len(idle_ms),  # the warm-up seeds are in it too
        "memory_mb": {"warm": memory_warm, "after_batch": memory_after},
        "cpu_ms_per_doc": cpu_ms,
    }


def workers_cpu(workers: Workers, client: Redis) -> dict[str, float]:
    """CPU seconds used so far by each stage's worker (parent and children), and by the Redis
    server (all of its clients: on a shared Redis, not only this run's)."""
    from bench.procmem import cpu_seconds

    figures = {stage: cpu_seconds(process.pid) for stage, process in workers.processes.items()}
    info = client.info("cpu")
    figures["redis_server"] = float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
    return figures


def workers_memory(workers: Workers) -> dict[str, dict[str, float]]:
    """RSS and PSS of each stage's worker (its parent and prefork children together), in MB."""
    from bench.procmem import worker_memory

    figures = {}
    for stage, process in workers.processes.items():
        tree = worker_memory(process.pid)
        figures[stage] = {"rss": tree["total_rss"], "pss": tree["total_pss"]}
    return figures


# ---------------------------------------------------------------------------------------------
# Report


def use_servers(redis_url: str, broker_url: str | None) -> None:
    """Point the workers and this process at the bench's Redis (and broker), quietly. Called
    before any newsflow import: load_settings() reads the environment once and caches it."""
    os.environ.update(
        {
            "NEWSFLOW_REDIS_URL": redis_url,
            "NEWSFLOW_LOG_LEVEL": "WARNING",
            "NEWSFLOW_LOG_FORMAT": "json",
            "NEWSFLOW_METRICS_PORT": "0",
        }
    )
    if broker_url:
        os.environ["NEWSFLOW_BROKER_URL"] = broker_url


def stage_counts(text: str) -> dict[str, int]:
    """``--concurrency``: ``2`` (every stage) or ``ingest=1,enrich=2`` (the rest 1)."""
    try:
        if "=" not in text:
            counts = dict.fromkeys(STAGES, int(text))
        else:
            counts = dict.fromkeys(STAGES, 1)
            for part in text.split(","):
                stage, _, number = part.partition("=")
                if stage.strip() not in STAGES:
                    raise ValueError(f"no stage {stage.strip()!r}")
                counts[stage.strip()] = int(number)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {error}") from None
    if min(counts.values()) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: at least 1 process per stage")
    return counts


def worker_defaults() -> dict[str, int]:
    """The children ``newsflow worker`` starts per stage when not told (an enrich child per
    core, one ingest and one index child)."""
    from newsflow.cli import default_concurrency

    return {stage: default_concurrency(stage) for stage in STAGES}


def batch_size(stage: str) -> int:
    from shared.settings import load_settings

    size, _ = load_settings().batching(stage)
    return size


def git_commit() -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        head = subprocess.run(
            [git, "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            [git, "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{head}+dirty" if dirty else head


def purge_queues(intake: Intake) -> None:
    """Empty the stage queues of a broker other than the flushed Redis (declared as the workers
    declare them), so an earlier run's leftovers do not count."""
    from shared.celery_app import stage_queues

    with intake.publisher.app.connection_for_write() as connection:
        for queue in stage_queues(intake.settings):
            bound = queue(connection.default_channel)
            bound.declare()
            bound.purge()


def print_report(figures: dict[str, Any]) -> None:
    local, remote = figures["in_process"], figures.get("redis")
    print(
        f"newsflow pipeline bench  commit {figures['commit'] or 'unknown'}  "
        f"{figures['cpus']} CPUs  worker concurrency "
        + " ".join(f"{stage} {n}" for stage, n in figures["concurrency"].items())
    )
    print(f"documents                {figures['docs']}  broker {figures['broker']}")
    batches = figures["batches"]
    print("batch size               " + "  ".join(f"{st} {n}" for st, n in batches.items()))
    print(
        f"in-process               {local['docs_per_s']:8.1f} docs/s  "
        f"{local['ms_per_doc']:7.2f} ms/doc  ({local['seconds']:.1f} s)  {local['outcomes']}"
    )
    if remote is None:
        print("redis end-to-end         skipped")
        return
    print(
        f"redis end-to-end         {remote['docs_per_s']:8.1f} docs/s  "
        f"{remote['ms_per_doc']:7.2f} ms/doc  ({remote['seconds']:.1f} s; submitting took "
        f"{remote['submit_seconds']:.1f} s)  {remote['outcomes']}"
    )
    print(f"ratio in-process / redis {figures['ratio']:8.2f}x")
    print(f"end-to-end / in-process  {1 / figures['ratio']:8.2f}x")
    cpu = remote["cpu_ms_per_doc"]
    stages = sum(cpu[stage] for stage in STAGES)
    print(
        "CPU ms per document      in-process "
        f"{local['cpu_ms_per_doc']:.2f}; end to end {stages:.2f} in the workers ("
        + ", ".join(f"{stage} {cpu[stage]:.2f}" for stage in STAGES)
        + f"), submitting {cpu['submit']:.2f}, Redis server {cpu['redis_server']:.2f} "
        "(all its clients)"
    )
    print(
        f"redis latency            idle {remote['idle_latency_ms']:.0f} ms; in the batch "
        f"p50 {remote['batch_latency_p50_ms']:.0f} ms, "
        f"p95 {remote['batch_latency_p95_ms']:.0f} ms (mostly queueing)"
    )
    for moment, label in (("warm", "after the warm-up"), ("after_batch", "after the batch")):
        per_stage = remote["memory_mb"][moment]
        line = "  ".join(
            f"{stage} {m['pss']:.0f}/{m['rss']:.0f}" for stage, m in sorted(per_stage.items())
        )
        print(f"worker PSS/RSS MB {label:16} {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--docs", type=int, default=2000, help="unique documents to generate")
    parser.add_argument(
        "--concurrency",
        type=stage_counts,
        default=None,
        help="prefork processes per worker (three workers): one number for all, or per stage "
        "as ingest=1,enrich=2,index=1 (a stage not named gets 1); by default what `newsflow "
        "worker` starts (an enrich child per core, one ingest and one index child)",
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/11",
        help="Redis for the workers; its database is FLUSHED first, so give a dedicated one",
    )
    parser.add_argument(
        "--broker-url",
        default=None,
        help="the broker between the stages, if not the Redis above (e.g. amqp://.../vhost; "
        "its stage queues are purged first)",
    )
    parser.add_argument("--skip-redis", action="store_true", help="only the in-process figure")
    parser.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="seconds to wait for the Redis pipeline to finish the batch",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of the document generator")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    if args.docs < 1:
        parser.error("--docs must be at least 1")
    if not args.skip_redis:
        import redis  # not a newsflow module: safe before the environment is set

        pool = redis.Redis.from_url(args.redis_url).connection_pool
        if pool.connection_kwargs.get("db", 0) == 0:
            parser.error("refusing to flush database 0; give a dedicated database such as /11")

    # Before any newsflow import: load_settings() reads the environment once and caches it.
    use_servers(args.redis_url, args.broker_url)

    from shared.redact import redact_url  # reads nothing: safe before the environment is set

    args.concurrency = args.concurrency or worker_defaults()
    figures: dict[str, Any] = {
        "docs": args.docs,
        "concurrency": args.concurrency,
        "cpus": os.cpu_count(),
        "commit": git_commit(),
        "redis_url": None if args.skip_redis else redact_url(args.redis_url),
        "broker": redact_url(args.broker_url or args.redis_url),
        # Batch consumption (shared/batches.py) as the workers read it from their settings.
        "batches": {stage: batch_size(stage) for stage in STAGES},
    }
    with tempfile.TemporaryDirectory(prefix="newsflow-bench-") as tmp:
        workdir = Path(tmp)
        paths = write_documents(args.docs, workdir / "docs", args.seed)
        print(f"{len(paths)} documents in {workdir / 'docs'}; in-process run...", file=sys.stderr)
        figures["in_process"] = bench_in_process(paths, workdir)
        if not args.skip_redis:
            print(
                f"redis run ({figures['redis_url']}, 3 workers, children {args.concurrency})...",
                file=sys.stderr,
            )
            figures["redis"] = bench_redis(paths, workdir, args.concurrency, args.timeout)
            redis_rate = figures["redis"]["docs_per_s"]
            local_rate = figures["in_process"]["docs_per_s"]
            figures["ratio"] = local_rate / redis_rate if redis_rate else None

    if args.json:
        print(json.dumps(figures, default=str))
    else:
        print_report(figures)
    runs = [figures["in_process"], *([figures["redis"]] if "redis" in figures else [])]
    not_indexed = [run["outcomes"] for run in runs if run["outcomes"] != {"indexed": args.docs}]
    if not_indexed:
        print(f"not every document was indexed: {not_indexed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
