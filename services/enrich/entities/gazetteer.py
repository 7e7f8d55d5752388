"""Gazetteer: names of countries, regions, cities and organisations -> cross-language ids.

An index of nominative names and the longest-match search over text; ``sources`` fills it.
Names are nominative; text is inflected. Each name token gets a base and declension class
(``declension.base_and_class``) and a text token matches when it is base + an ending of that
class, so «Беларуси», «Беларусі», «Беларуссю» find «Беларусь» and «Минске» finds «Минск» while
«Минский» does not. Matching never reads or writes anything but the arguments it is given.

``GazetteerBuilder`` collects the names in dicts; ``build()`` turns them into the read-only
``Gazetteer`` that matches, held in string tables and numpy arrays (``string_table``): ~10 MB
where the dicts of 120,000 names took ~55, and nothing a prefork child copies as it reads them.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

import numpy as np

from services.enrich.entities.declension import base_and_class, ending_allowed, splits
from services.enrich.entities.keys import fold
from services.enrich.entities.string_table import StringList, StringTable
from shared import caches

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


class GazetteerBuilder:
    """The names being collected (``sources`` adds them); ``build()`` makes the gazetteer."""

    def __init__(self) -> None:
        self._bases: dict[str, tuple[tuple[str, str], ...]] = {}
        self._exact: dict[str, str] = {}
        self._aliases: dict[tuple[str, ...], _Alias] = {}
        self._prefixes: set[tuple[str, ...]] = set()
        self._longest = 0
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

    def build(self) -> Gazetteer:
        return Gazetteer(self)


def _key_char(index: int) -> str:
    """The one character that stands for the ``index``-th name token (in sorted order) inside
    a name's path, skipping the surrogates, which are not characters a string may hold alone."""
    return chr(index if index < _SURROGATES else index + _SURROGATE_COUNT)


_SURROGATES = 0xD800
_SURROGATE_COUNT = 0x800
_KINDS = tuple(_RANK)
# Within a rank, the more populous place wins; no place has ten billion people.
_POPULATION_SCALE = 10**10


class Gazetteer:
    """The built name index, read-only. A name is a path: the characters that stand for its
    tokens (``_key_char``), in the order of the keys' own sorting, so paths and candidates are
    tried in the order the builder's tuples of keys were."""

    def __init__(self, built: GazetteerBuilder) -> None:
        keys = sorted(
            set(built._exact.values())
            | {key for pairs in built._bases.values() for key, _ in pairs}
            | {key for words in built._aliases for key in words}
        )
        char = {key: _key_char(i) for i, key in enumerate(keys)}
        self._exact = StringTable((token, ord(char[key])) for token, key in built._exact.items())
        # The exact tokens that start in lower case (11 500 of 12 500), as a set: ``find`` asks
        # for each lower-case word, most of a text's words, and the table's lookup (hash, probe,
        # encode, compare) was half of its time. ~1 MB, loaded before the fork and shared.
        self._lowercase_exact = frozenset(token for token in built._exact if not token[0].isupper())
        classes = sorted({declension for pairs in built._bases.values() for _, declension in pairs})
        self._classes = tuple(classes)
        self._bases = StringTable.of_list(built._bases)
        pairs = [pair for base_pairs in built._bases.values() for pair in base_pairs]
        self._base_starts = np.cumsum([0, *map(len, built._bases.values())], dtype=np.int64).data
        self._pair_keys = np.array([ord(char[key]) for key, _ in pairs], dtype=np.int32).data
        self._pair_classes = np.array(
            [classes.index(declension) for _, declension in pairs], dtype=np.uint8
        ).data

        entries = list(dict.fromkeys(alias.entry for alias in built._aliases.values()))
        entry_index = {entry: i for i, entry in enumerate(entries)}
        self._entry_ids = StringList(entry.id for entry in entries)
        self._entry_types = tuple(sorted({entry.type for entry in entries}))
        self._entry_type = np.array(
            [self._entry_types.index(entry.type) for entry in entries], dtype=np.uint8
        ).data
        self._entry_kind = np.array([_KINDS.index(e.kind) for e in entries], dtype=np.uint8).data
        self._entry_population = np.array([e.population for e in entries], dtype=np.int64).data
        self._countries = tuple(sorted({entry.country for entry in entries}))
        country_index = {country: i for i, country in enumerate(self._countries)}
        self._entry_country = np.array(
            [country_index[entry.country] for entry in entries], dtype=np.uint16
        ).data

        aliases = list(built._aliases.items())
        self._aliases = StringTable(
            ("".join(char[key] for key in words), i) for i, (words, _) in enumerate(aliases)
        )
        self._alias_entry = np.array(
            [entry_index[alias.entry] for _, alias in aliases], dtype=np.int32
        ).data
        self._alias_name = StringList(alias.name for _, alias in aliases)
        self._alias_weak = np.array([alias.weak for _, alias in aliases], dtype=np.bool_).data
        # (rank, -population) as one number: smaller is better, as ``_better`` orders them.
        self._alias_order = np.array(
            [
                _RANK[alias.entry.kind] * _POPULATION_SCALE - alias.entry.population
                for _, alias in aliases
            ],
            dtype=np.int64,
        ).data
        self._prefixes = StringTable(
            ("".join(char[key] for key in words), 0) for words in built._prefixes
        )
        self._longest = built._longest
        self._city_ids = StringTable.of_list(built._countries)
        self._city_country = StringList(country for country, _ in built._countries.values())
        self._city_population = np.array(
            [population for _, population in built._countries.values()], dtype=np.int64
        ).data
        self._token_cache: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._alias_name)

    def entry(self, index: int) -> Entry:
        return Entry(
            id=self._entry_ids[index],
            type=self._entry_types[self._entry_type[index]],
            kind=_KINDS[self._entry_kind[index]],
            population=self._entry_population[index],
            country=self._countries[self._entry_country[index]],
        )

    def country_of(self, entry_id: str, *, min_population: int = 0) -> str | None:
        """The ISO alpha-2 code of the country a city of at least ``min_population`` lies in,
        if the gazetteer knows it."""
        index = self._city_ids.get(entry_id)
        if index is None:
            return None
        country = self._city_country[index]
        return country if country and self._city_population[index] >= min_population else None

    def _canon(self, token: str) -> str:
        """The name tokens a text token can be a form of, as their characters, sorted:
        candidates are tried in this order and the first of equals wins, so it must not depend
        on set (hash) order."""
        found = self._token_cache.get(token)
        if found is not None:
            return found
        keys: set[str] = set()
        exact = self._exact.get(token)
        if exact is not None:
            keys.add(chr(exact))
        starts, pair_classes = self._base_starts, self._pair_classes
        for base, ending in splits(fold(token)):
            group = self._bases.get(base)
            if group is None:
                continue
            for pair in range(starts[group], starts[group + 1]):
                if ending_allowed(self._classes[pair_classes[pair]], ending):
                    keys.add(chr(self._pair_keys[pair]))
        result = "".join(sorted(keys))
        # Only word-sized tokens are remembered: the cache lives as long as the worker, and a
        # stream of documents with huge unique tokens would otherwise fill it with megabytes.
        if len(token) <= MAX_CACHED_TOKEN:
            caches.remember(self._token_cache, token, result, caches.TOKENS)
        return result

    def _better(self, new: int, old: int) -> bool:
        return bool(self._alias_order[new] < self._alias_order[old])

    def find(self, text: str) -> list[Match]:
        """Longest non-overlapping name matches, left to right; the first word capitalised."""
        tokens = [(m.start(), m.end(), m.group()) for m in WORD.finditer(text)]
        matches: list[Match] = []
        names = self._alias_name
        i = 0
        while i < len(tokens):
            start, _, word = tokens[i]
            if not word[0].isupper() and word not in self._lowercase_exact:
                i += 1
                continue
            best: tuple[int, int] | None = None  # (last token, alias)
            paths = list(self._canon(word))
            j = i
            while paths:
                surface = text[start : tokens[j][1]]
                for path in paths:
                    alias = self._aliases.get(path)
                    if alias is not None and (
                        best is None
                        or best[0] < j
                        or self._better(alias, best[1])
                        # Equal candidates: the one spelled as in the text gives the normal
                        # form («INNOPROM», not «Innoprom»).
                        or (names[alias] == surface and names[best[1]] != surface
                            and not self._better(best[1], alias))
                    ):  # fmt: skip
                        best = (j, alias)
                j += 1
                if j >= len(tokens) or j - i >= self._longest:
                    break
                gap = text[tokens[j - 1][1] : tokens[j][0]]
                if not _GAP.fullmatch(gap):
                    break
                following = self._canon(tokens[j][2])
                prefixes = self._prefixes
                paths = [path + key for path in paths if path in prefixes for key in following]
            if best is None:
                i += 1
                continue
            last, alias = best
            matches.append(
                Match(
                    start,
                    tokens[last][1],
                    self.entry(self._alias_entry[alias]),
                    names[alias],
                    bool(self._alias_weak[alias]),
                )
            )
            i = last + 1
        return matches
