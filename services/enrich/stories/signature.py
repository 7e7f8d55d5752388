"""A document's story signature: what it says about *which event* it reports, in terms that are
the same in every language, and the similarity of a document to a story.

Built only from what enrich already knows (entity ids, money) and what ``facts`` reads (dates,
percentages), plus proper names the entity step did not link and the subjects ``subjects`` reads
(sanctions, potash, a default). Pure functions: no state, no I/O.
The weights and the reason for each are in the README ("Stories"); change one and bump
``stories.VERSION``, since stored stories were built with the old ones.

Two kinds of evidence, deliberately kept apart:

- **features** (entity ids, names, amounts, rates, percentages, dates) carry weights and say how
  much two reports share: they decide *whether* a document joins;
- **facts** (the exact rates, percentages and dates) can only say no: two reports that both name
  a rate for the same pair, and no rate of one matches one of the other, are about different
  days or different events however many entities they share. Amounts never veto: articles on
  one event quote different sums (a loan, its first tranche, last year's), and a misread amount
  would split a story.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Final

import pycountry

from services.enrich.entities.commonness import zipf
from services.enrich.entities.keys import name_key
from services.enrich.entities.sources import curated_organisation_ids
from services.enrich.stories.facts import (
    NamedDate,
    lead_date,
    lead_level,
    named_dates,
    percentages,
)
from services.enrich.stories.subjects import subjects
from shared.messages import Entity, MoneyMention

# Feature weights: see the README's "Stories" table for the reason behind each.
W_PERSON: Final = 3.0
W_ORG: Final = 1.5
W_PLACE: Final = 0.75
W_COUNTRY: Final = 0.2
W_NAME: Final = 0.5
W_AMOUNT: Final = 1.5
W_RATE: Final = 2.5
W_PERCENT: Final = 1.0
W_DATE: Final = 1.0
W_SUBJECT: Final = 1.0

COMMON_WORD_ZIPF: Final = 4.5
"""An unlinked capitalised word at least this common in its language (Zipf: «Monday» 4.8,
«President» 5.5) is no name; «Cole» (4.2) and «Mogilevliftmash» (0) are."""

MAX_AMOUNTS: Final = 6
"""Amounts per document, the first named: every amount weighs as much as an organisation, so a
report listing twelve banks' rates outweighed the three things it shared with a short report of
the same devaluation (NBU, 21 July, 25 %) and joined nothing."""

MAX_NAMES: Final = 6
"""Unlinked names per document: they are the noisiest feature (a German noun is capitalised,
a sentence's first word too), so a long article's many names must not outweigh its entities."""

NAME_KEY_CONSONANTS: Final = 5
"""A surname's or an unlinked name's key is its phonetic consonant skeleton cut to this many
consonants, so that a case ending the entity step left on a name (Belarusian «Ціханоўскага»,
``tknvskg``, beside Russian «Тихановский», ``tknvsk``) does not change it."""

RARE_POSTINGS: Final = 8
"""A feature carried by at most this many recent stories keeps its full weight; beyond, its weight
falls as sqrt(RARE_POSTINGS / stories): a newswire's own name, or «Минск» in Belarusian news, is
in every story of the week and says nothing about which one a document belongs to."""

MIN_SHARED: Final = 1.75
"""Shared weight a join needs whatever the ratio: a person (3.0), an organisation and an amount,
an organisation and two countries; never countries and a date alone (1.6 at most with three
countries), however short both documents are. 2.0 until stories version 19: dev with features
dropped, a few reports of one event share an organisation and the countries, or a subject, a
city and a country, after the rest is gone (78.8 -> 79.3 %; any value from 1.0 to 1.75 the
same, no more false joins in any mode)."""

MIN_CORROBORATION: Final = 0.75
"""Shared weight a join needs beyond its strongest shared feature: one name in common is a
coincidence of the news cycle (the president is in every other story of the week), a second
(a place, an organisation, an amount) is evidence."""

MAX_VETO_PERCENTAGES: Final = 3
PERCENT_TOLERANCE: Final = 0.02
"""Percentages match within 2 % of each other besides the written precision: sources round one
step differently (a 56 % devaluation is «55 %» elsewhere), while follow-up steps differ more
(7 and 7.5 are 7 % apart)."""

AMOUNT_KEY_DIGITS: Final = 3
"""A sum's feature is its value at this many significant digits, as a rate's is: sources round
one rate or sum differently («36,57 грн» and «36,5686 гривні за долар», one official rate;
«$1.55 billion» and «1 548 млн долларов»), while the veto still compares rates at the written
precision and the figures that lift the percentage veto keep all their digits."""

PERCENT_KEY_DIGITS: Final = 2
"""A percentage's feature is its value at this many significant digits: «54,4 %» and «54.42%»
(one devaluation, rounded by two sources) meet; 7 and 7.5 stay apart."""

MIN_RATE_AMOUNT_DIGITS: Final = 3
"""An amount in a rate's quote currency joins the rate's values for the veto only when written
with at least this many significant digits: «3 рубля» would match any rate near 3, «4 930
рублей» is one day's rate."""

_UNITS = frozenset({1.0, 10.0, 100.0, 1000.0})
_SIGNIFICANT = 6  # digits kept of an amount in a key: 1.5e9 and 1 500 000 000 meet
_NAME = re.compile(r"(?<![\w-])([A-ZА-ЯЁІЇЄҐЎ][\w-]{3,40}+)")
_WORD = re.compile(r"[^\W\d_]+")
_SENTENCE_END = re.compile(r"[.!?…:«\"„“(\n]\s*$")
_OPENING_QUOTES: Final = "«„“‚‘\"'"
_CLOSING_QUOTES: Final = "»“”‘’\"'"


@dataclass(frozen=True, slots=True)
class Facts:
    """What can veto a join: exact values, grouped by what they measure."""

    rates: Mapping[str, frozenset[float]] = field(default_factory=dict)
    """«USD/BYN» -> the rates named for that pair."""
    percentages: frozenset[float] = frozenset()
    dates: frozenset[NamedDate] = frozenset()
    figures: frozenset[str] = frozenset()
    """Sums of money written with at least ``MIN_RATE_AMOUNT_DIGITS`` significant digits (rates'
    prices too), as ``CUR:value``: the day's own numbers, which only corroborate (see ``veto``)."""
    leads: frozenset[float] = frozenset()
    """The level a report's lead names (``lead_level``; a story's: each of its documents'), the
    decision its headline is about: see ``veto``."""
    lead_date: NamedDate | None = None
    """The first date a report's lead names (``lead_date``): the day of the event it reports. A
    document's only; a story keeps its documents' days and dates (see ``assign.lead_day_veto``)."""


@dataclass(frozen=True, slots=True)
class StorySignature:
    """``features``: feature key -> prior weight (before rarity); ``facts`` for the vetoes."""

    features: Mapping[str, float]
    facts: Facts


def significant(value: float, digits: int) -> float:
    """``value`` rounded to ``digits`` significant digits."""
    if value == 0 or not math.isfinite(value):
        return 0.0
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def precision(value: float) -> int:
    """Significant digits a value was written with (4930 -> 3, 3.2145 -> 5, 7.5 -> 2)."""
    if value == 0 or not math.isfinite(value):
        return 1
    digits = f"{abs(value):.10g}".replace(".", "").lstrip("0").rstrip("0")
    return max(1, len(digits))


def values_match(a: float, b: float) -> bool:
    """Equal at the precision of the less precise: «4 930» matches 4930.4, 7 does not match 7.5
    (7.5 at one digit is 8), 3.2145 does not match 3.2152."""
    digits = min(precision(a), precision(b))
    return significant(a, digits) == significant(b, digits)


def percent_match(a: float, b: float) -> bool:
    return values_match(a, b) or abs(a - b) <= PERCENT_TOLERANCE * max(abs(a), abs(b))


def lead_match(lead: float, value: float) -> bool:
    """Whether ``value`` repeats a lead level: within ``PERCENT_TOLERANCE`` of it, not at the
    precision of the less precise as ``percent_match`` also allows. A level is set and repeated
    as set («to 16 %», «16.00%»), while a round figure reads as one significant digit: a blog's
    «20 %» (the petrol price the day after a devaluation) matched a rate rise's 16 % at one
    digit, and the rise joined the blog's story (stories version 9)."""
    return abs(lead - value) <= PERCENT_TOLERANCE * max(abs(lead), abs(value))


def person_feature(entity_id: str) -> str:
    """A person's feature: the surname part of its id («per:dnld-trmp» -> ``s:trmp``), cut to
    ``NAME_KEY_CONSONANTS``.

    A report that names a person only by surname («Трамп», «President Trump») gets an id without
    a first name, while a report that names them in full gets ``per:<first>-<last>``: keyed by the
    surname, the two meet. Two people of one surname in one week's news of one subject are rarer
    than reports naming one person differently, and a join still needs a second shared feature.
    A surname the entity step did not take for a person at all («Bialiatski», «Putin» with no
    first name in the report) is an unlinked name, keyed the same way (``unlinked_names``).
    """
    return "s:" + entity_id.removeprefix("per:").rsplit("-", 1)[-1][:NAME_KEY_CONSONANTS]


def unlinked_feature(entity: Entity, language: str) -> str | None:
    """The feature of an organisation or place the gazetteer does not know, whose id is a slug
    of its name as its own script spells it (``org:yunayted-groseris``, ``org:united-grocers``):
    the phonetic keys of its words instead, which are the same in every script (``u:org:ntd-grsrs``
    for «Юнайтед гросеріс» and «United Grocers»). None for a curated or gazetteer id."""
    kind, _, _ = entity.id.partition(":")
    if kind not in {"org", "loc"} or entity.id in curated_organisation_ids():
        return None
    words = _WORD.findall(entity.normal or entity.text)
    keys = [key for key in (name_key(word, language)[:5] for word in words) if len(key) >= 2]
    return f"u:{kind}:{'-'.join(keys)}" if keys else None


def _entity_feature(entity: Entity, language: str) -> tuple[str, float]:
    if entity.type == "PER":
        return person_feature(entity.id), W_PERSON
    key = unlinked_feature(entity, language) or f"e:{entity.id}"
    if entity.type == "ORG":
        return key, W_ORG
    # Countries are keyed by ISO 3166 alpha-2 (two capitals), regions ISO 3166-2 («RU-SA»).
    if len(entity.id) == 2 and entity.id.isupper():
        return f"e:{entity.id}", W_COUNTRY
    return key, W_PLACE


def _sentence_initial(text: str, start: int) -> bool:
    return start == 0 or _SENTENCE_END.search(text, max(0, start - 4), start) is not None


def quoted_name(text: str, start: int, end: int) -> bool:
    """Whether the word at ``start:end`` stands alone between quotation marks («Запад-2025»,
    “Zapad”, "Sapad"-Manöver): news quotes a single capitalised word because it is a name (a
    drill's, an operation's, a newspaper's), while a quoted sentence runs on past its first word,
    which is all ``_sentence_initial`` can tell after an opening quote."""
    return (
        start > 0
        and end < len(text)
        and text[start - 1] in _OPENING_QUOTES
        and text[end] in _CLOSING_QUOTES
    )


@cache
def english_language_names() -> frozenset[str]:
    """The English names of the ISO 639-1 languages («Belarusian», «Ukrainian», «Kazakh»), which
    English also writes as nationality adjectives and nouns: capitalised, rare enough in a word
    list to pass for names («Belarusian» is not in it at all), yet in every other report of a
    country's news and so no evidence of which event one reports."""
    return frozenset(
        language.name
        for language in pycountry.languages
        if hasattr(language, "alpha_2") and " " not in language.name
    )


def _nationality(word: str, language: str) -> bool:
    if language != "en":
        return False
    names = english_language_names()
    return word in names or (word.endswith("s") and word[:-1] in names)


class SpanUnion:
    """The union of character spans, asked whether it covers a position by bisection: testing
    each capitalised word against every entity was a fifth of the story signature's time."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        for start, end in sorted(spans):
            if self._ends and start <= self._ends[-1]:
                self._ends[-1] = max(self._ends[-1], end)
            else:
                self._starts.append(start)
                self._ends.append(end)

    def cover(self, position: int) -> bool:
        i = bisect_right(self._starts, position) - 1
        return i >= 0 and position < self._ends[i]


def unlinked_names(text: str, language: str, entities: Sequence[Entity]) -> list[str]:
    """Keys of capitalised words no entity covers, most frequent first, at most ``MAX_NAMES``.

    The key is the phonetic consonant skeleton the entity step uses for persons («Могилевлифтмаш»
    and «Mogilevliftmash» both give ``mglvl``), cut to five consonants so that a Russian case
    ending does not change it. German capitalises every noun, so there only words with a capital
    inside (BelTA, McDonald's) or all capitals count.
    """
    covered = SpanUnion((entity.start, entity.end) for entity in entities)
    counts: dict[str, int] = {}
    for match in _NAME.finditer(text):
        word = match.group(1)
        start = match.start(1)
        quoted = quoted_name(text, start, match.end(1))
        if covered.cover(start) or (_sentence_initial(text, start) and not quoted):
            continue
        # A quoted German word is a name as well («"Sapad"-Manöver»): German quotes a noun to
        # name something by it, not to capitalise it.
        if language == "de" and not quoted and not any(char.isupper() for char in word[1:]):
            continue
        # A hyphen joins two words and the name is the first («Wagner-Kämpfer», «Kreml-Kritiker»,
        # «Стросс-Кан»): keyed whole, a short name ran on into the next word, so that each
        # compound had a key of its own («vgnrk», «vgnrs») which the other languages' reports,
        # naming «Wagner» alone, never share.
        word = word.split("-", 1)[0]
        # English capitalises titles, months, weekdays and nationalities («President», «Monday»,
        # «Russian»): a word that common in the document's language is that word, not a name.
        if zipf(word, language) >= COMMON_WORD_ZIPF or _nationality(word, language):
            continue
        key = name_key(word, language)[:NAME_KEY_CONSONANTS]
        if len(key) >= 3:
            counts[key] = counts.get(key, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [key for key, _ in ranked[:MAX_NAMES]]


def _money_facts(
    money: Iterable[MoneyMention],
) -> tuple[dict[str, set[float]], dict[str, set[float]]]:
    mentions = list(money)
    bases = {mention.per_currency for mention in mentions if mention.per_currency}
    rates: dict[str, set[float]] = {}
    amounts: dict[str, set[float]] = {}
    for mention in mentions:
        if mention.per_currency:
            rates.setdefault(f"{mention.per_currency}/{mention.currency}", set()).add(
                mention.amount
            )
        elif mention.bound == "exact" and mention.amount > 0 and not _quote_unit(mention, bases):
            amounts.setdefault(mention.currency, set()).add(mention.amount)
    return rates, amounts


def figure_key(currency: str, value: float) -> str | None:
    """``CUR:value`` for a sum precise enough to be one day's number («4 930 рублей»), else None
    («$1 billion» is in many stories)."""
    if precision(value) < MIN_RATE_AMOUNT_DIGITS:
        return None
    return f"{currency}:{significant(value, _SIGNIFICANT):g}"


def amount_feature(currency: str, value: float) -> str:
    """The feature key of a sum: currency and value at ``AMOUNT_KEY_DIGITS`` digits, so that
    sources rounding one figure differently still meet."""
    return f"m:{currency}:{significant(value, AMOUNT_KEY_DIGITS):g}"


def _quote_unit(mention: MoneyMention, bases: set[str]) -> bool:
    """Whether an amount is only the unit a price or rate is quoted per («1 доллар США равен
    ...», «für einen Euro», «100 российских рублей — 3,51»), which every rate report names and
    no event is about: one unit of any currency, or a power of ten of a rate's base currency."""
    amount = mention.amount
    return amount == 1 or (mention.currency in bases and amount in _UNITS)


def story_signature(
    text: str,
    *,
    language: str,
    entities: Sequence[Entity],
    money: Sequence[MoneyMention],
    published: date | None = None,
    implied: Sequence[str] = (),
) -> StorySignature:
    """The signature of one document's ``text`` (title and body, as enrich reads them);
    ``published``, the day it was published when known to the day, places the weekdays it names
    («on Monday») as dates; ``implied``, the ids of organisations the text names only by a
    common noun («die Notenbank» of a report about Ukraine: ``country.implied_institutions``),
    counted as if named (stories version 19)."""
    features: dict[str, float] = {}
    for entity in entities:
        key, weight = _entity_feature(entity, language)
        features[key] = max(weight, features.get(key, 0.0))
    for entity_id in implied:
        features.setdefault(f"e:{entity_id}", W_ORG)
    for key in unlinked_names(text, language, entities):
        # In the surnames' keys: a person named by surname alone is often no entity (no first
        # name in the report to tell a name from a word: «Bialiatski», «Putin»), while another
        # report names them in full; an English report of the Nobel prize shared only
        # «Lukashenko» with a German one that named «Ales Bjaljazki» (stories version 12).
        # Weighed as a name, not a person: which side is the person is the entity step's call.
        features.setdefault(f"s:{key}", W_NAME)
    for subject in subjects(text, language):
        features[f"t:{subject}"] = W_SUBJECT
    rates, amounts = _money_facts(money)
    for pair, values in rates.items():
        quote = pair.rsplit("/", 1)[-1]
        for value in values:
            # The rate's price is also an amount: «4 930 рублей за доллар» read as a rate in one
            # report and «the rouble at 4,930» read as a bare amount in another still meet on
            # the amount, while two reports of the rate share both, ``W_RATE`` in all.
            features[f"r:{pair}:{significant(value, 3):g}"] = W_RATE - W_AMOUNT
            features[amount_feature(quote, value)] = W_AMOUNT
        # And the other way for the veto: an amount in the quote currency written precisely
        # enough may be a rate whose base the money step did not tie to it («один доллар по
        # официальному курсу стоит 4 тыс. 930 рублей»), so it counts as one of the pair's values.
        values.update(
            amount
            for amount in amounts.get(quote, ())
            if precision(amount) >= MIN_RATE_AMOUNT_DIGITS
        )
    # A long article's many sums (a table of banks' rates, every month's figure) must not
    # outweigh what it shares with a short report of the same event: the first ones it names,
    # its lead's, are the event's own.
    first_at: dict[str, int] = {}
    for mention in money:
        key = amount_feature(mention.currency, mention.amount)
        first_at[key] = min(first_at.get(key, mention.start), mention.start)
    amount_keys = {
        amount_feature(currency, value) for currency, values in amounts.items() for value in values
    }
    for key in sorted(amount_keys, key=lambda key: (first_at.get(key, len(text)), key))[
        :MAX_AMOUNTS
    ]:
        features[key] = W_AMOUNT
    figures = {
        figure
        for currency, values in [
            *amounts.items(),
            *((pair.rsplit("/", 1)[-1], found) for pair, found in rates.items()),
        ]
        for value in values
        if (figure := figure_key(currency, value)) is not None
    }
    found_percentages = percentages(text)
    lead = lead_level(text)
    for value in found_percentages:
        # Keyed at two significant digits: sources round one figure differently («54,4 %»,
        # «54.42%»), and the veto still tells 7 from 7.5 at the written precision.
        features[f"p:{significant(value, PERCENT_KEY_DIGITS):g}"] = W_PERCENT
    dates = named_dates(text, published)
    for named in dates:
        features[f"d:{named.key()}"] = W_DATE
    return StorySignature(
        features=features,
        facts=Facts(
            rates={pair: frozenset(values) for pair, values in rates.items()},
            percentages=frozenset(found_percentages),
            dates=frozenset(dates),
            figures=frozenset(figures),
            leads=frozenset() if lead is None else frozenset({lead}),
            lead_date=lead_date(text, published),
        ),
    )


def rarity(postings: int) -> float:
    """The factor on a feature's weight for the number of recent stories that carry it."""
    return 1.0 if postings <= RARE_POSTINGS else math.sqrt(RARE_POSTINGS / postings)


def _disjoint(ours: Iterable[float], theirs: frozenset[float]) -> bool:
    return not any(values_match(a, b) for a in ours for b in theirs)


def veto(doc: Facts, story: Facts) -> str | None:
    """Why the numbers and dates say these are different events, or None when they do not.

    Each kind vetoes only when *both* sides name values of it (for rates: for the same pair)
    and none of one side matches one of the other: a report that gives no rate says nothing
    against a report that gives one. Percentages veto only while both sides name at most
    ``MAX_VETO_PERCENTAGES``: a report of one step names its step, while an article quoting many
    (inflation, last year's devaluation, a poll) is background whose numbers are not the event's.
    Nor do they veto two reports that name a common day and a common precise sum (``figures``):
    a percentage is derived, and sources derive one devaluation on different bases (4930 roubles
    per dollar is +56 % on one day's 3155 and +54.42 % on the exchange's 3194), while the day and
    the rate they name are the event's own. A **lead** level (``lead_level``: «raised to 16 %»)
    that the other side's percentages do not name vetoes whatever the count, with the same
    exception (``_leads_uncorroborated``).
    """
    for pair, values in doc.rates.items():
        if pair in story.rates and _disjoint(values, story.rates[pair]):
            return "rate"
    common_day = any(a.matches(b) for a in doc.dates for b in story.dates)
    if (
        0 < len(doc.percentages) <= MAX_VETO_PERCENTAGES
        and 0 < len(story.percentages) <= MAX_VETO_PERCENTAGES
        and not any(percent_match(a, b) for a in doc.percentages for b in story.percentages)
        and not (common_day and doc.figures & story.figures)
    ):
        return "percentage"
    if _leads_uncorroborated(doc, story) and not (common_day and doc.figures & story.figures):
        return "lead"
    if doc.dates and story.dates and not common_day:
        return "date"
    return None


def _leads_uncorroborated(doc: Facts, story: Facts) -> bool:
    """Whether either side leads with a level («raised to 16 %», ``lead_level``) that is not
    among the percentages the other names, when it names any. Unlike the percentage veto this
    holds however many percentages an article quotes: a report of a rate rise to 16 % that
    recalls a devaluation «by 36 %», inflation and a forecast quotes six, the devaluation's
    reports quote theirs, and a report of the rise would name 16 whatever else it quoted."""

    def unmatched(leads: frozenset[float], values: frozenset[float]) -> bool:
        return bool(leads and values) and not any(
            lead_match(lead, value) for lead in leads for value in values
        )

    return unmatched(doc.leads, story.percentages) or unmatched(story.leads, doc.percentages)


def similarity(
    doc: Mapping[str, float], story: Mapping[str, float], weights: Mapping[str, float]
) -> tuple[float, float, float]:
    """Weighted Dice of a document and a story: ``(score, shared weight, corroboration)``, the
    last being the shared weight beyond the strongest shared feature.

    ``doc`` maps the document's features to 1.0; ``story`` maps the story's features to the share
    of its documents that carry them (its centroid), so a story's one-off details count for less
    than what all its reports say; ``weights`` is each feature's weight after rarity. A story of
    one document is compared exactly as two documents are.
    """
    parts = [weights[key] * min(1.0, story[key]) for key in doc if key in story]
    shared = sum(parts)
    total = sum(weights[key] for key in doc) + sum(
        weights.get(key, 0.0) * share for key, share in story.items()
    )
    score = 2 * shared / total if total else 0.0
    return score, shared, shared - max(parts, default=0.0)


def document_similarity(
    weights: Mapping[str, float], mass: float, other: Mapping[str, float]
) -> tuple[float, float, float]:
    """``similarity`` of a document and one other document, as a story of it alone would give:
    ``weights`` are the document's features after rarity and ``mass`` their sum, ``other`` the
    other's features with their prior weights (a shared one counts at the document's weight).
    Only the shared keys are visited (a set intersection), since a story's latest documents are
    each compared."""
    common = weights.keys() & other.keys()
    parts = [weights[key] for key in common]
    shared = sum(parts)
    total = mass + sum(other.values()) - sum(other[key] for key in common) + shared
    score = 2 * shared / total if total else 0.0
    return score, shared, shared - max(parts, default=0.0)
