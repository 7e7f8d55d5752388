"""Enrich speed: docs/s per core with every enricher on, the cost of each, and worker memory.

Issue 3's "Speed" section: all enrichers on, one process, on the seeds-derived benchmark corpus
(``bench.pipeline.write_documents``: N unique variants of the files in ``seeds/``). Aim:
>= 100 docs/s per core. This script only prints figures; it never judges them.

What it does, in order:

1. **Setup, outside the clock.** Pins this process to one CPU (``sched_setaffinity``) with
   ``OPENBLAS_NUM_THREADS=1``/``OMP_NUM_THREADS=1`` set before numpy or Natasha are imported,
   so every figure is one core's. Writes N documents and parses them once with ``parse_raw``.
2. **Load.** ``entities.load_models()`` (Natasha, pymorphy2, the gazetteer), timed; then a
   warm-up ``enrich_document`` of each seed, timed too: lingua loads its language models
   lazily, on the first text it scores, so that first pass holds lingua's load.
3. **Whole step.** ``enrich_document(doc, local_stores(), settings)`` over the N documents,
   best of ``--runs`` (fresh stores each run, so no run sees the previous one's documents as
   duplicates). ``docs/s`` is from the wall clock; ``docs/s (CPU)`` from this process's CPU
   time, which a busy neighbour on the same core cannot inflate. Then the same in batches of
   ``NEWSFLOW_ENRICH_BATCH_SIZE`` through ``enrich_with_stories``, as the enrich worker runs
   them (NER over a batch's texts together).
4. **Each enricher**, on the same documents, called exactly as ``enrich_document`` calls it:
   language (per paragraph, which also decides the document's language), exact-dedupe claim
   (memory store), near-duplicate (MinHash signature + memory store; the signature alone is
   shown below it), money, entities, and building the ``EnrichedDocument`` itself. Two columns:

   - ``in turn``: per document, every enricher one after the other, as the step runs them, each
     call timed. This is the cost attribution to read: the parts add up to the whole step
     (``unaccounted`` is the difference, run-to-run noise, so it can be slightly negative) and
     ``share`` is each part over the whole step.
   - ``alone``: one enricher over every document before the next. Lower than ``in turn``: its
     tables and weights stay in the CPU caches instead of being evicted by the other enrichers.
     It is the floor an enricher's own optimisation could reach, not what it costs in the step.

   Money skips its digit scan on a text without digits; the line under money says how many
   documents took that path (the generator adds a dated update line to every document, so
   expect 0). The table by detected language shows where the time goes per language (Russian
   runs Natasha's NER; the others only the gazetteer and person rules).
5. **Sizes and the anchor**: docs/s per core on the 4 KB articles above and on 1.5 KB ones (each
   document cut to its title, its first paragraphs up to 1.5 KB and its last paragraph, the
   dated update line that keeps the variants apart), for newsflow's whole step and for the
   anchor stack a newcomer would reach for, in the same run on the same documents: lingua
   restricted to the configured languages over the whole text, Natasha's ``NewsNERTagger`` and
   its ``MoneyExtractor``.
6. **Memory of this process**: peak RSS (``getrusage``) after warm-up and after the runs, and
   current RSS (``/proc/self/statm``). The peak includes the corpus and the parsed documents.
7. **Memory of a real enrich worker** (``--skip-worker`` leaves it out):
   ``newsflow worker enrich --concurrency 2`` on Redis database 4 (flushed before and after),
   started once the timed part is done and with this process's CPU pin lifted. RSS (VmRSS) of
   the Celery parent and of each prefork child, and their sum, at two points: *idle*, once the
   log says `` ready.`` and the children's RSS has stopped growing (they load the NER models in
   ``worker_process_init``); and *after warm-up*, once ``--worker-docs`` documents sent straight
   to the ``enrich`` queue are enriched (lingua's models load only then). The enriched
   documents go on to the ``index`` queue, which nobody consumes here, and are flushed away.
   RSS counts pages shared between the parent and its children once per process, so the sum
   overstates; PSS (``smaps_rollup``) splits shared pages, and its sum is what the worker
   really holds.

Run ``python bench/enrich_speed.py --help`` for the options.
"""

# Nothing from newsflow, numpy or Natasha may be imported before the environment below is set
# (BLAS reads its thread count once, when it loads; load_settings() reads the environment once),
# so those imports live inside the functions.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

REDIS_URL = "redis://127.0.0.1:6379/4"

os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"
os.environ.update(
    {
        "NEWSFLOW_REDIS_URL": REDIS_URL,
        "NEWSFLOW_LOG_LEVEL": "INFO",  # the worker's " ready." line is logged at INFO
        "NEWSFLOW_LOG_FORMAT": "json",
        "NEWSFLOW_METRICS_PORT": "0",
    }
)

if TYPE_CHECKING:
    from shared.messages import EnrichedDocument, Entity, ParsedDocument
    from shared.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
sys.path.insert(0, str(REPO))  # for bench.pipeline when run as a script; it imports nothing
from bench.procmem import children_of, memory_mb, worker_memory  # noqa: E402  # needs the path

READY_TIMEOUT_S = 60.0
SETTLE_TIMEOUT_S = 60.0
PAGE_MB = resource.getpagesize() / 2**20
_DIGIT = re.compile(r"\d")  # what money.extract_money tests before its digit scan


# ---------------------------------------------------------------------------------------------
# Corpus


def parse_files(paths: Sequence[Path]) -> list[ParsedDocument]:
    from services.ingest.parse import parse_raw

    received = datetime.now(UTC)
    return [
        parse_raw(
            path.read_bytes(),
            receipt=uuid.uuid4().hex,
            source="local",
            filename=path.name,
            received_at=received,
        )
        for path in paths
    ]


def write_corpus(count: int, folder: Path, random_seed: int) -> list[Path]:
    from bench.pipeline import write_documents

    return write_documents(count, folder, random_seed)


# ---------------------------------------------------------------------------------------------
# Timing


@dataclass
class Timing:
    seconds: float
    cpu_seconds: float
    per_doc: list[float]  # seconds, in document order


def timed(docs: Sequence[ParsedDocument], work: Callable[[ParsedDocument], object]) -> Timing:
    per_doc = []
    start, cpu_start = time.perf_counter(), time.process_time()
    for doc in docs:
        began = time.perf_counter()
        work(doc)
        per_doc.append(time.perf_counter() - began)
    return Timing(time.perf_counter() - start, time.process_time() - cpu_start, per_doc)


def best_of(
    runs: int,
    docs: Sequence[ParsedDocument],
    make_work: Callable[[], Callable[[ParsedDocument], object]],
) -> Timing:
    """The fastest of ``runs`` passes: on a shared machine it is the least disturbed one.
    ``make_work`` is called per pass, so stateful enrichers start each pass with empty stores."""
    return min((timed(docs, make_work()) for _ in range(runs)), key=lambda t: t.seconds)


def best_in_turn(
    runs: int,
    docs: Sequence[ParsedDocument],
    jobs: Sequence[tuple[str, Callable[[], Callable[[ParsedDocument], object]]]],
) -> dict[str, list[float]]:
    """Per document, each job in turn, as ``enrich_document`` runs them: seconds per job per
    document, from the pass with the smallest total. Unlike one job over every document, this
    keeps the cost each enricher pays for the others having evicted its tables and weights
    from the CPU caches, so these parts add up to the whole step."""
    best: dict[str, list[float]] = {}
    for _ in range(runs):
        works = [(name, make_work()) for name, make_work in jobs]
        spent: dict[str, list[float]] = {name: [] for name, _ in works}
        for doc in docs:
            for name, work in works:
                began = time.perf_counter()
                work(doc)
                spent[name].append(time.perf_counter() - began)
        if not best or sum(map(sum, spent.values())) < sum(map(sum, best.values())):
            best = spent
    return best


def rss_now_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE_MB


def rss_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# ---------------------------------------------------------------------------------------------
# In-process


def enrichers(
    settings: Settings, guesses: dict[str, str], found: dict[str, list[Entity]]
) -> list[tuple[str, Callable[[], Callable[[ParsedDocument], object]]]]:
    """Each enricher as ``enrich_document`` calls it, one factory per row of the report.

    ``guesses`` (document id -> detected language) feeds money and entities the language the
    whole step would give them, without timing the detection twice; ``found`` (document id ->
    entities) feeds money (with the country focus and rates) the entities it reads.
    """
    from services.enrich import dedupe, entities, language, neardup
    from services.enrich.stage import money_fields

    languages = tuple(settings.languages)
    confidence, letters = settings.language_min_confidence, settings.language_min_letters
    full_models = frozenset(settings.language_full_models)

    def profile() -> Callable[[ParsedDocument], object]:
        return lambda doc: language.language_profile(
            [doc.title, *doc.paragraphs],
            languages,
            min_confidence=confidence,
            min_letters=letters,
            full_models=full_models,
        )

    def exact() -> Callable[[ParsedDocument], object]:
        claims = dedupe.MemoryClaims()
        return lambda doc: dedupe.duplicate_of(claims, doc.id, doc.receipt)

    def near() -> Callable[[ParsedDocument], object]:
        store = neardup.MemoryNearDuplicates()
        return lambda doc: neardup.find_near_duplicate(doc.id, doc.text, store)

    def signature() -> Callable[[ParsedDocument], object]:
        return lambda doc: neardup.signature(doc.text)

    def amounts() -> Callable[[ParsedDocument], object]:
        return lambda doc: money_fields(doc, doc.text, guesses[doc.id], found[doc.id])

    def names() -> Callable[[ParsedDocument], object]:
        return lambda doc: entities.extract_entities(doc.text, language=guesses[doc.id])

    return [
        ("language (paragraphs)", profile),
        ("exact dedupe (memory)", exact),
        ("near-dup (sig + memory)", near),
        ("  of which signature", signature),
        ("money", amounts),
        ("entities", names),
    ]


def story_step(
    settings: Settings, enriched: dict[str, EnrichedDocument]
) -> Callable[[], Callable[[ParsedDocument], object]]:
    """The story step as ``enrich_document`` runs it, on the entities and money the other
    enrichers found: the signature, then the assignment in a fresh memory store per pass. The
    whole step with and without it is the before/after of adding stories."""
    from services.enrich import stories
    from services.enrich.stage import head, story_params

    params = story_params(settings)

    def make_work() -> Callable[[ParsedDocument], object]:
        store = stories.MemoryStories()

        def work(doc: ParsedDocument) -> object:
            found = enriched[doc.id]
            signature = stories.story_signature(
                head(doc.text, settings.enrich_max_chars),
                language=found.language,
                entities=found.entities,
                money=found.money,
            )
            when = stories.DocumentTime(
                published=doc.published,
                received=doc.received_at,
                precision=doc.published_precision,
            )
            return store.assign(doc.id, signature, when, params)

        return work

    return make_work


def message_builder(
    enriched: dict[str, EnrichedDocument],
) -> Callable[[], Callable[[ParsedDocument], object]]:
    """Building the ``EnrichedDocument`` from finished parts: the step's own overhead (pydantic
    validation of every field, ``model_dump`` of the parsed document)."""
    from shared.messages import EnrichedDocument, ParsedDocument

    parsed_fields = set(ParsedDocument.model_fields)
    parts = {doc_id: e.model_dump(exclude=parsed_fields) for doc_id, e in enriched.items()}
    return lambda: lambda doc: EnrichedDocument(**doc.model_dump(), **parts[doc.id])


def whole_step(settings: Settings) -> Callable[[], Callable[[ParsedDocument], object]]:
    """``enrich_document`` as ``newsflow run`` calls it, with fresh stores for each pass."""
    from newsflow.local import local_stores
    from services.enrich.stage import enrich_document

    def make_work() -> Callable[[ParsedDocument], object]:
        stores = local_stores()
        return lambda doc: enrich_document(doc, stores, settings)

    return make_work


def best_in_batches(runs: int, docs: Sequence[ParsedDocument], settings: Settings) -> Timing:
    """The whole step as the enrich worker runs it: ``enrich_with_stories`` over batches of
    ``NEWSFLOW_ENRICH_BATCH_SIZE`` documents (NER over a batch's texts together), fresh stores
    each pass, the fastest of ``runs`` passes. ``per_doc`` is each batch's time shared out."""
    from newsflow.local import local_stores
    from services.enrich.stage import enrich_with_stories

    size, _ = settings.batching("enrich")

    def one_pass() -> Timing:
        stores = local_stores()
        per_doc: list[float] = []
        start, cpu_start = time.perf_counter(), time.process_time()
        for first in range(0, len(docs), size):
            batch = docs[first : first + size]
            began = time.perf_counter()
            enrich_with_stories(batch, stores, settings)
            per_doc.extend([(time.perf_counter() - began) / len(batch)] * len(batch))
        return Timing(time.perf_counter() - start, time.process_time() - cpu_start, per_doc)

    return min((one_pass() for _ in range(runs)), key=lambda t: t.seconds)


SHORT_BYTES = 1500


def shortened(doc: ParsedDocument, limit: int = SHORT_BYTES) -> ParsedDocument:
    """The document cut to about ``limit`` bytes: its title, its first paragraphs (the one that
    crosses the limit too when that lands nearer it) and its last paragraph (the generator's
    dated update line, unique to each variant)."""
    budget = limit - len(doc.title.encode()) - len(doc.paragraphs[-1].encode())
    kept: list[str] = []
    for paragraph in doc.paragraphs[:-1]:
        size = len(paragraph.encode())
        if kept and size - budget > budget:  # over by more than it would be under
            break
        kept.append(paragraph)
        budget -= size
        if budget <= 0:
            break
    return doc.model_copy(update={"paragraphs": [*kept, doc.paragraphs[-1]]})


def text_of(doc: ParsedDocument) -> str:
    return "\n\n".join([doc.title, *doc.paragraphs])


def anchor_step(settings: Settings) -> Callable[[], Callable[[ParsedDocument], object]]:
    """The anchor stack on a document's whole text: lingua (the configured languages, high
    accuracy, as a newcomer builds it), Natasha's segmenter and NER, and its MoneyExtractor."""
    from lingua import IsoCode639_1, LanguageDetectorBuilder
    from natasha import (  # type: ignore[import-untyped]  # ships no type hints
        Doc,
        MoneyExtractor,
        MorphVocab,
        NewsEmbedding,
        NewsNERTagger,
        Segmenter,
    )

    codes = [getattr(IsoCode639_1, code.upper()) for code in settings.languages]
    detector = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()
    segmenter = Segmenter()
    ner = NewsNERTagger(NewsEmbedding())
    money = MoneyExtractor(MorphVocab())

    def work(doc: ParsedDocument) -> object:
        text = text_of(doc)
        language = detector.detect_language_of(text)
        natasha_doc = Doc(text)
        natasha_doc.segment(segmenter)
        natasha_doc.tag_ner(ner)
        return language, natasha_doc.spans, list(money(text))

    return lambda: work


def rate(timing: Timing, count: int) -> dict[str, float]:
    return {
        "docs_per_s": count / timing.seconds,
        "docs_per_s_cpu": count / timing.cpu_seconds,
        "ms_per_doc": 1000 * timing.seconds / count,
    }


def bench_sizes(
    docs: list[ParsedDocument], runs: int, settings: Settings, whole: Timing
) -> dict[str, Any]:
    """newsflow's whole step and the anchor stack on the 4 KB documents and on their 1.5 KB
    cuts, each the fastest of ``runs`` passes (the anchor's warm-up pass is not timed)."""
    anchor = anchor_step(settings)
    for doc in docs[:5]:
        anchor()(doc)  # lingua loads its models on the first text it scores
    short = [shortened(doc) for doc in docs]
    sizes: dict[str, Any] = {}
    for label, corpus in (("4 KB", docs), ("1.5 KB", short)):
        own = whole if corpus is docs else best_of(runs, corpus, whole_step(settings))
        sizes[label] = {
            "mean_bytes": sum(len(text_of(d).encode()) for d in corpus) / len(corpus),
            "newsflow": rate(own, len(corpus)),
            "anchor": rate(best_of(runs, corpus, anchor), len(corpus)),
        }
    return sizes


def bench_in_process(docs: list[ParsedDocument], runs: int) -> dict[str, Any]:
    started = time.perf_counter()
    from newsflow.local import local_stores
    from services.enrich import entities
    from services.enrich.stage import enrich_document
    from shared.settings import load_settings

    imported = time.perf_counter()
    entities.load_models()
    loaded = time.perf_counter()
    settings = load_settings()
    seeds = parse_files(sorted(SEEDS.glob("*.txt")))
    warm_stores = local_stores()
    for seed in seeds:
        enrich_document(seed, warm_stores, settings)
    warmed = time.perf_counter()
    figures: dict[str, Any] = {
        "load": {
            "imports_s": imported - started,
            "entities_load_models_s": loaded - imported,
            "warm_up_s": warmed - loaded,
            "warm_up_docs": len(seeds),
        },
        "rss_after_warm_up_mb": {"peak": rss_peak_mb(), "now": rss_now_mb()},
    }

    stores = local_stores()
    enriched = {doc.id: enrich_document(doc, stores, settings) for doc in docs}
    guesses = {doc_id: e.language for doc_id, e in enriched.items()}
    whole = best_of(runs, docs, whole_step(settings))
    whole_ms = 1000 * whole.seconds / len(docs)
    figures["whole"] = {
        "seconds": whole.seconds,
        "cpu_seconds": whole.cpu_seconds,
        "docs_per_s": len(docs) / whole.seconds,
        "docs_per_s_cpu": len(docs) / whole.cpu_seconds,
        "ms_per_doc": whole_ms,
    }

    batched = best_in_batches(runs, docs, settings)
    figures["batched"] = {
        "batch_size": settings.batching("enrich")[0],
        "seconds": batched.seconds,
        "cpu_seconds": batched.cpu_seconds,
        "docs_per_s": len(docs) / batched.seconds,
        "docs_per_s_cpu": len(docs) / batched.cpu_seconds,
        "ms_per_doc": 1000 * batched.seconds / len(docs),
    }

    languages = [guesses[doc.id] for doc in docs]
    found = {doc_id: e.entities for doc_id, e in enriched.items()}
    jobs = [
        *enrichers(settings, guesses, found),
        ("stories (sig + memory)", story_step(settings, enriched)),
        ("EnrichedDocument build", message_builder(enriched)),
    ]
    turns = best_in_turn(runs, docs, [(n, f) for n, f in jobs if not n.startswith(" ")])
    rows: dict[str, dict[str, float | None]] = {}
    by_language: dict[str, dict[str, float]] = defaultdict(dict)
    for name, make_work in jobs:
        alone_ms = 1000 * best_of(runs, docs, make_work).seconds / len(docs)
        turn = turns.get(name)
        turn_ms = None if turn is None else 1000 * sum(turn) / len(docs)
        rows[name] = {
            "alone_ms_per_doc": alone_ms,
            "in_turn_ms_per_doc": turn_ms,
            "share": None if turn_ms is None else turn_ms / whole_ms,
        }
        if turn is not None:
            for code, ms_each in mean_ms_by(languages, turn).items():
                by_language[code][name] = ms_each
    for code, ms_each in mean_ms_by(languages, whole.per_doc).items():
        by_language[code]["whole step"] = ms_each
    counted = [row for name, row in rows.items() if not name.startswith(" ")]
    alone_sum = sum(row["alone_ms_per_doc"] or 0.0 for row in counted)
    turn_sum = sum(row["in_turn_ms_per_doc"] or 0.0 for row in counted)
    rows["unaccounted"] = {
        "alone_ms_per_doc": whole_ms - alone_sum,
        "in_turn_ms_per_doc": whole_ms - turn_sum,
        "share": 1 - turn_sum / whole_ms,
    }
    figures["enrichers"] = rows
    figures["by_language"] = {
        code: {"docs": count, **by_language[code]}
        for code, count in Counter(languages).most_common()
    }
    figures["money_docs_without_digits"] = sum(not _DIGIT.search(doc.text) for doc in docs)
    figures["outcomes"] = {
        "exact_duplicates": sum(bool(e.duplicate_of) for e in enriched.values()),
        "near_duplicates": sum(bool(e.near_duplicate_of) for e in enriched.values()),
        "money_mentions": sum(len(e.money) for e in enriched.values()),
        "entities": sum(len(e.entities) for e in enriched.values()),
    }
    figures["rss_after_run_mb"] = {"peak": rss_peak_mb(), "now": rss_now_mb()}
    figures["sizes"] = bench_sizes(docs, runs, settings, whole)
    return figures


def mean_ms_by(keys: Sequence[str], seconds: Sequence[float]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for key, value in zip(keys, seconds, strict=True):
        totals[key] += value
    counts = Counter(keys)
    return {key: 1000 * total / counts[key] for key, total in totals.items()}


# ---------------------------------------------------------------------------------------------
# A real enrich worker


def wait_settled(pid: int, process: subprocess.Popen[bytes], concurrency: int) -> float:
    """Seconds until every prefork child exists and their RSS has stopped growing (models
    loaded), checked every half second and settled after three equal readings."""
    started = time.monotonic()
    previous, steady = -1.0, 0
    while time.monotonic() - started < SETTLE_TIMEOUT_S:
        if process.poll() is not None:
            raise RuntimeError("the enrich worker exited while loading its models")
        children = children_of(pid)
        total = sum(memory_mb(child)["rss"] or 0.0 for child in children)
        steady = steady + 1 if len(children) >= concurrency and total == previous else 0
        if steady >= 3:
            break
        previous = total
        time.sleep(0.5)
    return time.monotonic() - started


def feed_worker(docs: Sequence[ParsedDocument], process: subprocess.Popen[bytes]) -> float:
    """Send ``docs`` to the enrich queue and wait for each receipt to say they are enriched."""
    from shared.celery_app import Publisher, make_celery
    from shared.receipts import read_status
    from shared.redis_client import redis_client
    from shared.settings import load_settings

    settings = load_settings()
    client = redis_client(settings.redis_url)
    publisher = Publisher(make_celery(settings))
    started = time.monotonic()
    for doc in docs:
        publisher.send("enrich", doc.model_dump(mode="json"))
    pending = [doc.receipt for doc in docs]
    while pending:
        if process.poll() is not None:
            raise RuntimeError("the enrich worker died during the warm-up")
        if time.monotonic() - started > READY_TIMEOUT_S:
            raise RuntimeError(f"{len(pending)} warm-up documents not enriched in time")
        pending = [r for r in pending if (status := read_status(client, r)) is None
                   or status.state not in ("enriched", "duplicate")]  # fmt: skip
        time.sleep(0.1)
    return time.monotonic() - started


def bench_worker(docs: Sequence[ParsedDocument], workdir: Path, concurrency: int) -> dict[str, Any]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    from bench.pipeline import start_workers, stop_workers, wait_ready

    env = dict(os.environ)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the command makes (and wipes) its own
    started = time.monotonic()
    workers = start_workers(env, workdir, concurrency, stages=("enrich",))
    process = workers.processes["enrich"]
    try:
        wait_ready(workers)
        ready_s = time.monotonic() - started
        settle_s = wait_settled(process.pid, process, concurrency)
        idle = worker_memory(process.pid)
        feed_s = feed_worker(docs, process)
        warm = worker_memory(process.pid)
    finally:
        stop_workers(workers)
        client.flushdb()
    return {
        "concurrency": concurrency,
        "ready_s": ready_s,
        "models_settled_s": settle_s,
        "warm_up_docs": len(docs),
        "warm_up_s": feed_s,
        "idle": idle,
        "after_warm_up": warm,
    }


# ---------------------------------------------------------------------------------------------
# Report


def print_report(figures: dict[str, Any]) -> None:
    local = figures["in_process"]
    load, whole = local["load"], local["whole"]
    print(
        f"newsflow enrich speed  {figures['docs']} docs  pinned to CPU {figures['cpu']} "
        f"(of {figures['cpus']})  best of {figures['runs']} runs"
    )
    print(
        f"load                   imports {load['imports_s']:.2f} s, "
        f"entities.load_models() {load['entities_load_models_s']:.2f} s, "
        f"warm-up of {load['warm_up_docs']} seeds (lingua loads here) {load['warm_up_s']:.2f} s"
    )
    print(
        f"whole enrich_document  {whole['docs_per_s']:7.1f} docs/s  "
        f"({whole['docs_per_s_cpu']:.1f} docs/s of CPU time)  {whole['ms_per_doc']:6.2f} ms/doc"
        "  [aim: >= 100 docs/s per core]"
    )
    batched = local["batched"]
    print(
        f"in batches of {batched['batch_size']:<3}      {batched['docs_per_s']:7.1f} docs/s  "
        f"({batched['docs_per_s_cpu']:.1f} docs/s of CPU time)  {batched['ms_per_doc']:6.2f} ms/doc"
        "  (enrich_with_stories, as the enrich worker runs it)"
    )
    print("\nms/doc of each enricher   in turn   share    alone")
    for name, row in local["enrichers"].items():
        turn, share = row["in_turn_ms_per_doc"], row["share"]
        turn_cells = "       -        -" if turn is None else f"{turn:9.2f}  {100 * share:5.1f}%"
        print(f"  {name:<24}{turn_cells}  {row['alone_ms_per_doc']:7.2f}")
        if name == "money":
            print(
                f"  {'':<4}docs with no digits (digit scan skipped): "
                f"{local['money_docs_without_digits']} of {figures['docs']}"
            )
    print("\nms/doc by detected language (whole step; enrichers in turn)")
    columns = ("whole step", "language (paragraphs)", "near-dup (sig + memory)", "money",
               "entities")  # fmt: skip
    print(f"  {'':<6}{'docs':>6}" + "".join(f"{c.split(' (')[0]:>17}" for c in columns))
    for code, row in local["by_language"].items():
        cells = "".join(f"{row.get(c, float('nan')):17.2f}" for c in columns)
        print(f"  {code:<6}{row['docs']:>6}{cells}")
    print("\ndocs/s on one core (wall, CPU time)   newsflow              anchor (lingua + Natasha)")
    for label, size in local["sizes"].items():
        own, anchor = size["newsflow"], size["anchor"]
        print(
            f"  {label:<7} articles ({size['mean_bytes'] / 1024:.1f} KB mean)  "
            f"{own['docs_per_s']:7.1f} ({own['docs_per_s_cpu']:6.1f})  "
            f"{anchor['docs_per_s']:7.1f} ({anchor['docs_per_s_cpu']:6.1f})  "
            f"newsflow {own['docs_per_s_cpu'] / anchor['docs_per_s_cpu']:.1f}x the anchor (CPU)"
        )
    outcomes = local["outcomes"]
    print(
        f"\noutputs                {outcomes['exact_duplicates']} exact duplicates, "
        f"{outcomes['near_duplicates']} near-duplicates, {outcomes['money_mentions']} money "
        f"mentions, {outcomes['entities']} entities"
    )
    for label, key in (
        ("after warm-up", "rss_after_warm_up_mb"),
        ("after the runs", "rss_after_run_mb"),
    ):
        rss = local[key]
        print(f"this process RSS       {label}: {rss['now']:.0f} MB now, {rss['peak']:.0f} MB peak")

    worker = figures.get("worker")
    if worker is None:
        print("enrich worker          skipped")
        return
    print(
        f"\nenrich worker (--concurrency {worker['concurrency']}): ready in "
        f"{worker['ready_s']:.1f} s, children's models settled {worker['models_settled_s']:.1f} s "
        f"later; warm-up of {worker['warm_up_docs']} docs took {worker['warm_up_s']:.1f} s"
    )
    for label, key in (("idle, models loaded", "idle"), ("after warm-up", "after_warm_up")):
        memory = worker[key]
        parts = [f"parent {fmt(memory['parent'])}"] + [
            f"child {pid} {fmt(m)}" for pid, m in memory["children"].items()
        ]
        print(f"  {label:<20} " + "; ".join(parts))
        print(
            f"  {'':<20} total RSS {memory['total_rss']:.0f} MB "
            f"(PSS {memory['total_pss']:.0f} MB, shared pages split)"
        )


def fmt(memory: dict[str, float | None]) -> str:
    rss, pss = memory["rss"], memory["pss"]
    return f"{rss or float('nan'):.0f} MB (PSS {pss or float('nan'):.0f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--docs", type=int, default=1000, help="unique documents to generate")
    parser.add_argument("--runs", type=int, default=3, help="timed passes; the fastest is shown")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the generator")
    parser.add_argument(
        "--skip-worker", action="store_true", help="leave out the real enrich worker's RSS"
    )
    parser.add_argument(
        "--worker-docs", type=int, default=40, help="documents fed to the worker as warm-up"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    if args.docs < 1 or args.runs < 1 or args.worker_docs < 0:
        parser.error("--docs and --runs must be at least 1, --worker-docs at least 0")

    allowed = os.sched_getaffinity(0)
    cpu = min(allowed)
    os.sched_setaffinity(0, {cpu})
    figures: dict[str, Any] = {
        "docs": args.docs,
        "runs": args.runs,
        "cpu": cpu,
        "cpus": os.cpu_count(),
    }
    with tempfile.TemporaryDirectory(prefix="newsflow-enrich-bench-") as tmp:
        workdir = Path(tmp)
        print(f"writing and parsing {args.docs} documents...", file=sys.stderr)
        docs = parse_files(write_corpus(args.docs, workdir / "docs", args.seed))
        print("loading models, then timing...", file=sys.stderr)
        figures["in_process"] = bench_in_process(docs, args.runs)
        if not args.skip_worker:
            os.sched_setaffinity(0, allowed)  # the worker inherits it; it should get every core
            print(f"starting an enrich worker on {REDIS_URL}...", file=sys.stderr)
            # Redis database 4 is flushed first, so the same documents are new to the worker.
            fresh = [d.model_copy(update={"receipt": uuid.uuid4().hex}) for d in docs]
            figures["worker"] = bench_worker(fresh[: args.worker_docs], workdir, concurrency=2)

    if args.json:
        print(json.dumps(figures))
    else:
        print_report(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
