"""What both backends share of a search: the answer statement's layout, hits, snippets, facets.

Each backend finds, ranks and collapses the matching documents its own way (FTS5 and side
tables, or a tsvector and arrays) into ``matched`` and ``result`` CTEs; everything around that is
here, once: ``AnsweringIndex`` parses the query and answers or explains it, ``answer_sql`` lays
out the one statement that returns the total, the page and the facets, and the rows become a
``SearchResult`` with snippets built in Python from the original text, so a hit reads the same
whichever backend found it. Nothing here opens a connection; the backends run the statement.
"""

# The answer statement is assembled from fixed fragments, this module's and the backends' own;
# values, query text included, are always bound parameters.
# ruff: noqa: S608

from __future__ import annotations

import gettext
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Literal, TypeVar, cast

from pydantic import TypeAdapter

from services.index import fields
from services.index.backend import (
    ClosingOnExit,
    FacetCount,
    Facets,
    SearchHit,
    SearchQuery,
    SearchResult,
)
from services.index.query import Node, highlight_stems, parse
from services.index.stemming import iter_words, stem_words
from shared.messages import Entity, EntityType, MoneyMention
from shared.names import has_cyrillic, romanize

SNIPPET_WIDTH = 200

# How many entities per type a facet lists.
ENTITY_FACET_SIZE = 10

# How many documents naming an entity are read to learn which ids the name stands for.
ENTITY_SAMPLE = 50

# Facet labels are in this language unless the query says otherwise (NEWSFLOW_DISPLAY_LANGUAGE).
DEFAULT_LABEL_LANGUAGE = "en"

NO_WORDS_PLAN = "no words in the query: answered without a database query"

_ELLIPSIS = "\u2026"
_SPACES = re.compile(r"\s+")
_TRAILING_PUNCTUATION = re.compile(r"[^\w\s]*")

_T = TypeVar("_T")
_ENTITIES = TypeAdapter(list[Entity])
_MONEY = TypeAdapter(list[MoneyMention])

# (kind, value, entity id, entity normal form, count): language and currency rows leave the
# entity columns None; entity rows carry the type as value. Both backends' facet queries
# return these rows, one per group.
FacetRow = tuple[str, str, str | None, str | None, int]

# Both backends answer a search with one statement whose rows are told apart by their first
# column: one row with the total, one per hit, one per facet value.
TOTAL_ROW, HIT_ROW, FACET_ROW = 0, 1, 2

# The answer statement's columns after ``part``, named and typed by the first branch of its
# UNION, the total row (PostgreSQL types a UNION's columns by it; both order by its names): a hit
# row fills the first ten, a facet row the last five, the total row only the last (its count).
_ANSWER_HIT_COLUMNS = (
    ("id", "text"),
    ("score", "float8"),
    ("title", "text"),
    ("body", "text"),
    ("language", "text"),
    ("published", "date"),
    ("cluster_id", "text"),
    ("entities", "jsonb"),
    ("money", "jsonb"),
    ("position", "bigint"),
)
_ANSWER_FACET_COLUMNS = (
    ("kind", "text"),
    ("value", "text"),
    ("entity_id", "text"),
    ("normal", "text"),
)


@dataclass(frozen=True)
class Dialect:
    """How one backend's SQL spells what the answer statement needs from it.

    ``key`` joins a result row to its document; ``documents`` names the table; ``entities`` and
    ``money`` are a document's lists as JSON; ``order`` ranks the result; ``placeholder`` is how
    a bound parameter is written, ``{}`` standing for its name; ``facets`` is a query over
    ``result`` giving rows ``(kind, value, entity_id, normal, n)`` (see ``FacetRow``).
    """

    key: str
    documents: str
    entities: str
    money: str
    order: str
    placeholder: str
    facets: str
    typed_nulls: bool

    def param(self, name: str) -> str:
        """The placeholder of the bound parameter ``name`` (``:name``, ``%(name)s``)."""
        return self.placeholder.format(name)

    def column_filters(self, query: SearchQuery) -> Iterator[tuple[str, str, object]]:
        """``(clause, parameter, value)`` for each filter ``query`` sets on the documents' own
        columns: language, the published date range (both ends inclusive) and money or none."""
        filters = (
            ("d.language", "=", "lang", query.lang),
            ("d.published", ">=", "since", query.since),
            ("d.published", "<=", "until", query.until),
            ("d.has_money", "=", "has_money", query.has_money),
        )
        for column, operator, name, value in filters:
            if value is not None:
                yield f"{column} {operator} {self.param(name)}", name, value


def _nulls(dialect: Dialect, columns: Sequence[tuple[str, str]]) -> str:
    typed = dialect.typed_nulls
    return ", ".join(f"NULL{f'::{kind}' if typed else ''} AS {name}" for name, kind in columns)


def answer_sql(dialect: Dialect, *, facets: bool) -> str:
    """One statement for the whole answer, so the matching documents are found, ranked and
    collapsed once: a total row, the page's hit rows and, if asked for, the facet rows, told
    apart by their first column.

    The caller's ``matched`` and ``result`` CTEs go where ``{ctes}`` stands (the only
    placeholder, filled with ``str.format`` or psycopg's ``sql.SQL.format``).
    """
    parts = [
        f"SELECT {TOTAL_ROW} AS part, {_nulls(dialect, _ANSWER_HIT_COLUMNS)},"
        f" {_nulls(dialect, _ANSWER_FACET_COLUMNS)}, count(*) AS n FROM result",
        f"SELECT {HIT_ROW}, d.id, p.score, d.title, d.body, d.language, d.published,"
        f" d.cluster_id, {dialect.entities}, {dialect.money}, p.position,"
        f" NULL, NULL, NULL, NULL, NULL"
        f" FROM page AS p JOIN {dialect.documents} AS d ON d.{dialect.key} = p.{dialect.key}",
    ]
    if facets:
        parts.append(
            f"SELECT {FACET_ROW}, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
            f" kind, value, entity_id, normal, n FROM ({dialect.facets}) AS f"
        )
    ranked = ", ".join(dict.fromkeys((dialect.key, "id", "score", "published")))
    # The page is a top-N sort of the result; position orders just those N rows.
    return (
        "{ctes}, page AS ("
        f" SELECT {dialect.key}, score, row_number() OVER (ORDER BY {dialect.order}) AS position"
        f" FROM (SELECT {ranked} FROM result ORDER BY {dialect.order}"
        f" LIMIT {dialect.param('limit')} OFFSET {dialect.param('offset')}) AS top)"
        f" {' UNION ALL '.join(parts)} ORDER BY part, position"
    )


def hit_from_row(row: tuple[Any, ...], stems: set[str]) -> SearchHit:
    """A hit from an answer row. SQLite hands dates and JSON back as text, PostgreSQL as values."""
    _, doc_id, score, title, body, language, published, cluster_id, entities, money, *_ = row
    if isinstance(published, str):
        published = date.fromisoformat(published)
    return SearchHit(
        id=doc_id,
        title=title,
        published=published,
        language=language,
        score=float(score),
        snippet=build_snippet(title, body, language, stems),
        entities=_from_json(_ENTITIES, entities),
        money=_from_json(_MONEY, money),
        cluster_id=cluster_id,
    )


def _from_json(adapter: TypeAdapter[_T], value: object) -> _T:
    if value is None:
        return adapter.validate_python([])
    if isinstance(value, str | bytes):
        return adapter.validate_json(value)
    return adapter.validate_python(value)


def assemble_result(
    rows: Sequence[tuple[Any, ...]], *, facets: bool, stems: set[str], label_language: str = "en"
) -> SearchResult:
    """The ``SearchResult`` from the answer statement's rows."""
    total = next(int(row[-1]) for row in rows if row[0] == TOTAL_ROW)
    found_facets = None
    if facets:
        found_facets = build_facets(
            (
                (kind, value, entity_id, normal, int(count))
                for part, *_, kind, value, entity_id, normal, count in rows
                if part == FACET_ROW
            ),
            label_language,
        )
    hits = [hit_from_row(row, stems) for row in rows if row[0] == HIT_ROW]
    return SearchResult(total=total, hits=hits, facets=found_facets)


def _parsed(query: SearchQuery) -> tuple[str, Node | None] | None:
    """The query's stripped text and its parse (None: no text, a listing by the filters), or
    None when it has text but no words (only punctuation), which nothing can match."""
    text = query.q.strip()
    node = parse(text) if text else None
    return None if text and node is None else (text, node)


class AnsweringIndex(ClosingOnExit):
    """What both backends do around their answer statement: parse the query, answer it or
    explain its plan, and build the result. Each backend says how it runs the statement."""

    def search(self, query: SearchQuery) -> SearchResult:
        """Answer ``query`` (see ``SearchQuery`` for its meaning): the page of hits, best first,
        the total before ``limit``/``offset``, and facets when asked for."""
        parsed = _parsed(query)
        if parsed is None:
            return SearchResult(total=0, hits=[], facets=Facets() if query.facets else None)
        rows = self._answer(query, *parsed)
        return assemble_result(
            rows,
            facets=query.facets,
            stems=highlight_stems(parsed[1]),
            label_language=query.label_language or DEFAULT_LABEL_LANGUAGE,
        )

    def explain(self, query: SearchQuery, *, analyze: bool = False) -> list[str]:
        """The database's plan for ``query``'s page (and facets, when asked for): shows whether
        the indexes serve it. ``analyze`` runs it and adds timings where the database can."""
        parsed = _parsed(query)
        if parsed is None:
            return [NO_WORDS_PLAN]
        return self._plan(query, *parsed, analyze=analyze)

    def _answer(self, query: SearchQuery, text: str, node: Node | None) -> list[tuple[Any, ...]]:
        """The rows of the answer statement for ``query`` (``text`` stripped, ``node`` parsed)."""
        raise NotImplementedError

    def entity_ids(self, query: SearchQuery) -> list[str]:
        """The ids ``query.entity`` resolves to when it is a name (any language, script, case):
        those of the entities it names in the documents the name filter alone finds (at most
        ``ENTITY_SAMPLE`` of them, which is plenty: a name names few entities). The entity
        filter then also takes every document with one of these ids."""
        if query.entity is None or fields.looks_like_id(query.entity):
            return []
        named = self._named_entities(query.entity, query.type, ENTITY_SAMPLE)
        return fields.resolve_entity_ids(query.entity, query.type, named)

    def _named_entities(
        self, name: str, kind: EntityType | None, limit: int
    ) -> list[tuple[str, list[fields.NamedEntity]]]:
        """Language and entities of up to ``limit`` documents the name filter finds for ``name``
        (of type ``kind``), with no other filter."""
        raise NotImplementedError

    def _plan(
        self, query: SearchQuery, text: str, node: Node | None, *, analyze: bool
    ) -> list[str]:
        raise NotImplementedError


def _ordered(counts: Counter[str]) -> list[FacetCount]:
    # Most documents first, then by value, so equal counts list the same on every backend.
    items = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [FacetCount(value=value, count=count) for value, count in items]


# Languages written in Cyrillic; a label for any other is shown in Latin letters.
_CYRILLIC_LANGUAGES = frozenset({"ru", "be", "uk", "bg", "sr", "mk", "kk", "ky", "mn", "tg"})
_COUNTRY_CODE = re.compile(r"[A-Z]{2}")


def _most_frequent(normals: Counter[str]) -> str:
    return min(normals.items(), key=lambda item: (-item[1], item[0]))[0]


@lru_cache(maxsize=512)
def country_name(code: str, language: str) -> str | None:
    """A country's name in ``language`` from pycountry's ISO 3166 translations, or None."""
    import pycountry  # noqa: PLC0415  # only facets need it, and only for country ids

    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return None
    english = str(getattr(country, "common_name", None) or country.name)
    if language == "en":
        return english
    try:
        translation = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, [language])
    except OSError:  # no translation into that language
        return None
    return translation.gettext(english)


def entity_label(entity_id: str, normals: dict[str, Counter[str]], language: str) -> str:
    """An entity's label in ``language``, from its normal forms by the language of the documents
    they come from (``normals[language][normal]`` = documents).

    In order: its most frequent normal form in documents of that language; for a country, its
    name in that language (ISO 3166 translations); then its most frequent form in the script of
    that language, where for a Latin-script language a person's Cyrillic name comes first,
    romanized («Надежда Лазаревич» -> «Nadezhda Lazarevich», not German «Nadeschda
    Lasarewitsch»), while an organisation or place is better named by another language's Latin
    form («EU») than by a romanized abbreviation («ES»); else its most frequent form. Ties: the
    smallest.
    """
    own = normals.get(language)
    if own:
        return _most_frequent(own)
    if _COUNTRY_CODE.fullmatch(entity_id):
        name = country_name(entity_id, language)
        if name is not None:
            return name
    every: Counter[str] = sum(normals.values(), Counter())
    cyrillic = Counter({normal: n for normal, n in every.items() if has_cyrillic(normal)})
    if language in _CYRILLIC_LANGUAGES:
        return _most_frequent(cyrillic or every)
    latin = every - cyrillic
    if cyrillic and (entity_id.startswith("per:") or not latin):
        return romanize(_most_frequent(cyrillic))
    return _most_frequent(latin or every)


def build_facets(rows: Iterable[FacetRow], label_language: str = "en") -> Facets:
    """Turn grouped facet rows into ``Facets``: each list by descending count, then value.

    Entity rows are ``("entity:<document language>", type, id, normal, count)``: one id ("BY")
    has a normal form per language ("Беларусь", "Belarus"), and its label is the one for
    ``label_language`` (see ``entity_label``).
    """
    languages: Counter[str] = Counter()
    money: Counter[str] = Counter()
    entity_counts: dict[tuple[str, str], dict[str, Counter[str]]] = defaultdict(
        lambda: defaultdict(Counter)
    )
    for kind, value, entity_id, normal, count in rows:
        if kind == "language":
            languages[value] += count
        elif kind == "currency":
            money[value] += count
        elif entity_id is not None:
            document_language = kind.partition(":")[2]
            entity_counts[(value, entity_id)][document_language][normal or ""] += count
    per_type: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for (kind, entity_id), normals in entity_counts.items():
        label = entity_label(entity_id, normals, label_language)
        count = sum(sum(counts.values()) for counts in normals.values())
        per_type[kind].append((count, entity_id, label))
    entities = {
        cast("Literal['PER', 'ORG', 'LOC']", kind): [
            FacetCount(value=entity_id, count=count, label=label)
            for count, entity_id, label in sorted(items, key=lambda item: (-item[0], item[1]))[
                :ENTITY_FACET_SIZE
            ]
        ]
        for kind, items in sorted(per_type.items())
    }
    return Facets(language=_ordered(languages), entities=entities, currency=_ordered(money))


def _highlighted_window(text: str, language: str, stems: set[str], width: int) -> str | None:
    words = list(iter_words(text))
    word_stems = stem_words([word for _, _, word in words], language)
    hits = [
        (start, end)
        for (start, end, _), stem in zip(words, word_stems, strict=True)
        if stem in stems
    ]
    if not hits:
        return None
    first_start, first_end = hits[0]
    centre = (first_start + first_end) // 2
    low = max(0, min(centre - width // 2, len(text) - width, first_start))
    high = max(low + width, first_end)
    # Snap to whole words so the window never opens or closes mid-word.
    start = min([s for s, _, _ in words if s >= low] + [first_start])
    end = max([e for _, e, _ in words if e <= high] + [first_end])
    # Keep the closing punctuation of the last word: a snippet ending "parks." reads better.
    match = _TRAILING_PUNCTUATION.match(text, end)
    end = match.end() if match else end
    pieces: list[str] = []
    cursor = start
    for hit_start, hit_end in hits:
        if hit_end > end:
            break
        pieces.extend([text[cursor:hit_start], "[", text[hit_start:hit_end], "]"])
        cursor = hit_end
    pieces.append(text[cursor:end])
    snippet = _SPACES.sub(" ", "".join(pieces)).strip()
    prefix = _ELLIPSIS if start > 0 else ""
    suffix = _ELLIPSIS if end < len(text.rstrip()) else ""
    return prefix + snippet + suffix


def build_snippet(
    title: str, body: str, language: str, stems: set[str], width: int = SNIPPET_WIDTH
) -> str:
    """Return about ``width`` characters of the original text around the first matching word.

    A word matches when its stem under the document's ``language`` is one of the query ``stems``,
    the same rule the index applies, and each matching word is wrapped in ``[`` ``]``. The body is
    preferred, since the title is shown beside the snippet anyway; with no match anywhere the
    snippet is the start of the body.
    """
    for text in (body, title):
        window = _highlighted_window(text, language, stems, width)
        if window is not None:
            return window
    lead = _SPACES.sub(" ", body or title).strip()
    if len(lead) <= width:
        return lead
    cut = lead.rfind(" ", 0, width + 1)
    return lead[: cut if cut > 0 else width] + _ELLIPSIS
