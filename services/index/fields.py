"""What a document contributes to filters and facets, derived the same way for every backend.

Both backends store these values beside the document (SQLite in side tables, PostgreSQL in array
columns), and both fold a searched entity name with ``fold_name``, so a filter means the same on
either. Pure functions; nothing here touches storage or changes a document.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.index.stemming import LANGUAGE_ALGORITHMS, tokenize
from shared.messages import EnrichedDocument, EntityType


def text_config(language: str) -> str:
    """The PostgreSQL text search configuration for a language: its Snowball stemmer or simple.

    Deliberately the same languages SQLite stems (``LANGUAGE_ALGORITHMS``), so both backends
    stem exactly the same documents.
    """
    return LANGUAGE_ALGORITHMS.get(language.lower(), "simple")


TEXT_CONFIGS: tuple[str, ...] = (*dict.fromkeys(LANGUAGE_ALGORITHMS.values()), "simple")


def fold_name(name: str) -> str:
    """A name as compared by the entity filter: its words, folded, single-spaced.

    "А. Лукашенко", "а лукашенко" and "A.  ЛУКАШЕНКО" all become "а лукашенко".
    """
    return " ".join(tokenize(name))


@dataclass(frozen=True)
class EntityFacet:
    """One entity of a document, once per (type, id), with the normal form it was first seen in."""

    type: EntityType
    id: str
    normal: str


def entity_facets(doc: EnrichedDocument) -> list[EntityFacet]:
    """The document's distinct entities in order of first mention: what entity facets count."""
    seen: dict[tuple[str, str], EntityFacet] = {}
    for entity in doc.entities:
        facet = EntityFacet(entity.type, entity.id, entity.normal)
        seen.setdefault((entity.type, entity.id), facet)
    return list(seen.values())


def entity_names(doc: EnrichedDocument) -> set[tuple[EntityType, str]]:
    """``(type, folded name)`` for every normal form and surface text of every entity."""
    names = {(entity.type, fold_name(entity.normal)) for entity in doc.entities}
    names |= {(entity.type, fold_name(entity.text)) for entity in doc.entities}
    return {(kind, name) for kind, name in names if name}


def currencies(doc: EnrichedDocument) -> list[str]:
    """The distinct currencies of the document's money mentions, sorted."""
    return sorted({mention.currency for mention in doc.money})


def rate_pairs(doc: EnrichedDocument) -> list[str]:
    """The distinct rates the document quotes, as ``BASE/QUOTE`` (``/QUOTE`` when the base is not
    written), sorted: what the rate filter matches. Each backend derives the same strings from
    the stored document in SQL (``sqlite._SCHEMA_V3``, ``postgres`` migration 3)."""
    return sorted({f"{rate.base or ''}/{rate.quote}" for rate in doc.rates})


def cluster_key(doc: EnrichedDocument) -> str:
    """What near-duplicates share: the cluster id, or the document's own id when it has none."""
    return doc.cluster_id or doc.id
