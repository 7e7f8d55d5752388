"""The ``newsflow`` command: run in-process, start workers, submit, watch, search, dead letters.

This module is the composition root: the only place that wires the three stages together.
Settings are loaded (and validated) before any command does work, so a bad ``NEWSFLOW_*`` value
stops the command at once with a clear message.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from newsflow.failures import ExitCode
from shared.settings import Settings, load_settings
from shared.stages import STAGES

if TYPE_CHECKING:
    from newsflow.local import FileResult
    from services.index.backend import Facets, IndexBackend
    from services.ingest.intake import Intake
    from shared.messages import DeadLetter
    from shared.receipts import ReceiptStatus

app = typer.Typer(
    help="newsflow: ingest, enrich and index scraped news.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
dlq_app = typer.Typer(help="List, show and replay dead letters.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")

console = Console()
err_console = Console(stderr=True)
# Set by --debug: a failure shows its traceback instead of one line.
_show_tracebacks = False


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        console.print(f"newsflow {version('newsflow')}")
        raise typer.Exit


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of a failure, not one line.")
    ] = False,
    _version_shown: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """newsflow: ingest, enrich and index scraped news.

    Exit codes: 0 done; 1 some files were dead-lettered; 2 a bad argument, option or setting;
    3 Redis, the broker or the index could not be reached; 4 a wait timed out.
    """
    global _show_tracebacks  # noqa: PLW0603  # one flag for the whole invocation, read in main()
    _show_tracebacks = debug


PathsArg = Annotated[
    list[Path] | None, typer.Argument(help="Files or folders.")
]  # typer needs Optional


def _settings() -> Settings:
    settings = load_settings()
    from shared.logging import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    return settings


def _open_existing_index(settings: Settings) -> IndexBackend:
    """The index for a command that only reads it: a SQLite file that does not exist is an
    error (opening it would create an empty index, and its folders, and find nothing)."""
    from services.index.backend import open_backend

    url = settings.index_url
    if not url.startswith(("postgresql://", "postgres://")) and url != ":memory:":
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file():
            err_console.print(
                f"newsflow: no index at {path} (set NEWSFLOW_INDEX_URL; `newsflow run` or the "
                "index worker creates it)",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
            raise typer.Exit(ExitCode.UNAVAILABLE)
    return open_backend(url)


def _existing(paths: list[Path] | None, default: Path | None = None) -> list[Path]:
    from services.ingest.intake import expand_paths

    chosen = paths or ([default] if default else [])
    missing = [str(path) for path in chosen if not path.exists()]
    if missing:
        err_console.print(f"[red]no such file or folder: {', '.join(missing)}")
        raise typer.Exit(ExitCode.USAGE)
    found = expand_paths(chosen)
    if not found:
        named = ", ".join(str(path) for path in chosen)
        err_console.print(f"[red]no files to take in {named} (hidden and *.part files are skipped)")
        raise typer.Exit(ExitCode.USAGE)
    return found


@app.command()
def run(
    paths: PathsArg = None,
    summary: Annotated[
        bool, typer.Option("--summary", help="Only the totals, not a row per file.")
    ] = False,
) -> None:
    """Process files in-process (no Redis, no servers) and write the embedded index.

    Defaults to the seeds/ folder. Exits 1 if any file was dead-lettered.
    """
    settings = _settings()
    from newsflow.local import local_claims_path, local_stores, process_file
    from services.enrich.dedupe import SqliteClaims
    from services.index.backend import open_backend

    files = _existing(paths, Path("seeds"))
    results = []
    with (
        open_backend(settings.index_url) as index,
        SqliteClaims(local_claims_path(settings)) as claims,
        Progress(console=err_console, transient=True) as progress,
    ):
        task = progress.add_task("processing", total=len(files))
        stores = local_stores(claims=claims)
        for path in files:
            results.append(process_file(path, settings, stores, index))
            progress.advance(task)
        total = index.count()

    from shared.redact import redact_url

    table = Table(title=f"newsflow run -> {redact_url(settings.index_url)}")
    for column in ("file", "language", "title", "outcome"):
        table.add_column(column, overflow="fold")
    for result in results:
        doc = result.document
        outcome: str = result.outcome
        if result.reason:
            outcome = f"dead letter: {result.reason}"
        elif doc is not None and doc.duplicate_of:
            outcome = f"duplicate of {doc.duplicate_of}"
        elif doc is not None and doc.near_duplicate_of:
            outcome = f"near-duplicate of {doc.near_duplicate_of} ({doc.similarity or 0:.2f})"
        table.add_row(
            Path(result.file).name,
            doc.language if doc else "-",
            (doc.title[:70] if doc else result.error or ""),
            outcome,
        )
    if not summary:
        console.print(table)
    counts = {
        name: sum(r.outcome == name for r in results)
        for name in ("indexed", "duplicate", "dead_letter")
    }
    near = sum(1 for r in results if r.document is not None and r.document.near_duplicate_of)
    console.print(
        f"{len(results)} files: {counts['indexed']} indexed ({near} of them near-duplicates), "
        f"{counts['duplicate']} duplicate, {counts['dead_letter']} dead-lettered; "
        f"{total} documents in the index"
    )
    if counts["dead_letter"]:
        raise typer.Exit(1)


@app.command()
def enrich(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
) -> None:
    """Parse and enrich files in-process and print the result (nothing is stored)."""
    settings = _settings()
    from newsflow.local import local_stores, process_file
    from newsflow.render import enrich_block

    stores = local_stores()
    for number, path in enumerate(_existing(paths)):
        result = process_file(path, settings, stores, None)
        record = enrich_record(result)
        if as_json:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            # Plain text, not rich: titles and bodies hold [brackets] rich would read as markup.
            sys.stdout.write(("\n" if number else "") + enrich_block(record) + "\n")


def enrich_record(result: FileResult) -> dict[str, object]:
    """The public contract of ``newsflow enrich --json``: keep these names."""
    doc = result.document
    return {
        "file": result.file,
        "id": doc.id if doc else None,
        "title": doc.title if doc else None,
        "body": doc.body if doc else None,
        "published": doc.published_as_known if doc else None,
        "header_rate": doc.header_rate.model_dump() if doc and doc.header_rate else None,
        "language": doc.language if doc else None,
        "language_confidence": doc.language_confidence if doc else None,
        "languages": [share.model_dump() for share in doc.languages] if doc else [],
        "duplicate_of": doc.duplicate_of if doc else None,
        "near_duplicate_of": doc.near_duplicate_of if doc else None,
        "similarity": doc.similarity if doc else None,
        "cluster_id": doc.cluster_id if doc else None,
        "story_id": doc.story_id if doc else None,
        "story_similarity": doc.story_similarity if doc else None,
        "story_merged_from": doc.story_merged_from if doc else [],
        "money": [mention.model_dump() for mention in doc.money] if doc else [],
        "rates": [rate.model_dump() for rate in doc.rates] if doc else [],
        "country": doc.country if doc else None,
        "countries": [share.model_dump() for share in doc.countries] if doc else [],
        "entities": [entity.model_dump() for entity in doc.entities] if doc else [],
        "enrichers": doc.enrichers if doc else {},
        "warnings": doc.warnings if doc else [],
        "repairs": [repair.model_dump() for repair in doc.repairs] if doc else [],
        "encoding": doc.encoding if doc else None,
        "error": result.reason,
        "error_detail": result.error,
    }


def default_concurrency(stage: str) -> int:
    """Enrich is nearly all of the pipeline's CPU (11.7 of 17 ms a document through the
    workers), so it gets a child per core this process may run on; one ingest and one index
    child each keep up with over 300 documents a second, and a second one would only hold memory
    (and, on SQLite, wait for the one writer). Measured: ``bench/pipeline.py`` in the README."""
    return len(os.sched_getaffinity(0)) if stage == "enrich" else 1


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def worker(
    ctx: typer.Context,
    stage: Annotated[str, typer.Argument(help="ingest, enrich or index")],
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Worker processes (prefork). Default: one per core for enrich, 1 for ingest "
            "and index.",
        ),
    ] = None,
    metrics_port: Annotated[int | None, typer.Option(help="Serve /metrics here (0: off).")] = None,
    loglevel: Annotated[str | None, typer.Option(help="Celery log level.")] = None,
) -> None:
    """Start one Celery worker consuming the STAGE queue.

    Runs ``python -m newsflow.worker STAGE`` (Celery's worker over the app built from these
    settings) with the metrics directory for prefork set (and wiped) before Python starts, as
    multiprocess mode requires. Options it does not know go to Celery's worker as they are
    (--autoscale, --max-tasks-per-child, -n NAME, -E, ...). The node name is STAGE-PID@HOST
    unless -n/--hostname gives one, so two workers of a stage on one host are told apart.
    """
    if stage not in STAGES:
        err_console.print(f"[red]unknown stage {stage!r}; choose one of {', '.join(STAGES)}")
        raise typer.Exit(2)
    settings = _settings()
    if concurrency is None:
        concurrency = default_concurrency(stage)
    metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.path.join(
        tempfile.gettempdir(), f"newsflow-metrics-{stage}-{os.getpid()}"
    )
    shutil.rmtree(metrics_dir, ignore_errors=True)
    os.makedirs(metrics_dir, exist_ok=True)
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=metrics_dir)
    # Each prefork child is one unit of parallelism; BLAS threads inside it (the NER's matrix
    # products) would only fight the other children for the same cores.
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    if metrics_port is not None:
        env["NEWSFLOW_METRICS_PORT"] = str(metrics_port)
    passed = list(ctx.args)
    named = any(arg in ("-n", "--hostname") or arg.startswith("--hostname=") for arg in passed)
    argv = [
        sys.executable,
        "-m",
        "newsflow.worker",
        stage,
        *([] if named else ["-n", f"{stage}-{os.getpid()}@%h"]),
        "--concurrency",
        str(concurrency),
        "--loglevel",
        loglevel or settings.log_level,
        "--without-gossip",
        "--without-mingle",
        *passed,
    ]
    os.execvpe(sys.executable, argv, env)  # noqa: S606  # argv is ours, not user text


@app.command()
def health(
    stage: Annotated[str, typer.Argument(help="ingest, enrich or index")],
    node: Annotated[
        str | None, typer.Option(help="The worker's node name (default: STAGE-PID@this host).")
    ] = None,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to wait for the answer.")] = 1.0,
) -> None:
    """Exit 0 if this host's worker of STAGE answers a ping over the broker, 1 if none does.

    For container healthchecks: it asks the worker itself (Celery's remote control), so a live
    process whose consumer is stuck or cut off from the broker counts as unhealthy.
    """
    if stage not in STAGES:
        err_console.print(f"[red]unknown stage {stage!r}; choose one of {', '.join(STAGES)}")
        raise typer.Exit(ExitCode.USAGE)
    settings = _settings()
    from newsflow.health import ping_stage

    answered = ping_stage(settings, stage, node=node, timeout=timeout)
    if not answered:
        import socket

        whom = node or f"{stage}-*@{socket.gethostname()}"
        sys.stderr.write(f"newsflow health: no {stage} worker {whom} answered in {timeout:g} s\n")
        raise typer.Exit(ExitCode.FAILED)
    sys.stdout.write(f"{', '.join(answered)}: ok\n")


@app.command()
def submit(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders.")],
    wait: Annotated[bool, typer.Option("--wait", help="Wait for each file's outcome.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait with --wait.")] = 120.0,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines, one per file.")] = False,
    source_name: Annotated[
        str | None,
        typer.Option("--source-name", help="Your name for where the files came from (64 chars)."),
    ] = None,
) -> None:
    """Queue raw files for the Redis pipeline (the ingest worker picks them up)."""
    settings = _settings()
    if source_name is not None and not 0 < len(source_name) <= 64:
        err_console.print("[red]--source-name takes 1 to 64 characters")
        raise typer.Exit(2)
    from newsflow.waiting import submit_patiently
    from services.ingest.intake import Intake

    intake = Intake.connect(settings)
    files = _existing(paths)
    # Redis must answer to begin with (or this is one line, exit 3); a restart while the files
    # are being queued is then waited out.
    intake.client.ping()
    receipts: dict[str, Path] = {}
    for path in files:
        raw = submit_patiently(intake, path, source_name=source_name, warn=err_console.print)
        receipts[raw.receipt] = path
        if not wait:
            if as_json:
                sys.stdout.write(json.dumps({"file": str(path), "receipt": raw.receipt}) + "\n")
            else:
                console.print(f"{raw.receipt}  {path}")
    if wait:
        raise typer.Exit(_wait_for(intake, receipts, timeout, as_json, source_name))


def _wait_for(
    intake: Intake,
    receipts: dict[str, Path],
    timeout: float,
    as_json: bool,
    source_name: str | None,
) -> int:
    from newsflow.waiting import wait_for_receipts

    with _progress_bar() as bar:
        waiting = bar.add_task("waiting for outcomes", total=len(receipts), dead=0)
        final = wait_for_receipts(
            intake,
            receipts,
            timeout,
            source_name=source_name,
            warn=err_console.print,
            progress=lambda done, dead: bar.update(waiting, completed=done, dead=dead),
        )
    names = {receipt: str(path) for receipt, path in receipts.items()}
    if as_json:
        for receipt, name in names.items():
            status = final.get(receipt)
            record = {"file": name, "receipt": receipt, "state": "timed_out"}
            if status is not None:
                record.update(status.model_dump(mode="json", exclude={"receipt", "filename"}))
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        _print_outcomes(names, final)
    if len(final) < len(receipts):
        _say_who_is_missing(intake, [r for r in receipts if r not in final])
        return ExitCode.TIMED_OUT
    return 1 if any(status.state == "dead_letter" for status in final.values()) else 0


def _progress_bar(failures: str = "dead letters") -> Progress:
    """Files done of all, and failures so far, on stderr (drawn only on a terminal)."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[dead]} " + failures),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


def _say_who_is_missing(intake: Intake, pending: list[str]) -> None:
    """After a wait timed out: the stages its files wait for that no worker consumes."""
    from newsflow.waiting import queues_without_consumers
    from shared.receipts import WAITING_IN, read_status

    states = [read_status(intake.client, receipt) for receipt in pending]
    queues = {WAITING_IN.get(s.state, "ingest") if s else "ingest" for s in states}
    for queue in queues_without_consumers(intake, set(queues)):
        err_console.print(
            f"[yellow]timed out: no {queue} worker is consuming `{queue}` "
            f"(start one: newsflow worker {queue})",
            soft_wrap=True,
        )


def _print_outcomes(receipts: dict[str, str], final: dict[str, ReceiptStatus]) -> None:
    # Receipts shortened (any unique prefix works with `status` and `dlq`); --json has them whole.
    table = Table(title="outcomes")
    for column in ("file", "receipt", "outcome", "document"):
        table.add_column(column, overflow="fold")
    for receipt, name in receipts.items():
        status = final.get(receipt)
        if status is None:
            table.add_row(Path(name).name, receipt[:12], "timed out", "")
            continue
        table.add_row(Path(name).name, receipt[:12], status.outcome(), status.doc_id or "")
    console.print(table)


@app.command()
def watch(  # noqa: PLR0917  # typer maps each command-line option to a parameter
    directory: Annotated[Path, typer.Argument(help="The drop folder scrapers write into.")],
    interval: Annotated[float, typer.Option(min=0.05, help="Seconds between scans.")] = 1.0,
    settle: Annotated[
        float, typer.Option(min=0.0, help="A file must be unchanged this long before it is taken.")
    ] = 2.0,
    once: Annotated[
        bool, typer.Option("--once", help="Take what is there, wait for the outcomes, exit.")
    ] = False,
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--no-progress",
            help="A line per finished file and a periodic summary on stdout "
            "(default: when stdout is a terminal).",
        ),
    ] = None,
    summary_every: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Seconds between summaries (printed, or logged as watch.summary); 0: none.",
        ),
    ] = 60.0,
) -> None:
    """Watch a drop folder: submit each new file, then move it to done/ or failed/.

    Files are claimed by an atomic rename into DIR/.processing/, so several watchers can share
    one folder; files dropped while no watcher ran are taken when one starts. With --once, exits
    4 if some file still has no outcome when the wait ends, else 1 if some went to failed/
    (dead-lettered or refused). DIR must be inside
    NEWSFLOW_DROP_DIRS when that is set (dlq replay re-reads files only there).
    """
    settings = _settings()
    import structlog

    from newsflow.render import WatchProgress, watch_totals
    from services.ingest.confine import RefusedPath
    from services.ingest.intake import Intake
    from services.ingest.watch import CannotMoveFiles, watch_folder

    if not directory.is_dir():
        err_console.print(f"[red]not a folder: {directory}")
        raise typer.Exit(2)
    shown = sys.stdout.isatty() if progress is None else progress

    def print_line(text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()  # a line as it happens, also through a pipe

    def log_summary(counts: dict[str, float]) -> None:
        structlog.get_logger("services.ingest.watch").info("watch.summary", **counts)

    reporter = WatchProgress(
        every=summary_every,
        print_line=print_line if shown else None,
        # On a terminal the printed summary is the one a person reads; the log gets it otherwise.
        log_summary=None if shown else log_summary,
    )
    try:
        summary = watch_folder(
            directory,
            Intake.connect(settings),
            interval=interval,
            once=once,
            settle_seconds=settle,
            on_scan=reporter,
        )
    except (RefusedPath, CannotMoveFiles) as error:
        # One line, not wrapped or marked up by rich: it names paths and uids to copy.
        sys.stderr.write(f"newsflow watch: {error}\n")
        raise typer.Exit(ExitCode.USAGE) from None
    if shown:
        print_line(watch_totals(summary))
    if once and summary.pending:
        err_console.print(f"[yellow]{summary.pending} file(s) still without an outcome")
        raise typer.Exit(ExitCode.TIMED_OUT)
    # A refused file (a symlink, a FIFO, unreadable) went to failed/ too, never submitted.
    if once and (summary.failed or summary.refused):
        failed = summary.failed + summary.refused
        err_console.print(f"[yellow]{failed} file(s) went to failed/ (see their .reason)")
        raise typer.Exit(ExitCode.FAILED)


@app.command()
def status(
    receipts: Annotated[
        list[str], typer.Argument(help="Receipts printed by submit (or unique prefixes of them).")
    ],
) -> None:
    """Print where each submitted file is now, as JSON lines (unknown receipts: state null)."""
    settings = _settings()
    from shared.receipts import read_status, resolve_receipt
    from shared.redis_client import redis_client

    client = redis_client(settings.redis_url)
    for given in receipts:
        receipt = resolve_receipt(client, given)
        found = read_status(client, receipt)
        record = found.model_dump(mode="json") if found else {"receipt": receipt, "state": None}
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


class EntityTypeChoice(StrEnum):
    PER = "PER"
    ORG = "ORG"
    LOC = "LOC"


class CollapseChoice(StrEnum):
    CLUSTER = "cluster"
    STORY = "story"


@app.command()
def search(  # noqa: PLR0917  # typer maps each command-line option to a parameter
    query: Annotated[
        str,
        typer.Argument(
            help='Words (all must match), "a phrase", -excluded, a OR b; none: filters only.'
        ),
    ] = "",
    lang: Annotated[str | None, typer.Option(help="Only this language (ISO 639-1).")] = None,
    entity: Annotated[
        str | None, typer.Option(help="Only documents naming this entity (an id or a name).")
    ] = None,
    entity_type: Annotated[
        EntityTypeChoice | None,
        typer.Option("--type", help="Only documents with an entity of this type."),
    ] = None,
    currency: Annotated[
        str | None, typer.Option(help="Only documents mentioning this ISO 4217 currency.")
    ] = None,
    rate: Annotated[
        str | None,
        typer.Option(help="Only documents quoting this rate, BASE/QUOTE (USD/BYN)."),
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Published on or after this day."),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Published on or before this day."),
    ] = None,
    all_duplicates: Annotated[
        bool,
        typer.Option("--all-duplicates", help="Every near-duplicate, not one hit per cluster."),
    ] = False,
    story: Annotated[
        str | None, typer.Option(help="Only this story's documents (an old, merged id resolves).")
    ] = None,
    collapse: Annotated[
        CollapseChoice,
        typer.Option(help="One hit per near-duplicate cluster, or per story."),
    ] = CollapseChoice.CLUSTER,
    facets: Annotated[
        bool, typer.Option("--facets", help="Also count hits by language, entity, currency.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 10,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="The search result as one JSON object.")
    ] = False,
) -> None:
    """Search the index (stemmed, so word forms match)."""
    settings = _settings()
    from pydantic import ValidationError

    from services.index.backend import SearchQuery

    try:
        search_query = SearchQuery(
            q=query,
            lang=lang,
            entity=entity,
            type=entity_type.value if entity_type else None,
            currency=currency,
            rate=rate,
            since=since.date() if since else None,
            until=until.date() if until else None,
            collapse=not all_duplicates,
            story=story,
            collapse_story=collapse is CollapseChoice.STORY,
            facets=facets,
            label_language=settings.display_language,
            limit=limit,
            offset=offset,
        )
    except ValidationError as error:
        err_console.print(f"[red]invalid search: {error}")
        raise typer.Exit(2) from None
    with _open_existing_index(settings) as backend:
        result = backend.search(search_query)
    if as_json:
        sys.stdout.write(result.model_dump_json() + "\n")
        return
    shown = f"{offset + 1}-{offset + len(result.hits)}" if result.hits else "none"
    hits = "1 hit" if result.total == 1 else f"{result.total} hits"
    asked = f" for {query!r}" if query else ""
    table = Table(title=f"{hits}{asked} (showing {shown})")
    for column in ("score", "id", "lang", "published", "title", "snippet"):
        table.add_column(column, overflow="fold")
    for hit in result.hits:
        published = hit.published.isoformat() if hit.published else ""
        table.add_row(f"{hit.score:.2f}", hit.id, hit.language, published, hit.title, hit.snippet)
    console.print(table)
    if result.facets is not None:
        _print_facets(result.facets)


def _print_facets(facets: Facets) -> None:
    table = Table(title="facets")
    for column in ("facet", "value", "count"):
        table.add_column(column, overflow="fold")
    for count in facets.language:
        table.add_row("language", count.value, str(count.count))
    for kind, counts in facets.entities.items():
        for count in counts:
            label = f"{count.value} ({count.label})" if count.label else count.value
            table.add_row(f"entity {kind}", label, str(count.count))
    for count in facets.currency:
        table.add_row("currency", count.value, str(count.count))
    console.print(table)


@app.command("stories")
def list_stories(
    since: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Only stories last seen on or after this day."),
    ] = None,
    lang: Annotated[str | None, typer.Option(help="Only stories with a document in it.")] = None,
    min_size: Annotated[int, typer.Option(min=1, help="Only stories of this many or more.")] = 1,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per story.")] = False,
) -> None:
    """List stories (reports of one event, across languages), last seen first."""
    settings = _settings()
    from services.index.stories import StoriesQuery

    query = StoriesQuery(
        since=since.date() if since else None, lang=lang, min_size=min_size, limit=limit
    )
    with _open_existing_index(settings) as backend:
        found = backend.stories(query)
    if as_json:
        for summary in found:
            sys.stdout.write(summary.model_dump_json() + "\n")
        return
    table = Table(title=f"{len(found)} {'story' if len(found) == 1 else 'stories'}")
    for column in ("story", "size", "languages", "seen", "entities", "titles"):
        table.add_column(column, overflow="fold")
    for summary in found:
        table.add_row(
            summary.id,
            str(summary.size),
            " ".join(f"{lang}:{count}" for lang, count in summary.languages.items()),
            _seen(summary.first_seen, summary.last_seen),
            ", ".join(entity.label for entity in summary.entities[:5]),
            "\n".join(f"[{lang}] {title}" for lang, title in summary.titles.items()),
        )
    console.print(table)


def _seen(first: date | None, last: date | None) -> str:
    if first is None or last is None:
        return ""
    return first.isoformat() if first == last else f"{first.isoformat()} .. {last.isoformat()}"


@app.command("story")
def show_story(
    story_id: Annotated[str, typer.Argument(help="A story id (from stories or a document).")],
    as_json: Annotated[bool, typer.Option("--json", help="The story as one JSON object.")] = False,
) -> None:
    """Show one story with its documents; an id merged into another story shows that story."""
    settings = _settings()
    with _open_existing_index(settings) as backend:
        found = backend.story(story_id)
    if found is None:
        err_console.print(f"[red]no story {story_id!r}")
        raise typer.Exit(1)
    if as_json:
        sys.stdout.write(found.model_dump_json() + "\n")
        return
    merged = f"; merged from {', '.join(found.merged_ids)}" if found.merged_ids else ""
    languages = " ".join(f"{lang}:{count}" for lang, count in found.languages.items())
    console.print(
        f"story {found.id}: {found.size} documents ({languages}), "
        f"{_seen(found.first_seen, found.last_seen)}{merged}",
        highlight=False,
    )
    entities = ", ".join(f"{e.label} ({e.id}, {e.documents})" for e in found.entities)
    console.print(f"entities: {entities}", highlight=False)
    table = Table()
    for column in ("id", "lang", "published", "similarity", "title"):
        table.add_column(column, overflow="fold")
    for doc in found.documents:
        table.add_row(
            doc.id,
            doc.language,
            doc.published.isoformat() if doc.published else "",
            "" if doc.story_similarity is None else f"{doc.story_similarity:.2f}",
            doc.title,
        )
    console.print(table)


@app.command()
def show(doc_id: Annotated[str, typer.Argument(help="A document id (from search).")]) -> None:
    """Print one stored document in full, as JSON."""
    settings = _settings()

    with _open_existing_index(settings) as backend:
        doc = backend.get(doc_id)
    if doc is None:
        err_console.print(f"[red]no document {doc_id!r}")
        raise typer.Exit(1)
    sys.stdout.write(doc.model_dump_json(indent=2) + "\n")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every one).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the HTTP API (submit, status, search, documents; /docs, /metrics, /readyz).

    Needs NEWSFLOW_API_TOKEN (or NEWSFLOW_API_ALLOW_ANONYMOUS=true); exits 2 without either.
    """
    settings = _settings()
    import uvicorn

    from services.api.app import AnonymousApiRefused, create_app

    try:
        api = create_app(settings)
    except AnonymousApiRefused as refused:
        sys.stderr.write(f"{refused}\n")  # one line, not wrapped by rich
        raise typer.Exit(2) from None
    # log_config=None: uvicorn's own lines go through our logging (JSON, colour codes and its
    # `color_message` dropped); access_log=False: the API writes the access line itself, one
    # per request with route, status, duration and request id (a second one would double it).
    uvicorn.run(
        api,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
    )


@app.command()
def reindex(
    stale_only: Annotated[
        bool,
        typer.Option("--stale-only", help="Only documents enriched by an older enricher version."),
    ] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until each is re-indexed.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait with --wait.")] = 600.0,
    as_json: Annotated[bool, typer.Option("--json", help="The counts as one JSON object.")] = False,
) -> None:
    """Re-enrich stored documents through the workers, e.g. after an enricher's version changed.

    Each document goes back to the enrich queue under the receipt that owns it, so it is
    re-enriched and re-indexed in place (same id), never reported as a duplicate of itself.
    With --wait, exits 1 if any ended as a dead letter or duplicate and 2 if the wait timed out.
    """
    settings = _settings()
    from newsflow.reindex import reindex_through_workers
    from services.enrich.stage import ENRICHER_VERSIONS
    from services.ingest.intake import Intake

    intake = Intake.connect(settings)
    with _open_existing_index(settings) as backend:
        total = backend.count()
        report = reindex_through_workers(intake, backend, ENRICHER_VERSIONS, stale_only=stale_only)
    record: dict[str, object] = {"documents": total, **report.as_dict()}
    code = 0
    if wait:
        outcomes = _wait_outcomes(intake, report.receipts, timeout)
        record["outcomes"] = outcomes
        if outcomes.get("timed_out"):
            code = ExitCode.TIMED_OUT
        elif outcomes.get("dead_letter") or outcomes.get("duplicate"):
            code = 1
    if as_json:
        sys.stdout.write(json.dumps(record) + "\n")
    else:
        from newsflow.render import reindex_report

        for line in reindex_report(record, stale_only=stale_only):
            console.print(line, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(code)


def _wait_outcomes(intake: Intake, receipts: list[str], timeout: float) -> dict[str, int]:
    """Wait for each receipt's final state; count them (``timed_out`` for those still going)."""
    from collections import Counter

    from newsflow.waiting import wait_for_receipts

    with _progress_bar() as bar:
        waiting = bar.add_task("re-indexing", total=len(receipts), dead=0)
        final = wait_for_receipts(
            intake,
            dict.fromkeys(receipts),
            timeout,
            warn=err_console.print,
            progress=lambda done, dead: bar.update(waiting, completed=done, dead=dead),
        )
    outcomes: Counter[str] = Counter(str(status.state) for status in final.values())
    if len(final) < len(receipts):
        outcomes["timed_out"] = len(receipts) - len(final)
    return dict(outcomes)


@app.command()
def reconcile(
    every: Annotated[
        float | None,
        typer.Option(min=1.0, help="Run a pass every this many seconds, until stopped."),
    ] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve /metrics here while running with --every.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Each pass's counts as JSON.")] = False,
) -> None:
    """Drive again every receipt that stopped moving (a message the broker lost).

    A receipt is due when it has not changed for NEWSFLOW_RECONCILE_AFTER_SECONDS and its
    stage's queue holds nothing older; after NEWSFLOW_RECONCILE_MAX_ATTEMPTS re-drives it is
    dead-lettered as `stalled`. Without --every, one pass.
    """
    settings = _settings()
    import threading

    from newsflow.reconcile import reconcile_once
    from services.ingest.intake import Intake
    from services.ingest.watch import stop_on_signals
    from shared.metrics import LedgerCollector, serve_metrics
    from shared.tasks import TRANSIENT_ERRORS

    intake = Intake.connect(settings)
    if every is None:
        report = reconcile_once(intake)
        _print_reconcile(report.as_dict(), as_json)
        return
    port = settings.metrics_port if metrics_port is None else metrics_port
    serve_metrics(port, LedgerCollector(lambda: intake.ledger.counts(time.time())))
    stop = threading.Event()
    with stop_on_signals(stop):
        while not stop.is_set():
            try:
                report = reconcile_once(intake)
            except TRANSIENT_ERRORS as error:
                err_console.print(f"[yellow]reconcile: Redis or the broker unreachable: {error}")
            else:
                if report.due:
                    _print_reconcile(report.as_dict(), as_json)
            stop.wait(every)


def _print_reconcile(counts: dict[str, object], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(counts) + "\n")
    else:
        console.print(
            f"due {counts['due']}: driven again {counts['redriven']}, "
            f"stalled {counts['stalled']}, still queued {counts['waiting']}"
        )


@dlq_app.command("list")
def dlq_list(
    stage: Annotated[
        str | None, typer.Option(help="Only this stage: ingest, enrich or index.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List dead letters, oldest first."""
    settings = _settings()
    from shared.deadletters import DeadLetterStore
    from shared.redis_client import redis_client

    if stage is not None and stage not in STAGES:
        err_console.print(f"[red]unknown stage {stage!r}; choose one of {', '.join(STAGES)}")
        raise typer.Exit(ExitCode.USAGE)
    store = DeadLetterStore.for_settings(redis_client(settings.redis_url), settings)
    letters = store.list(stage)
    if as_json:
        for letter in letters:
            sys.stdout.write(letter.model_dump_json(exclude={"payload"}) + "\n")
        return
    table = Table(title=f"{len(letters)} dead letters")
    for column in ("id", "stage", "reason", "file", "failed at", "error"):
        table.add_column(column, overflow="fold")
    for letter in letters:
        table.add_row(
            letter.receipt[:12],
            letter.stage,
            letter.reason,
            str(letter.payload.get("filename", "")),
            letter.failed_at.isoformat(timespec="seconds"),
            letter.error[:120],
        )
    console.print(table)


def _find_letter(settings: Settings, letter_id: str) -> DeadLetter:
    from shared.deadletters import DeadLetterStore
    from shared.redis_client import redis_client

    store = DeadLetterStore.for_settings(redis_client(settings.redis_url), settings)
    letter = store.find(letter_id)
    if letter is None:
        err_console.print(f"[red]no dead letter {letter_id!r}")
        raise typer.Exit(1)
    return letter


_DURATION = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _parse_age(text: str) -> float:
    """Seconds in ``30m``, ``12h``, ``7d``; a usage error otherwise."""
    number, unit = text[:-1], text[-1:]
    if not number.isdigit() or unit not in _DURATION:
        err_console.print(f"[red]not an age: {text!r} (write 30m, 12h or 7d)")
        raise typer.Exit(ExitCode.USAGE)
    return int(number) * _DURATION[unit]


@dlq_app.command("purge")
def dlq_purge(
    stage: Annotated[str | None, typer.Option(help="Only this stage.")] = None,
    reason: Annotated[str | None, typer.Option(help="Only this reason (e.g. binary).")] = None,
    older_than: Annotated[
        str | None, typer.Option("--older-than", help="Only letters older than this: 30m, 12h, 7d.")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Really delete them.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The count as JSON.")] = False,
) -> None:
    """Delete dead letters for good (with the bytes kept for their replay).

    Without --yes it only says how many would go, and exits 2.
    """
    settings = _settings()
    from datetime import UTC, timedelta

    from shared.deadletters import DeadLetterStore, select
    from shared.redis_client import redis_client

    if stage is not None and stage not in STAGES:
        err_console.print(f"[red]unknown stage {stage!r}; choose one of {', '.join(STAGES)}")
        raise typer.Exit(ExitCode.USAGE)
    before = datetime.now(UTC) - timedelta(seconds=_parse_age(older_than)) if older_than else None
    store = DeadLetterStore.for_settings(redis_client(settings.redis_url), settings)
    chosen = select(store.list(stage), stage=stage, reason=reason, failed_before=before)
    if not yes:
        err_console.print(f"{len(chosen)} dead letter(s) would be deleted; add --yes to do it")
        raise typer.Exit(ExitCode.USAGE)
    purged = sum(store.purge(letter) for letter in chosen)
    if as_json:
        sys.stdout.write(json.dumps({"purged": purged}) + "\n")
    else:
        console.print(f"deleted {purged} dead letter(s)")


@dlq_app.command("show")
def dlq_show(
    letter_id: Annotated[str, typer.Argument(help="Receipt (or a unique prefix).")],
) -> None:
    """Print one dead letter in full, payload included, as JSON."""
    settings = _settings()
    sys.stdout.write(_find_letter(settings, letter_id).model_dump_json(indent=2) + "\n")


@dlq_app.command("replay")
def dlq_replay(
    letter_id: Annotated[str | None, typer.Argument(help="Receipt (or prefix).")] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="Replay every dead letter.")] = False,
) -> None:
    """Send dead letters back to their stage's queue (after the cause is fixed)."""
    settings = _settings()
    from services.ingest.intake import Intake
    from services.ingest.replay import NotReplayable, replay
    from shared.deadletters import DeadLetterStore

    if replay_all == (letter_id is not None):
        err_console.print("[red]give a dead-letter id or --all (not both)")
        raise typer.Exit(2)
    intake = Intake.connect(settings)
    letters = (
        DeadLetterStore.for_settings(intake.client, intake.settings).list()
        if replay_all
        else [_find_letter(settings, str(letter_id))]
    )
    failed = 0
    with _progress_bar("not replayable") as bar:
        replaying = bar.add_task("replaying", total=len(letters), dead=0)
        for letter in letters:
            try:
                replay(letter, intake)
                console.print(f"replayed {letter.receipt} ({letter.stage}, was {letter.reason})")
            except NotReplayable as why:
                failed += 1
                err_console.print(f"[yellow]cannot replay {letter.receipt}: {why}")
            bar.update(replaying, advance=1, dead=failed)
    if failed:
        raise typer.Exit(ExitCode.FAILED)


def main() -> None:
    """Run the command; a server that cannot be reached is one line and exit code 3."""
    try:
        app()
    except Exception as error:
        from newsflow.failures import unavailable

        settings = load_settings()
        found = unavailable(error, settings)
        if found is None or _show_tracebacks or settings.log_level == "DEBUG":
            raise
        sys.stderr.write(f"newsflow: {found.line()}\n")
        raise SystemExit(ExitCode.UNAVAILABLE) from None
