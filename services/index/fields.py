"""What a document contributes to filters and facets, derived the same way for every backend.

Both backends store these values beside the document (SQLite in side tables, PostgreSQL in array
columns), and both fold a searched entity name with ``fold_name``, so a filter means the same on
either. Pure functions; nothing here touches storage or changes a document.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.index.stemming import LANGUAGE_ALGORITHMS, PYTHON_ALGORITHMS, tokenize
from shared.messages import EnrichedDocument, EntityType


def text_config(language: str) -> str:
    """How a document in ``language`` is searched on PostgreSQL: the name of its stemmer, or
    simple (lowercased words only).

    Deliberately the languages SQLite stems, with the same stemmers, so both backends stem
    exactly the same documents. For Snowball's languages the name is PostgreSQL's own text
    search configuration; Belarusian and Ukrainian (``PYTHON_ALGORITHMS``) are stemmed in
    Python and stored and queried as simple words (``regconfig``).
    """
    language = language.lower()
    return LANGUAGE_ALGORITHMS.get(language) or PYTHON_ALGORITHMS.get(language) or "simple"


def python_stemmed(config: str) -> bool:
    """True for the configurations whose text is stemmed in Python before PostgreSQL sees it."""
    return config in PYTHON_ALGORITHMS.values()


def regconfig(config: str) -> str:
    """The PostgreSQL text search configuration that ``config``'s words are stored with."""
    return "simple" if python_stemmed(config) else config


TEXT_CONFIGS: tuple[str, ...] = (
    *dict.fromkeys(LANGUAGE_ALGORITHMS.values()),
    *PYTHON_ALGORITHMS.values(),
    "simple",
)


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


def cluster_key(doc: EnrichedDocument) -> str:
    """What near-duplicates share: the cluster id, or the document's own id when it has none."""
    return doc.cluster_id or doc.id
