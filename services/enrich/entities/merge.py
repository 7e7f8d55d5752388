"""Merging what the finders give into one list of entity drafts, per document.

A NER span that is a gazetteer name takes its id (and its type: the curated type of an
organisation beats NER's guess); a person beats a place with the same words («Николаева»); a NER
span that contains a curated organisation gives way to it; an organisation named after a place
(«Технопарк "Якутия"») stays one organisation. In Russian a city name counts only where NER also
saw a place (Natasha is better at telling «Пушкин» the poet from the town); elsewhere city names
that are common words need that support too, so they never count: the curated stopwords, and
one-word names of small towns that are common words of the document's language (wordfreq).

Pure functions of the text and the spans they are given.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from services.enrich.entities.commonness import zipf
from services.enrich.entities.gazetteer import Match
from services.enrich.entities.ner import NerSpan
from services.enrich.entities.org_patterns import PatternOrg
from services.enrich.entities.persons import PersonMatch
from services.enrich.entities.sources import NEAR_COUNTRIES
from shared.messages import EntityType

# A city name at the very start of a sentence is often another word («Думаю, ...» is also
# Dumai, Indonesia); there only cities of the region this news covers, or very big ones, count.
_BIG_CITY = 1_000_000
# A one-word city name that is a common word of the document's language is that word unless the
# city is big enough to be talked about as often: «Waren» (21,000 people; Zipf 5.9 in German),
# «Mitte» (102,000; 5.1), «Kurs» (an old name of Chur; 4.7), «Bau» (4.9), «One» (Onex; 6.5 in
# English) are words, while «Frankfurt» (650,000; 5.1) and «Stuttgart» (5.0) are cities. wordfreq
# folds case, so capitalisation cannot decide in German, where every noun is capitalised.
# (population below, Zipf at or above which the name is taken for the word)
_COMMON_WORD_LIMITS = ((200_000, 4.0), (_BIG_CITY, 5.5))
_EDGE = " \t\n\"'«»“”„.,;:()-"
# Abbreviations of common nouns, written in capitals like names: «АЭС» (атомная электростанция,
# «об этой АЭС»), «СМИ» (the media), «ВВП» (GDP). Natasha tags them ORG; they name a kind of
# thing, not an organisation, and an organisation the news means by one («Белорусская АЭС») is
# curated under its own name. Only words no body of the region is called by.
_COMMON_NOUN_ABBREVIATIONS = frozenset(
    {
        "АЭС", "АЕС", "ГЭС", "ГЕС", "ТЭЦ", "ТЕЦ", "АЗС",  # power plants, a filling station
        "СМИ", "ЗМІ", "СМІ",  # the media (ru, uk, be)
        "ВВП", "НДС", "ПДВ",  # GDP, VAT (ru, uk)
        "ПВО", "ППО", "ДТП", "ДТЗ", "ЖКХ", "ВПК",  # air defence, a road accident, utilities, arms
    }
)  # fmt: skip


@dataclass(frozen=True)
class Draft:
    start: int
    end: int
    type: EntityType
    id: str | None = None  # set for gazetteer links
    normal: str | None = None
    ner: NerSpan | None = None  # set when the normal form must come from the morphology


class _Spans:
    """Spans in text order that do not overlap each other (gazetteer matches, rule persons: both
    come out left to right, each starting after the last ended), indexed so that the ones
    overlapping a span are found by bisection. Asking every span about every other one was
    quadratic: 32 s of the 43 s that 200 KB of Russian took."""

    def __init__(
        self, spans: Sequence[Match] | Sequence[PersonMatch] | Sequence[PatternOrg]
    ) -> None:
        self._starts = [span.start for span in spans]
        self._ends = [span.end for span in spans]

    def overlapping(self, start: int, end: int) -> range:
        first = bisect.bisect_right(self._ends, start)
        return range(first, bisect.bisect_left(self._starts, end, first))


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """A span without surrounding quotes and punctuation, cut at a line break (a name never
    spans two paragraphs; Natasha sometimes runs on into the next line)."""
    newline = text.find("\n", start, end)
    if newline != -1:
        end = newline
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    return start, end


_OPENERS = " \t\"'«„“("


def _sentence_initial(text: str, start: int) -> bool:
    # A walk back over the openers, not ``text[:start].rstrip(...)``: that copied the whole text
    # before every city name.
    before = start
    while before > 0 and text[before - 1] in _OPENERS:
        before -= 1
    return before == 0 or text[before - 1] in ".!?…\n"


def _link(match: Match) -> Draft:
    entity_type: EntityType = "ORG" if match.entry.type == "ORG" else "LOC"
    return Draft(match.start, match.end, entity_type, match.entry.id, match.name)


def merge_russian(text: str, spans: Sequence[NerSpan], matches: Sequence[Match]) -> list[Draft]:
    drafts: list[Draft] = []
    used: set[int] = set()  # gazetteer matches accounted for
    index = _Spans(matches)
    for raw in spans:
        start, end = _trimmed(text, raw.start, raw.end)
        if start >= end:
            continue
        span = NerSpan(start, end, raw.type)
        inside = index.overlapping(span.start, span.end)
        if span.type == "PER":
            used.update(inside)
            drafts.append(Draft(span.start, span.end, "PER", ner=span))
            continue
        exact = [i for i in inside if (matches[i].start, matches[i].end) == (start, end)]
        if exact:
            used.update(inside)
            drafts.append(_link(matches[exact[0]]))
        elif inside and span.type == "ORG" and all(matches[i].entry.type == "LOC" for i in inside):
            # An organisation named after a place is one organisation.
            used.update(inside)
            drafts.append(Draft(span.start, span.end, "ORG", ner=span))
        elif inside:
            # NER's span is longer or shifted; the curated or gazetteer name is the reliable
            # part («Администрации ... парка "Великий камень"»). One name is one mention: NER
            # often cuts a long name in two («Национальный банк» ORG, «Республики Беларусь»
            # LOC), and each part linking the whole name gave it twice.
            for i in inside:
                if i not in used:
                    used.add(i)
                    drafts.append(_link(matches[i]))
        elif text[start:end] not in _COMMON_NOUN_ABBREVIATIONS:
            drafts.append(Draft(span.start, span.end, "LOC" if span.type == "LOC" else "ORG",
                                 ner=span))  # fmt: skip
    for i, match in enumerate(matches):
        # A city without NER support is left out in Russian (see module docstring).
        if i not in used and match.entry.kind != "city":
            drafts.append(_link(match))
    return drafts


def _common_word(text: str, match: Match, language: str) -> bool:
    """A one-word city name that is a common word of the language, for a city too small to be
    named as often as the word is used."""
    surface = text[match.start : match.end]
    if " " in match.name or not surface.isalpha():
        return False
    for population, limit in _COMMON_WORD_LIMITS:
        if match.entry.population < population:
            return zipf(surface, language) >= limit
    return False


def _city_counts(text: str, match: Match, language: str) -> bool:
    if match.weak or _common_word(text, match, language):
        return False
    if not _sentence_initial(text, match.start) or " " in match.name:
        return True
    return match.entry.population >= _BIG_CITY or match.entry.country in NEAR_COUNTRIES


def _first_name_town(person: PersonMatch, match: Match) -> bool:
    """A town named like the first word of a two-word name («Алена Пярмінава»: Alena is a town
    in the United States): the capitalised word after it makes it a name."""
    return match.entry.kind == "city" and match.start == person.start and match.end < person.end


_HYPHENS = "-‐"
# A currency's name is not a mention of its country: «доллара США», «U.S. dollar», «Belarus
# rouble» (German writes «US-Dollar», «Belarus-Rubel»: the hyphen rule below).
_CURRENCY_BEFORE = re.compile(r"(?:доллар|долар|dollar)\w*\s+$", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(r"^\.?\s*(?:dollar|rouble|ruble|rubel|доллар|долар)", re.IGNORECASE)


def _part_of_a_word(text: str, draft: Draft, language: str) -> bool:
    """A name glued by a hyphen to another word is part of that word: «EU-Kommission»,
    «ARD-Korrespondentin», «Belarus-Rubeln», «РБК-Україна», «Стросс-Кана». Russian writes
    names of two capitalised halves («Минск-Москва», a route) that are both names, so there
    only a lower-case half («Telegram-канал») makes a compound."""
    before = draft.start >= 2 and text[draft.start - 1] in _HYPHENS
    other = text[draft.start - 2] if before else ""
    if not before and text[draft.end : draft.end + 1] in tuple(_HYPHENS):
        other = text[draft.end + 1 : draft.end + 2]
    if not other.isalpha():
        return False
    return language != "ru" or other.islower()


def drop_parts(text: str, language: str, drafts: Sequence[Draft]) -> list[Draft]:
    """Drafts that are mentions in their own right: not a part of a hyphenated word, and no
    country inside a currency's name."""
    kept = []
    for draft in drafts:
        if _part_of_a_word(text, draft, language):
            continue
        if draft.type == "LOC" and (
            _CURRENCY_BEFORE.search(text, max(0, draft.start - 20), draft.start)
            or _CURRENCY_AFTER.match(text[draft.end : draft.end + 12])
        ):
            continue
        kept.append(draft)
    return kept


def _pattern_orgs(
    text: str, organisations: Sequence[PatternOrg], matches: Sequence[Match]
) -> list[PatternOrg]:
    """The pattern organisations that no curated organisation already names: one that overlaps
    a curated name gives way to it, except a central bank «of X» around a curated short form."""
    index = _Spans(matches)
    kept = []
    for found in organisations:
        org = found
        if org.central_bank:
            # «of X» must be a place, and the name ends with it: «Нацыянальнага банка Павел
            # Калаур» is the bank's short form and its chairman, «Національного банку Білорусі
            # Павло» the bank and a first name.
            places = [matches[i] for i in index.overlapping(org.start, org.end)
                      if matches[i].entry.type == "LOC" and matches[i].end <= org.end]  # fmt: skip
            if not places:
                continue
            end = max(m.end for m in places)
            org = replace(org, end=end, normal=" ".join(text[org.start : end].split()))
        if org.loose and any(
            (matches[i].start, matches[i].end) == (org.start, org.end)
            for i in index.overlapping(org.start, org.end)
        ):
            continue
        curated = [matches[i] for i in index.overlapping(org.start, org.end)
                   if matches[i].entry.kind == "org"]  # fmt: skip
        if all(
            org.central_bank and org.start <= m.start and m.end <= org.end
            and (m.start, m.end) != (org.start, org.end)
            for m in curated
        ):  # fmt: skip
            kept.append(org)
    return kept


def merge_rules(
    text: str,
    language: str,
    persons: Sequence[PersonMatch],
    matches: Sequence[Match],
    organisations: Sequence[PatternOrg] = (),
) -> list[Draft]:
    drafts: list[Draft] = []
    # An organisation found by its pattern is one name: the places and persons inside it are
    # its words («Nationalbank von Georgien», «ТОВ «Юнайтед гросеріс»»).
    orgs = _pattern_orgs(text, organisations, matches)
    # A loose pattern (a word for a company, then a name) guesses from the word before the name,
    # and German compounds mislead it: «Unterhändler» (a negotiator) ends like «Händler» (a
    # dealer), so «Unterhändler Wladimir Medinski» gave an organisation. A name that is a known
    # first name and a surname (a strong person match, exactly that span) is the person; a
    # company named after its founder («Philip Morris») is curated, and the curated name wins.
    strong = {(p.start, p.end) for p in persons if p.strong}
    orgs = [org for org in orgs if not (org.loose and (org.start, org.end) in strong)]
    for org in orgs:
        drafts.append(Draft(org.start, org.end, "ORG", normal=org.normal))
    inside = _Spans(orgs)
    persons = [p for p in persons if not inside.overlapping(p.start, p.end)]
    matches = [m for m in matches if not inside.overlapping(m.start, m.end)]
    places = _Spans(matches)
    # A curated organisation is a specific name, a person found by rules a guess: «ААТ «Гродна
    # Азот»» is two capitalised words, which Belarusian rules read as a name.
    kept_persons = [
        p for p in persons
        if not any(matches[i].entry.kind == "org" for i in places.overlapping(p.start, p.end))
        and (p.strong or all(_first_name_town(p, matches[i])
                             for i in places.overlapping(p.start, p.end)))
    ]  # fmt: skip
    for person in kept_persons:
        drafts.append(Draft(person.start, person.end, "PER"))
    kept = _Spans(kept_persons)
    for match in matches:
        if kept.overlapping(match.start, match.end):
            continue
        if match.entry.kind == "city" and not _city_counts(text, match, language):
            continue
        drafts.append(_link(match))
    return drafts


# A Ukrainian oblast's adjective in the dative or locative, alone where the noun is understood
# («у Львівській - 5469 грн» after «У Вінницькій області»): Natasha's Russian model reads it as
# a surname, but no person's name takes this form.
_OBLAST_ADJECTIVE = re.compile(r"(?:ськ|цьк|зьк)(?:ій|ої|у)$")
# Slavic surname endings in Cyrillic: a lone word with one of them may be a person however
# common it is («Порошенко», «Путін»).
_CYRILLIC_SURNAME = re.compile(
    r"(?:енко|ко|ич|ук|юк|чук|ак|ов|ова|ев|ева|єв|єва|ін|іна|їн|ин|ина|ський|цький|ська|цька|"
    r"ян|дзе|швілі)$"
)
# A lone word NER calls a person is that word when it starts a sentence («Сьогодні»,
# «Нагадаємо», «Середня»), is this common in Ukrainian (Zipf: «Цього» 6.1, «Національний» 5.0;
# the news makes famous surnames common too: «Трамп» 4.6, «Меркель» 4.3), or is an adjective
# before its noun («Білого дому» 4.5, «Чорному морі» 4.2), unless it ends like a Slavic surname
# and is no pronoun («Він» 6.5).
_CANDIDATE_COMMON_ZIPF = 5.0
_COMMON_NAME_WORD_ZIPF = 4.5
_ADJECTIVE_ZIPF = 3.5
_PRONOUN_ZIPF = 6.0
_ADJECTIVE_ENDING = re.compile(r"(?:ого|ому|ий|ій|ої|ою|им|ім|ні|на|ня|не)$")
_LOWER_NEXT = re.compile(r"[ \u00a0]+[a-zа-яёіїєґў]")


def _common_words(span: str) -> bool:
    """Whether every word of a span is this common in Ukrainian and none ends like a surname.
    Ukrainian capitalises the first word of a body's or a building's name, and Natasha's Russian
    model reads two such words as a name («Ради Республіки», «Палаці Незалежності»); «Володимир
    Путін» keeps «Путін», a surname's ending."""
    return all(
        zipf(word, "uk") >= _COMMON_NAME_WORD_ZIPF and not _CYRILLIC_SURNAME.search(word)
        for word in span.split()
    )


def _candidate_type(text: str, start: int, end: int, kind: EntityType) -> EntityType | None:
    """The type of a NER candidate span, or None for a lone word that is no person: Natasha's
    Russian model tags capitalised Ukrainian words as persons («Сьогодні», «Які», «Середня»)."""
    if kind != "PER" or " " in text[start:end]:
        return None if kind == "PER" and _common_words(text[start:end]) else kind
    word = text[start:end]
    if _OBLAST_ADJECTIVE.search(word):
        return "LOC"
    frequency = zipf(word, "uk")
    if _CYRILLIC_SURNAME.search(word):
        # A headline starts with the surname alone («Путін запропонував ...», Zipf 4.9); only a
        # pronoun is as common as «Він» (6.5).
        return None if frequency >= _PRONOUN_ZIPF else kind
    if frequency >= _CANDIDATE_COMMON_ZIPF or _sentence_initial(text, start):
        return None
    # An adjective before its lower-case noun: «Білого дому», «Чорному морі».
    if (
        frequency >= _ADJECTIVE_ZIPF
        and _ADJECTIVE_ENDING.search(word)
        and _LOWER_NEXT.match(text, end)
    ):
        return None
    return kind


def add_candidates(text: str, drafts: Sequence[Draft], spans: Sequence[NerSpan]) -> list[Draft]:
    """The drafts, plus the NER spans (of a model for a neighbouring language) that overlap none
    of them. Their normal form is their text: the Russian morphology does not fit them."""
    taken = sorted((d.start, d.end) for d in drafts)
    out = list(drafts)
    for raw in spans:
        start, end = _trimmed(text, raw.start, raw.end)
        first = bisect.bisect_left(taken, (start, -1))
        near = taken[max(0, first - 1) : first + 1]
        if start >= end or any(a < end and start < b for a, b in near):
            continue
        if text[start:end] in _COMMON_NOUN_ABBREVIATIONS:
            continue
        kind: EntityType = "PER" if raw.type == "PER" else "LOC" if raw.type == "LOC" else "ORG"
        for part_start, part_end in _persons_apart(text, start, end, kind):
            checked = _candidate_type(text, part_start, part_end, kind)
            if checked is not None:
                out.append(Draft(part_start, part_end, checked))
    return out


# «Путін і Лукашенко», «Зустріч з Лукашенком»: Natasha's Russian model reads Ukrainian words it
# does not know, a conjunction or a preposition among them, as one person («per:ptn-lksnk»). A
# Ukrainian or Belarusian name has no word in lower case.
_CONJUNCTION = re.compile(r"[ \u00a0]+[a-zа-яёіїєґў'’]+[ \u00a0]+")


def _persons_apart(text: str, start: int, end: int, kind: EntityType) -> list[tuple[int, int]]:
    """A person span cut at each lower-case word inside it (a conjunction, a preposition), each
    part a candidate of its own; other spans whole."""
    if kind != "PER":
        return [(start, end)]
    parts, at = [], start
    for match in _CONJUNCTION.finditer(text, start, end):
        parts.append((at, match.start()))
        at = match.end()
    parts.append((at, end))
    return [(a, b) for a, b in parts if a < b]
