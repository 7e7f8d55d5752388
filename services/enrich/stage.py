"""The enrich step: a parsed document in, an enriched document out.

No Celery and no I/O of its own beyond the stores it is given (exact-duplicate claims,
near-duplicate bands), so the worker and the in-process runner share it exactly: the worker
passes Redis-backed stores, ``newsflow run``/``enrich`` pass local ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.enrich import dedupe, entities, language, money, neardup
from services.enrich.dedupe import ClaimStore
from services.enrich.neardup import NearDuplicateStore
from shared.messages import EnrichedDocument, Entity, ParsedDocument
from shared.settings import Settings

ENRICHER_VERSIONS = {
    "language": language.VERSION,
    "exact_dedupe": dedupe.VERSION,
    "near_dedupe": neardup.VERSION,
    "money": money.VERSION,
    "entities": entities.VERSION,
}


@dataclass(frozen=True)
class EnrichStores:
    """Where the stateful enrichers keep what they must remember across documents."""

    claims: ClaimStore
    near_duplicates: NearDuplicateStore


def default_rouble(doc: ParsedDocument) -> str:
    """What a bare «рублей» means in this document: Belarusian roubles when the source marks
    itself Belarusian by a BYN header rate, Russian roubles otherwise."""
    return "BYN" if doc.header_rate and doc.header_rate.currency in ("BYN", "BYR") else "RUB"


# How far back from the limit a cut looks for a space or line break, so that it does not end in
# the middle of a word (a name or an amount cut in two would be read wrong, not just missed).
CUT_LOOKBACK = 200


def head(text: str, limit: int) -> str:
    """``text``, or its start when longer than ``limit`` characters: cut at the last space or
    line break within ``CUT_LOOKBACK`` of the limit, else at the limit. A prefix, so offsets
    into it are offsets into ``text``."""
    if len(text) <= limit:
        return text
    lookback = max(0, limit - CUT_LOOKBACK)
    space = max(text.rfind(" ", lookback, limit + 1), text.rfind("\n", lookback, limit + 1))
    return text[: space if space > 0 else limit]


@dataclass(frozen=True)
class Reading:
    """A document as the stateless enrichers read it: its language profile, and the part of its
    text (``head``) that entities and money read."""

    profile: language.LanguageProfile
    text: str


def read_document(doc: ParsedDocument, settings: Settings) -> Reading:
    profile = language.language_profile(
        [doc.title, *doc.paragraphs],
        tuple(settings.languages),
        min_confidence=settings.language_min_confidence,
        min_letters=settings.language_min_letters,
    )
    return Reading(profile, head(doc.text, settings.enrich_max_chars))


def enrich_documents(
    docs: Sequence[ParsedDocument], stores: EnrichStores, settings: Settings
) -> list[EnrichedDocument]:
    """The enrichers over several documents, each result the one ``enrich_document`` gives:
    NER runs over their texts together (the tagger is faster in batches), the stores are asked
    one document after another, in order, so a copy later in the batch is a duplicate of one
    earlier in it."""
    readings = [read_document(doc, settings) for doc in docs]
    found = entities.extract_entities_batch(
        [reading.text for reading in readings],
        [reading.profile.document.language for reading in readings],
    )
    return [
        enrich_document(doc, stores, settings, reading=reading, found_entities=doc_entities)
        for doc, reading, doc_entities in zip(docs, readings, found, strict=True)
    ]


def enrich_document(
    doc: ParsedDocument,
    stores: EnrichStores,
    settings: Settings,
    *,
    reading: Reading | None = None,
    found_entities: list[Entity] | None = None,
) -> EnrichedDocument:
    """The enrichers over one document. Entities and money read at most
    ``settings.enrich_max_chars`` of its text, with a warning on the document when that is
    not all of it; language and near-duplicates bound their own work. ``reading`` and
    ``found_entities``, when given, are this document's from ``enrich_documents``."""
    reading = reading or read_document(doc, settings)
    profile = reading.profile
    guess = profile.document
    duplicate_of = dedupe.duplicate_of(stores.claims, doc.id, doc.receipt)
    # An exact copy is not indexed, so it must not join (or start) a near-duplicate cluster.
    near = (
        None
        if duplicate_of
        else neardup.find_near_duplicate(doc.id, doc.body, stores.near_duplicates)
    )
    text = doc.text
    read = reading.text
    fields = doc.model_dump()
    if len(read) < len(text):
        fields["warnings"] = [
            *doc.warnings,
            f"entities and money read from the first {len(read)} of {len(text)} characters",
        ]
    return EnrichedDocument(
        **fields,
        language=guess.language,
        language_confidence=guess.confidence,
        languages=profile.shares,
        duplicate_of=duplicate_of,
        near_duplicate_of=near.near_duplicate_of if near else None,
        similarity=near.similarity if near else None,
        cluster_id=near.cluster_id if near else None,
        money=money.extract_money(
            read,
            language=guess.language,
            published=doc.published,
            default_rouble=default_rouble(doc),
        ),
        entities=(
            found_entities
            if found_entities is not None
            else entities.extract_entities(read, language=guess.language)
        ),
        enrichers=ENRICHER_VERSIONS,
    )
