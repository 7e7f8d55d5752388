"""The enrich step: a parsed document in, an enriched document out.

No Celery and no I/O of its own beyond the stores it is given (exact-duplicate claims,
near-duplicate bands, stories), so the worker and the in-process runner share it exactly: the worker
passes Redis-backed stores, ``newsflow run``/``enrich`` pass local ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.enrich import country, dedupe, entities, language, money, neardup, stories
from services.enrich.dedupe import ClaimStore
from services.enrich.neardup import NearDuplicateStore
from services.enrich.stories import DocumentTime, StoryAssignment, StoryParams, StoryStore
from shared.messages import CurrencyRate, EnrichedDocument, Entity, MoneyMention, ParsedDocument
from shared.settings import Settings

ENRICHER_VERSIONS = {
    "language": language.VERSION,
    "exact_dedupe": dedupe.VERSION,
    "near_dedupe": neardup.VERSION,
    "money": money.VERSION,
    "entities": entities.VERSION,
    "country": country.VERSION,
    "stories": stories.VERSION,
}


@dataclass(frozen=True)
class EnrichStores:
    """Where the stateful enrichers keep what they must remember across documents."""

    claims: ClaimStore
    near_duplicates: NearDuplicateStore
    stories: StoryStore


@dataclass(frozen=True)
class MoneyFields:
    """What the money step and the country focus add to a document, and its entities with the
    generic names linked to the document's country's institutions."""

    money: list[MoneyMention]
    rates: list[CurrencyRate]
    focus: country.CountryFocus
    entities: list[Entity]


def money_fields(
    doc: ParsedDocument, text: str, language_code: str, found: list[Entity]
) -> MoneyFields:
    """Money, rates and the country focus of ``text`` (the document's text, maybe cut), given
    the entities found in it: the focus reads the currencies the text writes out, and the
    rouble rule reads the focus and the places the text names."""
    reading = money.read_money(text, language=language_code)
    span = malformed_header_span(doc)
    if span is not None:
        # The line is kept as text for the reader, but its number is no one's money, and its
        # currency says nothing of the document's.
        kept = tuple(item for item in reading.found if not span[0] <= item.start < span[1])
        reading = money.Reading(reading.doc, kept)
    header = doc.header_rate.currency if doc.header_rate else None
    currencies = reading.qualified_currencies()

    def focus_of(entities: Sequence[Entity]) -> country.CountryFocus:
        return country.country_focus(
            entities,
            currencies,
            header_currency=header,
            language=language_code,
            title_end=len(doc.title),
        )

    # A generic name («the National Bank») is linked to the Belarusian institution until the
    # rest of the document says which country it is about.
    specific = country.without_generic_names(found)
    told = focus_of(specific)
    if len(specific) < len(found):
        found = country.localise_generic_names(found, told.country)
        focus = focus_of(found)
    else:
        focus = told
    places = [
        money.Place(entity.start, code)
        for entity in found
        if entity.type != "PER" and (code := country.entity_country(entity.id)) is not None
    ]
    context = money.RoubleContext(
        published=doc.published, places=places, header_currency=header, country=focus.country
    )
    mentions = money.resolve_money(reading, context)
    local = header or money.local_currency(focus.country, doc.published)
    rates = money.find_rates(reading, mentions, local=local)
    if doc.header_rate is not None:
        rates.insert(0, money.header_rate(doc.header_rate))
    return MoneyFields(mentions, rates, focus, found)


# How ingest keeps a malformed header line: as one of the first two paragraphs (it goes after the
# headline), starting as every header line does.
_HEADER_START = "date "
_HEADER_PARAGRAPHS = 2


def malformed_header_span(doc: ParsedDocument) -> tuple[int, int] | None:
    """Where in ``doc.text`` ingest kept a header-shaped first line it could not read, if it
    did (``header == "malformed"``)."""
    if doc.header != "malformed":
        return None
    offset = len(doc.title) + 2
    for paragraph in doc.paragraphs[:_HEADER_PARAGRAPHS]:
        if paragraph.startswith(_HEADER_START):
            return offset, offset + len(paragraph)
        offset += len(paragraph) + 2
    return None


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


def story_params(settings: Settings) -> StoryParams:
    return StoryParams(
        threshold=settings.story_threshold,
        merge_threshold=settings.story_merge_threshold,
        window_days=settings.story_window_days,
    )


def enrich_document(
    doc: ParsedDocument, stores: EnrichStores, settings: Settings
) -> EnrichedDocument:
    """The enrichers over one document (see ``enrich_with_story``)."""
    return enrich_with_story(doc, stores, settings)[0]


@dataclass(frozen=True)
class TextReading:
    """A document as the stateless enrichers read it: its language profile, and the part of its
    text (``head``) that entities and money read."""

    profile: language.LanguageProfile
    text: str


def read_document(doc: ParsedDocument, settings: Settings) -> TextReading:
    profile = language.language_profile(
        [doc.title, *doc.paragraphs],
        tuple(settings.languages),
        min_confidence=settings.language_min_confidence,
        min_letters=settings.language_min_letters,
        full_models=frozenset(settings.language_full_models),
    )
    return TextReading(profile, head(doc.text, settings.enrich_max_chars))


def enrich_with_stories(
    docs: Sequence[ParsedDocument], stores: EnrichStores, settings: Settings
) -> list[tuple[EnrichedDocument, StoryAssignment | None]]:
    """The enrichers over several documents, each result the one ``enrich_with_story`` gives:
    NER runs over their texts together (the tagger is faster in batches), the stores are asked
    one document after another, in order, so a copy later in the batch is a duplicate of one
    earlier in it, and stories are assigned in that order."""
    readings = [read_document(doc, settings) for doc in docs]
    found = entities.extract_entities_batch(
        [reading.text for reading in readings],
        [reading.profile.document.language for reading in readings],
    )
    return [
        enrich_with_story(doc, stores, settings, reading=reading, found_entities=doc_entities)
        for doc, reading, doc_entities in zip(docs, readings, found, strict=True)
    ]


def enrich_with_story(
    doc: ParsedDocument,
    stores: EnrichStores,
    settings: Settings,
    *,
    reading: TextReading | None = None,
    found_entities: list[Entity] | None = None,
) -> tuple[EnrichedDocument, StoryAssignment | None]:
    """The enrichers over one document, and how it was assigned to its story (None for an exact
    duplicate, which only reports its original's story). Entities and money read at most
    ``settings.enrich_max_chars`` of its text, with a warning on the document when that is
    not all of it; language and near-duplicates bound their own work, and stories read only
    what the others found. ``reading`` and ``found_entities``, when given, are this document's
    from ``enrich_with_stories``."""
    reading = reading or read_document(doc, settings)
    profile = reading.profile
    guess = profile.document
    duplicate_of = dedupe.duplicate_of(stores.claims, doc.id, doc.receipt)
    # An exact copy is not indexed, so it must not join (or start) a near-duplicate cluster.
    near = (
        None
        if duplicate_of
        else neardup.find_near_duplicate(doc.id, doc.text, stores.near_duplicates)
    )
    text = doc.text
    read = reading.text
    fields = doc.model_dump()
    if len(read) < len(text):
        fields["warnings"] = [
            *doc.warnings,
            f"entities and money read from the first {len(read)} of {len(text)} characters",
        ]
    if found_entities is None:
        found_entities = entities.extract_entities(read, language=guess.language)
    money_found = money_fields(doc, read, guess.language, found_entities)
    assignment: StoryAssignment | None = None
    if duplicate_of:
        # An exact copy is not indexed and must not count twice in its story: it only says
        # which story its original is in.
        story_id = stores.stories.story_of(doc.id)
    else:
        signature = stories.story_signature(
            read,
            language=guess.language,
            entities=money_found.entities,
            money=money_found.money,
            published=doc.published if doc.published_precision == "day" else None,
            implied=country.implied_institutions(read, money_found.focus.country),
        )
        assignment = stores.stories.assign(
            doc.id,
            signature,
            DocumentTime(
                published=doc.published,
                received=doc.received_at,
                precision=doc.published_precision,
            ),
            story_params(settings),
            near_duplicate_of=near.near_duplicate_of if near else None,
        )
        story_id = assignment.story_id
    enriched = EnrichedDocument(
        **fields,
        language=guess.language,
        language_confidence=guess.confidence,
        languages=profile.shares,
        duplicate_of=duplicate_of,
        near_duplicate_of=near.near_duplicate_of if near else None,
        similarity=near.similarity if near else None,
        cluster_id=near.cluster_id if near else None,
        money=money_found.money,
        rates=money_found.rates,
        country=money_found.focus.country,
        countries=money_found.focus.countries,
        entities=money_found.entities,
        story_id=story_id,
        story_similarity=assignment.similarity if assignment else None,
        story_merged_from=list(assignment.merged_from) if assignment else [],
        enrichers=ENRICHER_VERSIONS,
    )
    return enriched, assignment
