"""What a document contributes to filters and facets, derived the same way for every backend.

Both backends store these values beside the document (SQLite in side tables, PostgreSQL in array
columns), and both fold a searched entity name with ``fold_name`` and key it with
``query_name_keys``, so a filter means the same on either. Pure functions; nothing here touches
storage or changes a document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from services.index.stemming import LANGUAGE_ALGORITHMS, PYTHON_ALGORITHMS, tokenize
from shared.messages import EnrichedDocument, Entity, EntityType
from shared.names import has_cyrillic, name_key

# A phonetic key with fewer consonants than this says too little to match a name by («Ли», «Уфа»,
# «Киев» key to one or two letters): such a word matches only as it is written.
MIN_NAME_KEY = 3
# A searched name's language is unknown: each word is keyed as every language of its script
# writes names (Belarusian reads дз and ц before soft vowels as д and т; German sch, w, z).
_CYRILLIC_NAME_LANGUAGES = ("ru", "be")
_LATIN_NAME_LANGUAGES = ("de", "en")


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
    """One entity of a document, once per (type, id), with its fullest normal form."""

    type: EntityType
    id: str
    normal: str


def entity_facets(doc: EnrichedDocument) -> list[EntityFacet]:
    """The document's distinct entities in order of first mention: what entity facets count.

    Each keeps the normal form of the most words it has in the document (the first of those):
    a headline may say «Лазаревич» and the text «Надежда Лазаревич», and a facet label should
    be the full name.
    """
    seen: dict[tuple[str, str], EntityFacet] = {}
    for entity in doc.entities:
        key = (entity.type, entity.id)
        known = seen.get(key)
        if known is None or len(entity.normal.split()) > len(known.normal.split()):
            seen[key] = EntityFacet(entity.type, entity.id, entity.normal)
    return list(seen.values())  # a dict keeps the order keys were first added in


def _key(word: str, language: str) -> str | None:
    key = name_key(word, language)
    return f"key:{key}" if len(key) >= MIN_NAME_KEY else None


def entity_names(doc: EnrichedDocument) -> set[tuple[EntityType, str]]:
    """``(type, folded name)`` for every normal form and surface text of every entity, and
    ``(type, "key:<phonetic key>")`` for each of their words, keyed as the document's language
    writes names: what a name searched in another script or language is matched by.

    A person's id is built from the keys of their first name and surname (``per:ndsd-lsrvc``),
    so its parts are keys too: a surname searched alone meets the person in every document,
    whatever form the text gave it.
    """
    return {
        (entity.type, name)
        for entity in doc.entities
        for name in _names_of(entity, doc.language)
        if name
    }


class NamedEntity(NamedTuple):
    """What name resolution reads of a stored entity (cheaper to build than an ``Entity``)."""

    type: str
    id: str
    normal: str
    text: str


def named_entities(entities: Iterable[dict[str, Any]]) -> list[NamedEntity]:
    """The stored entities' JSON objects as ``NamedEntity`` tuples."""
    return [NamedEntity(e["type"], e["id"], e["normal"], e["text"]) for e in entities]


def _names_of(entity: Entity | NamedEntity, language: str) -> set[str]:
    """One entity's folded normal form and text, and the keys of their words and of its id."""
    names = {fold_name(entity.normal), fold_name(entity.text)}
    for name in (entity.normal, entity.text):
        names.update(key for word in tokenize(name) if (key := _key(word, language)) is not None)
    if entity.type == "PER" and entity.id.startswith("per:"):
        parts = entity.id.removeprefix("per:").split("-")
        names.update(f"key:{part}" for part in parts if len(part) >= MIN_NAME_KEY)
    return names


# An entity filter written as an id (``BY``, ``RU-SA``, ``geonames:625144``, ``per:ndsd-lsrvc``)
# is not resolved as a name: it finds its own documents.
_ID = re.compile(r"[A-Z]{2}(?:-[A-Z0-9]{1,3})?|[a-z]+:\S+")


def looks_like_id(value: str) -> bool:
    return _ID.fullmatch(value) is not None


def resolve_entity_ids(
    name: str, kind: EntityType | None, named: Iterable[tuple[str, Sequence[NamedEntity]]]
) -> list[str]:
    """The ids of the entities that ``name`` names among ``named`` (documents' languages and
    entities, found by the name filter): the entities whose folded normal form or text is the
    name, or whose words meet every word of it by key (``query_name_keys``); of type ``kind``
    when given. Searching by these ids as well finds the articles that name the same entity in
    words that share nothing with ``name`` («Нацбанк» -> ``org:nbrb`` -> «National Bank»)."""
    folded = fold_name(name)
    keyed = query_name_keys(name)
    ids: set[str] = set()
    for language, entities in named:
        for entity in entities:
            if kind is not None and entity.type != kind:
                continue
            names = _names_of(entity, language)
            if folded in names or (keyed and all(names.intersection(keys) for keys in keyed)):
                ids.add(entity.id)
    return sorted(ids)


def query_name_keys(name: str) -> list[list[str]]:
    """The keys a searched entity name must all meet, one list of alternatives per word: a
    document matches when, for every word, one of its entities' words has one of the word's
    keys. Empty when a word has no key long enough (then only the id or the exact name match).

    «Лазарэвіч», «Lasarewitsch», «ЛАЗАРЕВИЧ» and «Lazarevich» all key to ``key:lsrvc``.
    """
    per_word: list[list[str]] = []
    for word in tokenize(name):
        languages = _CYRILLIC_NAME_LANGUAGES if has_cyrillic(word) else _LATIN_NAME_LANGUAGES
        keys = sorted({key for lang in languages if (key := _key(word, lang)) is not None})
        if not keys:
            return []
        per_word.append(keys)
    return per_word


def currencies(doc: EnrichedDocument) -> list[str]:
    """The distinct currencies of the document's money mentions, sorted."""
    return sorted({mention.currency for mention in doc.money})


def rate_pairs(doc: EnrichedDocument) -> list[str]:
    """The distinct rates the document quotes, as ``BASE/QUOTE`` (``/QUOTE`` when the base is not
    written), sorted: what the rate filter matches. Each backend derives the same strings from
    the stored document in SQL (``sqlite._SCHEMA_V3``, ``postgres`` migration 3)."""
    return sorted({f"{rate.base or ''}/{rate.quote}" for rate in doc.rates})
