"""Gazetteer: names of countries, regions, cities and organisations -> cross-language ids.

An index of nominative names and the longest-match search over text; ``sources`` fills it.
Names are nominative; text is inflected. Each name token gets a base and declension class
(``declension.base_and_class``) and a text token matches when it is base + an ending of that
class, so «Беларуси», «Беларусі», «Беларуссю» find «Беларусь» and «Минске» finds «Минск» while
«Минский» does not. Matching never reads or writes anything but the arguments it is given.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

from services.enrich.entities.declension import base_and_class, ending_allowed, splits
from services.enrich.entities.keys import fold

WORD = re.compile(r"\w+")
# What may stand between two words of one name in running text: «ИННОПРОМ. Беларусь»,
# «"Великий камень"», «Санкт-Петербург». Never a line break or a comma.
_GAP = re.compile(r"[ \t\u00a0\-‐–—«»\"“”„'’.]{0,4}")

_RANK = {"org": 0, "country": 1, "region": 2, "city": 3}
MAX_CACHED_TOKEN = 64


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing the gazetteer knows."""

    id: str
    type: str  # ORG | LOC
    kind: str  # org | country | region | city
    population: int = 0
    country: str = ""  # ISO alpha-2, for cities


@dataclass(frozen=True, slots=True)
class Match:
    start: int
    end: int
    entry: Entry
    # The nominative name that matched: the entity's normal form («Минске» -> «Минск»). GeoNames
    # does not say which alternate name is which language, so this beats any per-language name.
    name: str
    weak: bool  # a city name that is also a common word: needs NER support to count


@dataclass(frozen=True, slots=True)
class _Alias:
    entry: Entry
    name: str
    weak: bool


def _better(new: _Alias, old: _Alias) -> bool:
    return (_RANK[new.entry.kind], -new.entry.population) < (
        _RANK[old.entry.kind],
        -old.entry.population,
    )


def _is_exact_token(token: str, name: str) -> bool:
    """Acronyms and CamelCase names (ЕС, EU, BelTA) match only as written; so do the words of a
    name the curated files write all in lower case (the agencies «dpa» and «sda» sign that way),
    which are also the only words found without a capital letter."""
    if name.islower():
        return True
    return len(token) >= 2 and (token.isupper() or any(c.isupper() for c in token[1:]))


class Gazetteer:
    def __init__(self) -> None:
        self._bases: dict[str, tuple[tuple[str, str], ...]] = {}
        self._exact: dict[str, str] = {}
        self._aliases: dict[tuple[str, ...], _Alias] = {}
        self._prefixes: set[tuple[str, ...]] = set()
        self._longest = 0
        self._token_cache: dict[str, tuple[str, ...]] = {}
        self._countries: dict[str, tuple[str, int]] = {}

    def __len__(self) -> int:
        return len(self._aliases)

    def add(self, name: str, entry: Entry, *, weak: bool = False, normal: str = "") -> None:
        """Index one name of an entry: a nominative, or a case form of ``normal`` (then its
        normal form)."""
        if entry.country:
            self._countries[entry.id] = (entry.country, entry.population)
        canon: list[str] = []
        for token in WORD.findall(name):
            # Interned: the same word is a key here, in ``_bases`` and in many names.
            if _is_exact_token(token, name):
                key = sys.intern("=" + token)
                self._exact[token] = key
            else:
                key = sys.intern(fold(token))
                for base, declension in base_and_class(key):
                    known = self._bases.get(base, ())
                    if (key, declension) not in known:
                        self._bases[sys.intern(base)] = (*known, (key, declension))
            canon.append(key)
        if not canon:
            return
        words = tuple(canon)
        # A one-word city name that declines like an adjective («Новый», «Центральный»,
        # «Московский») is far more often the adjective, even where NER calls it a place
        # («Центральной и Восточной Европе»): such names are left out.
        if entry.kind == "city" and len(words) == 1 and base_and_class(words[0])[0][1] == "adj":
            return
        alias = _Alias(entry, normal or name, weak)
        old = self._aliases.get(words)
        if (
            old is None
            or _better(alias, old)
            # Same place: keep the capitalised spelling for the normal form («Minsk», not
            # GeoNames' «minsk»).
            or (old.entry == entry and not old.name[:1].isupper() and name[:1].isupper())
        ):
            self._aliases[words] = alias
        for size in range(1, len(words)):
            self._prefixes.add(words[:size])
        self._longest = max(self._longest, len(words))

    def country_of(self, entry_id: str, *, min_population: int = 0) -> str | None:
        """The ISO alpha-2 code of the country a city of at least ``min_population`` lies in,
        if the gazetteer knows it."""
        country, population = self._countries.get(entry_id, ("", 0))
        return country if country and population >= min_population else None

    def _canon(self, token: str) -> tuple[str, ...]:
        """The name tokens a text token can be a form of, sorted: candidates are tried in this
        order and the first of equals wins, so it must not depend on set (hash) order."""
        found = self._token_cache.get(token)
        if found is not None:
            return found
        keys: set[str] = set()
        exact = self._exact.get(token)
        if exact is not None:
            keys.add(exact)
        for base, ending in splits(fold(token)):
            for key, declension in self._bases.get(base, ()):
                if ending_allowed(declension, ending):
                    keys.add(key)
        result = tuple(sorted(keys))
        # Only word-sized tokens are remembered: the cache lives as long as the worker, and a
        # stream of documents with huge unique tokens would otherwise fill it with megabytes.
        if len(self._token_cache) < 100_000 and len(token) <= MAX_CACHED_TOKEN:
            self._token_cache[token] = result
        return result

    def find(self, text: str) -> list[Match]:
        """Longest non-overlapping name matches, left to right; the first word capitalised."""
        tokens = [(m.start(), m.end(), m.group()) for m in WORD.finditer(text)]
        matches: list[Match] = []
        i = 0
        while i < len(tokens):
            start, _, word = tokens[i]
            if not word[0].isupper() and word not in self._exact:
                i += 1
                continue
            best: tuple[int, _Alias] | None = None
            paths: list[tuple[str, ...]] = [(key,) for key in self._canon(word)]
            j = i
            while paths:
                surface = text[start : tokens[j][1]]
                for path in paths:
                    alias = self._aliases.get(path)
                    if alias is not None and (
                        best is None
                        or best[0] < j
                        or _better(alias, best[1])
                        # Equal candidates: the one spelled as in the text gives the normal
                        # form («INNOPROM», not «Innoprom»).
                        or (alias.name == surface and best[1].name != surface
                            and not _better(best[1], alias))
                    ):  # fmt: skip
                        best = (j, alias)
                j += 1
                if j >= len(tokens) or j - i >= self._longest:
                    break
                gap = text[tokens[j - 1][1] : tokens[j][0]]
                if not _GAP.fullmatch(gap):
                    break
                following = self._canon(tokens[j][2])
                paths = [
                    (*path, key) for path in paths if path in self._prefixes for key in following
                ]
            if best is None:
                i += 1
                continue
            last, alias = best
            matches.append(Match(start, tokens[last][1], alias.entry, alias.name, alias.weak))
            i = last + 1
        return matches
