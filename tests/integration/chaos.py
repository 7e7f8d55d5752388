"""What the fault-injection tests share: unique documents, the reconciler, and the ledger check.

Every chaos test sends 200 unique documents through the three real workers, injects a fault
mid-run, and then proves the promise: each receipt is terminal, each document is in the index
exactly once (counted in the index itself, not from the receipts), none was lost.
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from services.ingest.intake import Intake, submit_path
from shared.receipts import ReceiptStatus, read_status
from shared.settings import Settings
from tests.conftest import SEEDS
from tests.integration.conftest import NEWSFLOW, Pipeline

DOCUMENTS = 200
# Deadlines short enough for a test: a receipt that has not moved for 4 s, with its queue
# drained past it, is driven again by the reconciler (which looks every second).
CHAOS_ENV = {"NEWSFLOW_RECONCILE_AFTER_SECONDS": "4", "NEWSFLOW_LOG_LEVEL": "INFO"}


def _sentences() -> list[str]:
    text = " ".join(path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt")))
    parts = [part.strip() for part in text.replace("\n", " ").split(". ")]
    return [part + "." for part in parts if 40 <= len(part) <= 300]


def unique_documents(folder: Path, count: int = DOCUMENTS, seed: int = 8) -> list[Path]:
    """``count`` news-like files, each unlike the others (sentences of the seeds, shuffled, and
    a line of its own), so every one must end indexed as a new document."""
    folder.mkdir(parents=True, exist_ok=True)
    sentences = _sentences()
    rng = random.Random(seed)
    files = []
    for number in range(count):
        body = [" ".join(rng.sample(sentences, 3)) for _ in range(3)]
        text = f"Выпуск {number}: новости дня {rng.randrange(10**9)}\n\n" + "\n\n".join(body)
        path = folder / f"doc-{number:04d}.txt"
        path.write_text(text + f"\n\nНомер материала {number}-{rng.randrange(10**9)}.\n")
        files.append(path)
    return files


# Enrich reads entities and money in a document's first 100 000 characters; past them a long
# document costs little (about a second at 2 MB), too little for a time limit to catch for sure.
# With this, the time-limit tests' large documents are read whole: seconds of real work a MB.
READ_WHOLE_TEXT = {"NEWSFLOW_ENRICH_MAX_CHARS": "20000000"}


def large_document(folder: Path, size: int = 2 * 1024 * 1024) -> Path:
    """One news-like file of about ``size`` bytes: unique paragraphs of the seeds' sentences,
    real work for the time-limit tests (with ``READ_WHOLE_TEXT``: ~4.5 s at 2 MB here)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(time.time_ns())
    sentences = _sentences()
    paragraphs = [f"Большой выпуск {rng.randrange(10**9)}"]
    written = 0
    while written < size:
        paragraph = " ".join(rng.sample(sentences, 3))
        paragraphs.append(paragraph)
        written += len(paragraph.encode())
    path = folder / "large.txt"
    path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path


def submit_all(intake: Intake, files: list[Path]) -> list[str]:
    return [submit_path(intake, path, source="cli").receipt for path in files]


def start_reconciler(pipeline: Pipeline) -> subprocess.Popen[bytes]:
    """``newsflow reconcile --every 1``, as the compose stack runs it, logging beside the
    workers."""
    log = (pipeline.workdir / "reconcile.log").open("ab")
    return subprocess.Popen(
        [NEWSFLOW, "reconcile", "--every", "1"],
        env=pipeline.env,
        cwd=pipeline.workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def redriven(pipeline: Pipeline) -> int:
    """How many receipts the reconciler drove again in this run (from its log)."""
    log = pipeline.workdir / "reconcile.log"
    return log.read_text(errors="replace").count("receipt driven again") if log.exists() else 0


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_terminal(
    client: redis.Redis, receipts: list[str], timeout: float
) -> dict[str, ReceiptStatus | None]:
    """Each receipt's status once all are terminal, or as they are when ``timeout`` ends.
    Redis errors while it restarts are waited out."""
    deadline = time.monotonic() + timeout
    statuses: dict[str, ReceiptStatus | None] = {}
    while time.monotonic() < deadline:
        try:
            statuses = {receipt: read_status(client, receipt) for receipt in receipts}
        except (redis.ConnectionError, redis.TimeoutError, redis.exceptions.BusyLoadingError):
            time.sleep(0.5)
            continue
        if all(status is not None and status.final for status in statuses.values()):
            break
        time.sleep(0.5)
    return statuses


def wait_until(check: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


@dataclass(frozen=True)
class Verdict:
    """What a chaos run ended with: counted in the ledger and in the index."""

    states: Counter[str]
    not_terminal: int
    indexed_documents: int
    distinct_doc_ids: int
    missing_from_index: int

    @property
    def lost(self) -> int:
        return self.not_terminal + self.missing_from_index


def sqlite_ids(index_path: Path) -> list[str]:
    with sqlite3.connect(index_path) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM documents")]


def verdict(statuses: dict[str, ReceiptStatus | None], index_ids: list[str]) -> Verdict:
    states = Counter(status.state if status else "missing" for status in statuses.values())
    doc_ids = {status.doc_id for status in statuses.values() if status and status.doc_id}
    stored = set(index_ids)
    return Verdict(
        states=states,
        not_terminal=sum(1 for s in statuses.values() if s is None or not s.final),
        indexed_documents=len(index_ids),
        distinct_doc_ids=len(doc_ids),
        missing_from_index=len(doc_ids - stored),
    )


def assert_nothing_lost(result: Verdict, documents: int = DOCUMENTS) -> None:
    """Every file indexed once: no receipt left open, no document missing from the index, none
    stored twice, none mistaken for a duplicate of itself, none dead-lettered."""
    assert result.not_terminal == 0, result
    assert result.states == Counter({"indexed": documents}), result
    assert result.distinct_doc_ids == documents, result
    assert result.missing_from_index == 0, result
    assert result.indexed_documents == documents, result


def intake_for(pipeline: Pipeline) -> Intake:
    settings = Settings(
        _env_file=None,
        redis_url=pipeline.env["NEWSFLOW_REDIS_URL"],
        broker_url=pipeline.env.get("NEWSFLOW_BROKER_URL") or None,
    )
    return Intake.connect(settings)
