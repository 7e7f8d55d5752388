"""The embedded default: the same stage functions the workers run, called in-process.

``newsflow run`` and ``newsflow enrich`` use this; no Redis, no servers. It must give the same
results as the Redis pipeline on the same input, which is why it calls the very functions the
tasks call (``ingest_raw``, ``enrich_document``, ``IndexBackend.upsert``) and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from services.enrich.dedupe import ClaimStore, MemoryClaims
from services.enrich.neardup import MemoryNearDuplicates
from services.enrich.stage import EnrichStores, enrich_document
from services.enrich.stories import MemoryStories
from services.index.backend import IndexBackend
from services.ingest.intake import new_receipt, raw_file_message, read_limited
from services.ingest.stage import ingest_raw
from shared.errors import PermanentError
from shared.messages import EnrichedDocument
from shared.settings import Settings

Outcome = Literal["indexed", "duplicate", "dead_letter", "enriched"]


@dataclass(frozen=True)
class FileResult:
    file: str
    outcome: Outcome
    document: EnrichedDocument | None = None
    reason: str | None = None
    error: str | None = None


def local_claims_path(settings: Settings) -> str:
    """The claims file of ``newsflow run``: the setting, else beside a SQLite index.

    Beside the index, named like SQLite's own companions (``-wal``, ``-shm``), so that starting
    afresh with ``rm newsflow.db*`` forgets the claims with the documents: claims kept after
    their index is gone would report every file a duplicate and index nothing. A PostgreSQL
    index (or ``:memory:``) has no file to sit beside; the claims go to the working folder.
    """
    if settings.local_claims_path:
        return settings.local_claims_path
    url = settings.index_url
    if "://" in url and not url.startswith("sqlite:///"):
        return "newsflow-claims.db"
    path = url.removeprefix("sqlite:///")
    return ":memory:" if path == ":memory:" else f"{path}-claims"


def local_stores(claims: ClaimStore | None = None) -> EnrichStores:
    """Stores for one in-process run. ``claims`` may outlive the run (``SqliteClaims`` keeps
    them, so a second ``newsflow run`` finds the first's documents); near-duplicate bands and
    stories do not."""
    return EnrichStores(
        claims=claims or MemoryClaims(),
        near_duplicates=MemoryNearDuplicates(),
        stories=MemoryStories(),
    )


def process_file(
    path: Path, settings: Settings, stores: EnrichStores, index: IndexBackend | None
) -> FileResult:
    """Ingest and enrich one file, and index it when ``index`` is given."""
    data, size = read_limited(path, settings.max_file_bytes)
    raw = raw_file_message(
        data,
        size,
        filename=path.name,
        source="local",
        origin_path=str(path),
        receipt=new_receipt(),
    )
    try:
        parsed = ingest_raw(raw, data, settings)
        enriched = enrich_document(parsed, stores, settings)
    except PermanentError as error:
        return FileResult(str(path), "dead_letter", reason=error.reason, error=error.detail)
    if enriched.duplicate_of:
        return FileResult(str(path), "duplicate", enriched)
    if index is None:
        return FileResult(str(path), "enriched", enriched)
    index.upsert(enriched)
    return FileResult(str(path), "indexed", enriched)
