"""Re-enriching stored documents through the normal queues, after an enricher got a new version.

Each chosen document goes back to the enrich stage as the ``ParsedDocument`` it was built from
(the stored ``EnrichedDocument`` minus what enrich adds), so the workers re-enrich and re-index it
exactly as they did the first time, and the index upserts it by its unchanged id.

It keeps the receipt that owns the document's exact-duplicate claim: enrich reports a document as
a duplicate when its id was claimed under *another* receipt, so a new receipt would make every
re-enriched document a "duplicate of itself" and it would never be re-indexed. The owner is the
receipt in Redis's claim when there is one (an index filled by ``newsflow run`` may hold another
receipt for the same text), else the stored receipt, which then makes the claim.

This module never changes a document itself and never writes the index: the workers do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from services.index.backend import IndexBackend
from services.ingest.intake import Intake
from shared.keys import document_claim_key
from shared.messages import EnrichedDocument, ParsedDocument

# ``stale(versions)`` yields the documents whose recorded versions differ from ``versions``; no
# real enricher has this version, so with it every stored document differs: "all documents".
_NO_SUCH_VERSION = "\x00reindex-all"


def stale_enrichers(recorded: Mapping[str, str], running: Mapping[str, str]) -> list[str]:
    """The running enrichers whose version is not the one recorded in a document.

    An enricher that a document never recorded (it did not exist when the document was
    enriched) counts as stale; one that is recorded but no longer runs does not.
    """
    return sorted(name for name, version in running.items() if recorded.get(name) != version)


def parsed_payload(doc: EnrichedDocument, receipt: str) -> ParsedDocument:
    """The document as ingest handed it to enrich, under ``receipt``."""
    fields = doc.model_dump(include=set(ParsedDocument.model_fields))
    return ParsedDocument.model_validate({**fields, "receipt": receipt})


@dataclass
class ReindexReport:
    scanned: int = 0
    sent: int = 0
    stale_by_enricher: Counter[str] = field(default_factory=Counter)
    receipts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "scanned": self.scanned,
            "sent": self.sent,
            "stale_by_enricher": dict(sorted(self.stale_by_enricher.items())),
        }


def candidates(
    backend: IndexBackend, running: Mapping[str, str], *, stale_only: bool
) -> Iterator[EnrichedDocument]:
    if stale_only:
        return backend.stale(dict(running))
    return backend.stale(dict.fromkeys(running, _NO_SUCH_VERSION) or {"": _NO_SUCH_VERSION})


def reindex(
    backend: IndexBackend,
    running: Mapping[str, str],
    *,
    stale_only: bool,
    claim_owner: Callable[[str], str | None],
    send: Callable[[ParsedDocument], None],
) -> ReindexReport:
    """Send stored documents back to enrich: the stale ones, or with ``stale_only=False`` all.

    ``claim_owner(doc_id)`` is the receipt holding the document's exact-duplicate claim, if any;
    ``send`` records the receipt's status and queues the payload for enrich.
    """
    report = ReindexReport()
    for doc in candidates(backend, running, stale_only=stale_only):
        report.scanned += 1
        outdated = stale_enrichers(doc.enrichers, running)
        if stale_only and not outdated:
            continue  # the backend compared whole version maps; only running enrichers count
        report.stale_by_enricher.update(outdated)
        payload = parsed_payload(doc, claim_owner(doc.id) or doc.receipt)
        send(payload)
        report.sent += 1
        report.receipts.append(payload.receipt)
    return report


def reindex_through_workers(
    intake: Intake, backend: IndexBackend, running: Mapping[str, str], *, stale_only: bool
) -> ReindexReport:
    """``reindex`` with the real claim owner (Redis's exact-duplicate claim) and the real
    sending: each receipt is reopened in the ledger (an indexed receipt goes back to queued)
    with the document as what drives it again, then the document goes to enrich."""

    def claim_owner(doc_id: str) -> str | None:
        owner = intake.client.get(document_claim_key(doc_id))
        return owner.decode() if isinstance(owner, bytes) else None

    def send(doc: ParsedDocument) -> None:
        payload = doc.model_dump(mode="json")
        intake.ledger.open(
            doc.receipt, stage="enrich", payload=payload, filename=doc.filename, doc_id=doc.id
        )
        intake.publisher.send("enrich", payload)

    return reindex(backend, running, stale_only=stale_only, claim_owner=claim_owner, send=send)
