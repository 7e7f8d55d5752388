"""How far the per-process caches of pure functions (of words, of dates) may grow: one budget.

Enrich and index children cache pure functions of words for the life of the process (a token's
tagger row, a name's phonetic key, a word's lemma). They fill with the stream's vocabulary, a
few to twenty new entries per news article (measured on the real-news benchmark), so after a
week of news it is their caps, not what the first thousand documents left in them, that decide
what a worker holds. An entry costs 130 to 400 bytes (key, value and the cache's node), a word's
pymorphy2 readings 1.8 KB (``python bench/caches.py`` measures each on real news words and
prints what it holds when full).
With the caps below an enrich child's caches hold at most about 25 MB and an index child's about
10 MB; the caps they replaced (10 000 to 200 000 entries) let an enrich child's grow to about
185 MB and an index child's to about 71, most of a worker's memory budget.

The sizes are what a thousand or so news articles add (names and rare words recur within days,
so an LRU cache of the last ones keeps the hits); the common words, the hits that matter, stay
in any of them.
"""

from __future__ import annotations

from typing import Final, TypeVar

WORD_KEYS: Final = 8192
"""``functools.lru_cache`` size of the name-key, declension and entity-country functions."""
TOKENS: Final = 20_000
"""Entries of a hand-written token cache (the taggers' rows, the gazetteer's name tokens)."""
LEMMAS: Final = 16_384
"""``functools.lru_cache`` size of the index's Belarusian stems and Ukrainian lemmas."""
PARSES: Final = 2048
"""Words whose pymorphy2 readings the Russian declension keeps (~1.8 KB a word)."""
DATES: Final = 4096
"""``functools.lru_cache`` size of the stories' date decoding and of a named date's day near a
story's span."""
QUERY_FORMS: Final = 4096
"""``functools.lru_cache`` size of the Ukrainian query forms: only searched words reach it."""

_Key = TypeVar("_Key")
_Value = TypeVar("_Value")


def remember(cache: dict[_Key, _Value], key: _Key, value: _Value, limit: int) -> None:
    """Keep ``value`` under ``key``, emptying ``cache`` first when it holds ``limit`` entries.

    Emptied rather than left full: a cache that stops taking entries keeps the vocabulary of the
    worker's first hours for good, while the news moves on to other names. The common words come
    back at their next occurrence, so emptying costs a few hundred misses, once per ``limit``
    new words."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
