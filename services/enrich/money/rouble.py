"""Whose rouble: the rule that gives a rouble the text does not qualify («рублей», «руб.»,
«Rubel», «roubles») its currency, and says why (``currency_basis``, ``currency_note``).

In this order, the first that speaks decides:

1. ``explicit``: a qualifier on the mention itself («белорусских рублей», «бел. руб.», «Br»,
   «российских», «₽»); the parser has already read it, so the mention is not ambiguous;
2. ``document``: the one country named in the mention's clause, or before a relative clause
   the mention is in («…России, где … 1,6 триллиона рублей»), or in its sentence, or, when
   its sentence names none, in the sentence before it in the same paragraph («Якутия — один
   из регионов России. … до 120 млрд рублей»); where both are named («товарооборот Беларуси и
   России … рублей») the text does not say, and the next steps decide;
3. ``document``: a qualified rouble elsewhere in the document (one «белорусских рублей» makes
   the bare ones Belarusian), the nearest one before the mention, else after it;
4. ``header``: the currency of the header line's rate (BYN or BYR: Belarusian; RUB: Russian);
5. ``country``: the country the document is about (``services.enrich.country``);
6. ``default``: Russian.

A Belarusian rouble is BYR before the 2016-07-01 redenomination and BYN from then, by the
published date; with no date it is BYN, and the note says so. Pure functions.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from shared.messages import CurrencyBasis

# The National Bank of Belarus struck four zeros off the rouble on this day: BYR before, BYN after.
REDENOMINATION = date(2016, 7, 1)
# The countries whose money is called a rouble, and the code of each one's rouble.
ROUBLE_OF = {"BY": "BYN", "RU": "RUB"}
COUNTRY_OF_ROUBLE = {"BYN": "BY", "BYR": "BY", "RUB": "RU", "RUR": "RU"}
_NAMES = {"BY": "Belarus", "RU": "Russia"}

# Sentence ends: a stop before a space and a capital or an opening quote, or a line break. A
# stop after an abbreviation before a capital («г. Минск») splits too early; the clause and the
# sentence before still hold the place, so little is lost. A run of marks is matched from its
# first mark only and never given back: tried from every mark of a run, a run not followed by a
# capital («!!!…! новости») cost its length squared (a 54 000-mark run in a fuzzed 210 KB file
# held enrich for 33 s).
_SENTENCE_END_RE = re.compile(r"(?<![.!?…])[.!?…]++[\"»”]?+(?=\s++[\"«„“(]?[A-ZА-ЯЁІЎЄЇҐ])|\n")
# Clause bounds inside a sentence: a comma or semicolon before a space (never the one in
# «1,6»), a colon, a dash between spaces, a bracket.
_CLAUSE_END_RE = re.compile(r"[,;:]\s|\s[—–-]\s|[()]")
# Words that open a relative clause about the place just named («России, где …»).
_RELATIVE_RE = re.compile(
    r"\s*(?:где|куда|в которой|в котором|дзе|куды|де|куди|where|in which|wo|in dem|in der)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Place:
    """A country named in the text, at ``start`` (an entity mapped to its country)."""

    start: int
    country: str


@dataclass(frozen=True)
class RoubleContext:
    """What the document around a bare rouble says: its published date, the countries its text
    names (by offset), the header rate's currency and the country it is about."""

    published: date | None = None
    places: Sequence[Place] = ()
    header_currency: str | None = None
    country: str | None = None
    fallback: str = "RUB"


@dataclass(frozen=True)
class Decision:
    currency: str
    basis: CurrencyBasis
    note: str | None


class RoubleRule:
    """The rule over one document: built once, asked for each bare rouble by its offset."""

    def __init__(self, text: str, explicit: Sequence[tuple[int, str]], context: RoubleContext):
        """``explicit``: (offset, code) of every rouble the text qualifies, in text order."""
        self._text = text
        self._context = context
        self._explicit = [(start, COUNTRY_OF_ROUBLE[code]) for start, code in explicit]
        self._explicit_starts = [start for start, _ in self._explicit]
        places = sorted(
            (place for place in context.places if place.country in ROUBLE_OF),
            key=lambda place: place.start,
        )
        self._places = places
        self._place_starts = [place.start for place in places]
        self._sentence_ends: list[int] | None = None

    def decide(self, start: int) -> Decision:
        """The currency of a bare rouble at ``start``, with its basis and note."""
        country, note = self._from_text(start)
        if country is not None:
            return self._of(country, "document", note)
        header = self._context.header_currency
        if header in COUNTRY_OF_ROUBLE:
            note = f"the header line's rate is in {header}"
            return self._of(COUNTRY_OF_ROUBLE[header], "header", note)
        focus = self._context.country
        if focus in ROUBLE_OF:
            return self._of(focus, "country", f"the document is about {_NAMES[focus]}")
        note = "nothing in the document says whose rouble"
        if self._context.fallback == "BYN":
            return self._of("BY", "default", note)
        return Decision(self._context.fallback, "default", note)

    def _of(self, country: str, basis: CurrencyBasis, note: str) -> Decision:
        """The rouble of ``country``: a Belarusian one is BYR or BYN by the published date."""
        if country != "BY":
            return Decision(ROUBLE_OF[country], basis, note)
        currency, full_note = belarusian(self._context.published, note)
        return Decision(currency, basis, full_note)

    def _from_text(self, start: int) -> tuple[str | None, str]:
        """Steps 2 and 3: a country named around the mention, else a qualified rouble."""
        if self._places:
            found = self._named_around(start)
            if found is not None:
                return found
        if self._explicit:
            index = bisect_right(self._explicit_starts, start)
            before = self._explicit[index - 1][1] if index else None
            country = before or self._explicit[index][1]
            written = "Belarusian" if country == "BY" else "Russian"
            return country, f"a {written} rouble is written out elsewhere in the document"
        return None, ""

    def _named_around(self, start: int) -> tuple[str, str] | None:
        sentence_start, sentence_end = self._sentence(start)
        clause_start, clause_end = _clause(self._text, sentence_start, sentence_end, start)
        in_clause = {place.country for place in self._between(clause_start, clause_end)}
        if len(in_clause) == 1:
            country = in_clause.pop()
            return country, f"{_NAMES[country]} is named in its clause"
        if in_clause:
            return None  # «Беларуси и России … рублей»: both, so the text does not say
        if _RELATIVE_RE.match(self._text, clause_start, clause_end) is not None:
            # «…России, где … рублей»: the clause is about the place named just before it.
            before = self._between(sentence_start, clause_start)
            if before:
                country = before[-1].country
                return country, f"{_NAMES[country]} is named before the clause about it"
        named = {place.country for place in self._between(sentence_start, sentence_end)}
        where = "its sentence"
        if not named:
            # A sentence that names no place continues the one before it («… в регионе»).
            previous_start = self._previous_sentence_start(sentence_start)
            if previous_start is not None:
                named = {place.country for place in self._between(previous_start, sentence_start)}
                where = "the sentence before"
        # Both countries: the sentence does not say which; the document may.
        if len(named) != 1:
            return None
        country = named.pop()
        return country, f"{_NAMES[country]} is named in {where}"

    def _between(self, start: int, end: int) -> list[Place]:
        low = bisect_right(self._place_starts, start - 1)
        high = bisect_right(self._place_starts, end - 1)
        return self._places[low:high]

    def _ends(self) -> list[int]:
        if self._sentence_ends is None:
            self._sentence_ends = [match.end() for match in _SENTENCE_END_RE.finditer(self._text)]
        return self._sentence_ends

    def _sentence(self, pos: int) -> tuple[int, int]:
        ends = self._ends()
        index = bisect_right(ends, pos)
        start = ends[index - 1] if index else 0
        end = ends[index] if index < len(ends) else len(self._text)
        return start, end

    def _previous_sentence_start(self, sentence_start: int) -> int | None:
        """The start of the sentence before, if it is in the same paragraph."""
        if sentence_start == 0 or self._text[sentence_start - 1] == "\n":
            return None
        return self._sentence(sentence_start - 1)[0]


def _clause(text: str, start: int, end: int, pos: int) -> tuple[int, int]:
    """The clause of the sentence ``text[start:end]`` that holds ``pos``."""
    clause_start, clause_end = start, end
    for match in _CLAUSE_END_RE.finditer(text, start, end):
        if match.end() <= pos:
            clause_start = match.end()
        elif match.start() >= pos:
            clause_end = match.start()
            break
    return clause_start, clause_end


def belarusian(published: date | None, note: str | None = None) -> tuple[str, str | None]:
    """A Belarusian rouble's code on ``published``, and the note (``note`` and, when there is
    no date, that BYN is a guess)."""
    if published is None:
        guess = "no published date: read as the post-2016 BYN"
        return "BYN", guess if note is None else f"{note}; {guess}"
    return ("BYR" if published < REDENOMINATION else "BYN"), note
