"""The result side of search, as pure functions shared by both backends: snippets and facets.

Snippets are built here, in Python, from the original text for either backend, so a hit reads
the same whether SQLite or PostgreSQL found it. Nothing here touches storage.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, cast

from services.index.backend import FacetCount, Facets, SearchHit, SearchResult
from services.index.stemming import iter_words, stem_words

SNIPPET_WIDTH = 200

# How many entities per type a facet lists.
ENTITY_FACET_SIZE = 10

_ELLIPSIS = "\u2026"
_SPACES = re.compile(r"\s+")
_TRAILING_PUNCTUATION = re.compile(r"[^\w\s]*")

FacetKind = Literal["language", "currency", "entity"]
# (kind, value, entity id, entity normal form, count): language and currency rows leave the
# entity columns None; entity rows carry the type as value. Both backends' facet queries
# return these rows, one per group.
FacetRow = tuple[str, str, str | None, str | None, int]

# Both backends answer a search with one statement whose rows are told apart by their first
# column: one row with the total, one per hit, one per facet value.
TOTAL_ROW, HIT_ROW, FACET_ROW = 0, 1, 2


def assemble_result(
    rows: Sequence[tuple[Any, ...]],
    *,
    facets: bool,
    stems: set[str],
    to_hit: Callable[[tuple[Any, ...], set[str]], SearchHit],
) -> SearchResult:
    """The ``SearchResult`` from the answer statement's rows (``to_hit`` reads a hit row)."""
    total = next(int(row[-1]) for row in rows if row[0] == TOTAL_ROW)
    found_facets = None
    if facets:
        found_facets = build_facets(
            (kind, value, entity_id, normal, int(count))
            for part, *_, kind, value, entity_id, normal, count in rows
            if part == FACET_ROW
        )
    hits = [to_hit(row, stems) for row in rows if row[0] == HIT_ROW]
    return SearchResult(total=total, hits=hits, facets=found_facets)


def _ordered(counts: Counter[str]) -> list[FacetCount]:
    # Most documents first, then by value, so equal counts list the same on every backend.
    items = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [FacetCount(value=value, count=count) for value, count in items]


def build_facets(rows: Iterable[FacetRow]) -> Facets:
    """Turn grouped facet rows into ``Facets``: each list by descending count, then value.

    An entity's label is its most frequent normal form in the result set (ties: the smallest),
    since one id ("BY") has a normal form per language ("Беларусь", "Belarus").
    """
    languages: Counter[str] = Counter()
    money: Counter[str] = Counter()
    entity_counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for kind, value, entity_id, normal, count in rows:
        if kind == "language":
            languages[value] += count
        elif kind == "currency":
            money[value] += count
        elif entity_id is not None:
            entity_counts[(value, entity_id)][normal or ""] += count
    per_type: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for (kind, entity_id), normals in entity_counts.items():
        label = min(normals.items(), key=lambda item: (-item[1], item[0]))[0]
        per_type[kind].append((sum(normals.values()), entity_id, label))
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
