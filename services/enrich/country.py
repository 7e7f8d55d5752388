"""The country a document is about (its "country focus"), from what the text names: places and
organisations (by their entity ids), qualified currencies («белорусских рублей», «гривен»), the
header line's currency and the document's language («a Belarusian-language document is about
Belarus unless the text says otherwise»).

Each piece of evidence gives its country a weight (``data/country_focus.toml``); ``countries``
is each country's share of the total, and ``country`` the leader, when one leads. The money step
reads it as the fifth step of the rouble rule. Pure functions over what the other enrichers
found; the only thing read is the gazetteer's country of a city.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from services.enrich.entities import load_models
from shared import caches
from shared.messages import CountryShare, Entity

VERSION = "4"

_COUNTRY_ID_LENGTH = 2
# A smaller town says little about a country: town names are also common words in the
# languages we read («Seven», a Russian town, in «Seven new paper currencies»).
MIN_CITY_POPULATION = 50_000


@dataclass(frozen=True)
class GenericName:
    """Names one kind of institution goes by in every country, and each country's own."""

    names: frozenset[str]  # casefolded
    ids: dict[str, str]  # country -> entity id
    linked: frozenset[str]  # the ids of all of them
    common: tuple[re.Pattern[str], re.Pattern[str]] | None = None
    """The common nouns for such an institution («die Notenbank», «the central bank»), not
    after a word naming another country or a bloc (``implied_institutions``)."""


@dataclass(frozen=True)
class Evidence:
    organisations: dict[str, str]
    currencies: dict[str, str]
    languages: dict[str, str]
    weights: dict[str, float]
    generic: tuple[GenericName, ...]


@cache
def _evidence() -> Evidence:
    text = resources.files("services.enrich").joinpath("data", "country_focus.toml")
    data: dict[str, Any] = tomllib.loads(text.read_text("utf-8"))
    return Evidence(
        organisations=dict(data["organisations"]),
        currencies=dict(data["currencies"]),
        languages=dict(data["languages"]),
        weights={key: float(value) for key, value in data["weights"].items()},
        generic=tuple(
            GenericName(
                names=frozenset(name.casefold() for name in kind["names"]),
                ids={code: f"org:{key}" for code, key in kind["countries"].items()},
                # ``default``: the gazetteer's own, when it is no country's institution (the
                # software company SAP beside Ukraine's anti-corruption prosecutor, «SAP»).
                linked=frozenset(
                    f"org:{key}" for key in [*kind["countries"].values(), *kind.get("default", [])]
                ),
                common=_common_nouns(kind.get("common", []), kind.get("not_after", [])),
            )
            for kind in data["generic"].values()
        ),
    )


@dataclass(frozen=True)
class CountryFocus:
    country: str | None
    countries: list[CountryShare]


# Ids repeat across documents (the same countries, cities and organisations), and every entity
# of every document is looked up twice (for the focus and for the rouble rule's places).
@lru_cache(maxsize=caches.WORD_KEYS)
def entity_country(entity_id: str) -> str | None:
    """The country an entity id belongs to: a country is its own code («BY»), a region the
    prefix of its ISO 3166-2 code («RU-SA»), a city of ``MIN_CITY_POPULATION`` its GeoNames
    country, an organisation the
    one ``data/country_focus.toml`` gives; None for anything else."""
    if len(entity_id) == _COUNTRY_ID_LENGTH and entity_id.isupper():
        return entity_id
    head, dash, _ = entity_id.partition("-")
    if dash and len(head) == _COUNTRY_ID_LENGTH and head.isupper():
        return head
    if entity_id.startswith("geonames:"):
        return load_models().gazetteer.country_of(entity_id, min_population=MIN_CITY_POPULATION)
    if entity_id.startswith("org:"):
        return _evidence().organisations.get(entity_id.removeprefix("org:"))
    return None


def _common_nouns(
    nouns: Sequence[str], not_after: Sequence[str]
) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    if not nouns:
        return None
    return (
        re.compile("|".join(re.escape(noun.casefold()) for noun in nouns)),
        re.compile("|".join(re.escape(stem.casefold()) for stem in not_after) or "(?!)"),
    )


_WORD_BEFORE = re.compile(r"([^\W\d_]+)[\s\u00a0]+$")


def implied_institutions(text: str, country: str | None) -> list[str]:
    """The ids of ``country``'s institutions that ``text`` names only by a common noun («die
    Notenbank», «the central bank», «Zentralbankchef»): no entity (the index and the benchmark's
    gold leave common nouns out), but in a report about Ukraine's devaluation «die Notenbank» is
    the National Bank of Ukraine as much as «НБУ» is in another report of it, and the story step
    compares them so. Not after a word naming another country or a bloc («Europäische
    Zentralbank», «die russische Zentralbank»)."""
    if country is None:
        return []
    lowered = text.casefold()
    found = []
    for kind in _evidence().generic:
        own = kind.ids.get(country)
        if own is None or kind.common is None:
            continue
        nouns, foreign = kind.common
        for match in nouns.finditer(lowered):
            start = match.start()
            if start and lowered[start - 1].isalpha():
                continue  # inside a word («Europazentralbank» is no common noun of its own)
            before = _WORD_BEFORE.search(lowered, max(0, start - 32), start)
            if before is None or not foreign.match(before.group(1)):
                found.append(own)
                break
    return found


def _generic_kind(entity: Entity) -> GenericName | None:
    """The kind of institution ``entity`` names by a name every country's goes by, if it does."""
    for kind in _evidence().generic:
        if entity.id in kind.linked and entity.normal.casefold() in kind.names:
            return kind
    return None


def localise_generic_names(entities: Sequence[Entity], country: str | None) -> list[Entity]:
    """``entities``, with each generic name («the National Bank») linked to the institution of
    the document's ``country`` when that country has one; unchanged otherwise."""
    localised = []
    for entity in entities:
        kind = _generic_kind(entity)
        own = kind.ids.get(country or "") if kind is not None else None
        localised.append(
            entity if own is None or own == entity.id else entity.model_copy(update={"id": own})
        )
    return localised


def without_generic_names(entities: Iterable[Entity]) -> list[Entity]:
    """``entities`` without the generic names, which say nothing of the country on their own."""
    return [entity for entity in entities if _generic_kind(entity) is None]


def country_focus(
    entities: Iterable[Entity],
    currencies: Sequence[str],
    *,
    header_currency: str | None,
    language: str,
    title_end: int = 0,
) -> CountryFocus:
    """The country the document is about, and each country's share of the evidence.

    ``currencies`` are the currencies the text writes out (not a bare rouble). An entity before
    ``title_end`` (in the headline) counts twice: the headline says what the article is about.
    ``country`` is the country with the largest share when no other has as much; None without
    evidence or on a tie.
    """
    evidence = _evidence()
    weights = evidence.weights
    score: dict[str, float] = defaultdict(float)
    for entity in entities:
        if entity.type == "PER":
            continue
        country = entity_country(entity.id)
        if country is not None:
            in_title = entity.start < title_end
            score[country] += weights["entity"] * (weights["title"] if in_title else 1.0)
    for code in currencies:
        country = evidence.currencies.get(code)
        if country is not None:
            score[country] += weights["currency"]
    header_country = evidence.currencies.get(header_currency or "")
    if header_country is not None:
        score[header_country] += weights["header"]
    language_country = evidence.languages.get(language)
    if language_country is not None:
        score[language_country] += weights["language"]
    total = sum(score.values())
    if not total:
        return CountryFocus(None, [])
    ranked = sorted(score.items(), key=lambda item: (-item[1], item[0]))
    shares = [CountryShare(code=code, share=round(value / total, 4)) for code, value in ranked]
    leads = len(ranked) == 1 or ranked[0][1] > ranked[1][1]
    return CountryFocus(ranked[0][0] if leads else None, shares)
