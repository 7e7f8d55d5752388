"""The facts a story signature reads from text that enrich does not already extract: dates named
in the text and percentages. Pure functions, linear in the text (no pattern backtracks over a run:
every repeat is possessive or bounded), in the five languages newsflow reads.

Dates without a year are kept without one («29. September»): guessing the year from the
published date would be wrong for archives and for documents without a date, and a date
without a year still tells two daily reports apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Final

from shared import caches

_MONTH_WORDS: Final = {
    1: "января январь январе студзеня студзень січня січень january jan januar jänner",
    2: "февраля февраль феврале лютага люты лютого лютий february feb februar",
    3: "марта март марте сакавіка сакавік березня березень march mar märz",
    4: "апреля апрель апреле красавіка красавік квітня квітень april apr",
    5: "мая май мае траўня травеня травня травень may mai",
    6: "июня июнь июне чэрвеня чэрвень червня червень june jun juni",
    7: "июля июль июле ліпеня ліпень липня липень july jul juli",
    8: "августа август августе жніўня жнівень серпня серпень august aug",
    9: "сентября сентябрь сентябре верасня верасень вересня вересень september sep sept",
    10: "октября октябрь октябре кастрычніка кастрычнік жовтня жовтень october oct oktober",
    11: "ноября ноябрь ноябре лістапада лістапад листопада листопад november nov",
    12: "декабря декабрь декабре снежня снежань грудня грудень december dec dezember",
}
MONTHS: Final = {word: month for month, words in _MONTH_WORDS.items() for word in words.split()}

_LETTERS = r"a-zа-яёіїєґўä"
# «29 сентября 2025», «29. September 2025», «29 September», «the 24th of May»: day, month word,
# optional year.
_DAY_MONTH = re.compile(
    rf"(?<![\d.,])(\d{{1,2}})(?:st|nd|rd|th)?+\.?[ \u00a0]{{1,3}}+(?:of[ \u00a0]{{1,3}}+)?"
    rf"([{_LETTERS}]{{3,12}}+)\.?"
    r"(?:[ \u00a0]{1,3}+(\d{4})(?!\d))?"
)
# «September 29, 2025», «Sept. 29»: the English order.
_MONTH_DAY = re.compile(
    rf"(?<![{_LETTERS}])([{_LETTERS}]{{3,9}}+)\.?[ \u00a0]{{1,3}}+(\d{{1,2}})"
    r"(?:st|nd|rd|th)?+(?!\d)"
    r"(?:,?[ \u00a0]{1,3}+(\d{4})(?!\d))?"
)
# 2025-09-29 and 29.09.2025 (the forms news and agencies write numerically).
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_DOTTED = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?!\d)")

_PERCENT = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:[.,]\d{1,3})?)[ \u00a0]{0,2}+"
    r"(?:%|проц|працэнт|відс|prozent|percent|per cent|п\.[ \u00a0]?п\.|п\.п\.)"
)
# «to 16 %», «до 16%», «auf 12 Prozent», «да 32%»: a percentage written as the level reached.
_LEVEL = re.compile(
    rf"(?<![{_LETTERS}])(?:to|auf|до|да)[ \u00a0]{{1,3}}+"
    r"(\d{1,3}(?:[.,]\d{1,3})?)[ \u00a0]{0,2}+"
    r"(?:%|проц|працэнт|відс|prozent|percent|per cent)"
)


@dataclass(frozen=True, slots=True, order=True)
class NamedDate:
    """A calendar date named in a text; ``year`` None when the text did not say it."""

    month: int
    day: int
    year: int | None = None

    def matches(self, other: NamedDate) -> bool:
        """Same day and month, and the same year where both name one."""
        return (
            self.month == other.month
            and self.day == other.day
            and (self.year is None or other.year is None or self.year == other.year)
        )

    def key(self) -> str:
        """The index key: month and day only, so a dated and a yearless mention meet."""
        return f"{self.month:02d}-{self.day:02d}"

    def encode(self) -> str:
        return f"{self.year or 0:04d}-{self.month:02d}-{self.day:02d}"

    @staticmethod
    def decode(text: str) -> NamedDate:
        return _decoded(text)


# A story's dates are decoded for every decision it is a candidate in, and a stream names the
# same few hundred days again and again; a NamedDate is immutable, so one object serves all.
@lru_cache(maxsize=caches.DATES)
def _decoded(text: str) -> NamedDate:
    year, month, day = (int(part) for part in text.split("-"))
    return NamedDate(month=month, day=day, year=year or None)


def _valid(year: int | None, month: int, day: int) -> NamedDate | None:
    try:
        date(year or 2024, month, day)  # 2024 is a leap year: «29 февраля» without a year is valid
    except ValueError:
        return None
    if year is not None and not 1900 <= year <= 2100:
        return None
    return NamedDate(month=month, day=day, year=year)


# «в ночь на 1 мая», «у ніч на 1 травня», «in der Nacht zum 1. Mai»: the night before the day
# named, which is also the previous day's (a signing late on 30 April in Washington is «в ніч на 1
# травня» in Kyiv, and a report that says so names no day in common with one that says 30 April).
_NIGHT_BEFORE = re.compile(
    rf"(?<![{_LETTERS}])(?:ночь|ніч|ноч|nacht)[ \u00a0]{{1,3}}+(?:на|zum|auf[ \u00a0]den)[ \u00a0]$"
)


def _day_before(named: NamedDate) -> NamedDate:
    # A year without 29 February for a date named without one: «в ночь на 1 марта» is far more
    # often the 28th.
    previous = date(named.year or 2023, named.month, named.day).toordinal() - 1
    day = date.fromordinal(previous)
    return NamedDate(month=day.month, day=day.day, year=named.year and day.year)


def _dates_at(text: str) -> list[tuple[int, NamedDate]]:
    """The calendar dates a (lower-cased) text names, each with where it starts; a night named
    by the day it ends on (``_NIGHT_BEFORE``) names the day before too."""
    found: list[tuple[int, NamedDate]] = []
    for match in _DAY_MONTH.finditer(text):
        month = MONTHS.get(match.group(2))
        if month is not None:
            year = int(match.group(3)) if match.group(3) else None
            if (named := _valid(year, month, int(match.group(1)))) is not None:
                found.append((match.start(), named))
                if _NIGHT_BEFORE.search(text, max(0, match.start() - 16), match.start()):
                    found.append((match.start(), _day_before(named)))
    for match in _MONTH_DAY.finditer(text):
        month = MONTHS.get(match.group(1))
        if month is not None:
            year = int(match.group(3)) if match.group(3) else None
            if (named := _valid(year, month, int(match.group(2)))) is not None:
                found.append((match.start(), named))
    for match in _ISO.finditer(text):
        year, month, day = (int(part) for part in match.groups())
        if (named := _valid(year, month, day)) is not None:
            found.append((match.start(), named))
    for match in _DOTTED.finditer(text):
        day, month, year = (int(part) for part in match.groups())
        if (named := _valid(year, month, day)) is not None:
            found.append((match.start(), named))
    return found


# Weekday names as news writes them («on Monday», «am Donnerstag», «в пятницу», «у четвер», «у
# нядзелю»), lower case: whole words, or for German also the start of a compound
# («Sonntagabend»). Only forms that are no other word: Russian «среди» (among), «среде» (in
# «в среде экспертов», among experts) and Ukrainian «серед» (among), «четверо» (four) are not
# weekdays.
_WEEKDAY_WORDS: Final = {
    0: "понедельник понедельника понедельнику панядзелак панядзелка панядзелку "
    "понеділок понеділка понеділку monday",
    1: "вторник вторника вторнику аўторак аўторка аўторку вівторок вівторка вівторку tuesday",
    2: "серада сераду серады середа середу середи wednesday",
    3: "четверг четверга четвергу чацвер чацвярга четвер thursday",
    4: "пятница пятницу пятницы пятніца пятніцу пятніцы п'ятниця п'ятницю п'ятниці "
    "пʼятниця пʼятницю пʼятниці friday",
    5: "суббота субботу субботы субота суботу суботы суботи saturday",
    6: "воскресенье воскресенья нядзеля нядзелю нядзелі неділя неділю неділі sunday",
}
_WEEKDAYS: Final = {word: day for day, words in _WEEKDAY_WORDS.items() for word in words.split()}
_GERMAN_WEEKDAYS: Final = (
    ("montag", 0),
    ("dienstag", 1),
    ("mittwoch", 2),
    ("donnerstag", 3),
    ("freitag", 4),
    ("samstag", 5),
    ("sonnabend", 5),
    ("sonntag", 6),
)
# Russian «среда» is also the environment («окружающая среда», «деловую среду»): Wednesday only
# after the prepositions that name a day («в среду», «на среду», «со среды», «до среды»).
_RUSSIAN_WEDNESDAY: Final = re.compile(
    r"(?<![а-яё])(?:(?:в|на)[ \u00a0]++среду|(?:со|до)[ \u00a0]++среды)"
)
WEDNESDAY: Final = 2
_WEEKDAY_WORD = re.compile(r"[a-zа-яёіїєґўä'ʼ]++")
NEAREST_WEEKDAY_DAYS: Final = 3
"""A weekday names the nearest such day to the report's own: up to this many days ahead («will
close on Thursday», in a Tuesday's report) or, beyond, back («said on Friday», in a Monday's)."""


def _weekday(word: str) -> int | None:
    word = word.removesuffix("'s")
    day = _WEEKDAYS.get(word)
    if day is None:
        day = next((day for name, day in _GERMAN_WEEKDAYS if word.startswith(name)), None)
    return day


def _nearest(weekday: int, published: date) -> NamedDate:
    ahead = (weekday - published.weekday()) % 7
    offset = ahead if ahead <= NEAREST_WEEKDAY_DAYS else ahead - 7
    day = date.fromordinal(published.toordinal() + offset)
    return NamedDate(month=day.month, day=day.day, year=day.year)


def weekday_dates_at(text: str, published: date) -> list[tuple[int, NamedDate]]:
    """The days a (lower-cased) text names by weekday, placed relative to the day it was
    ``published`` on (``NEAREST_WEEKDAY_DAYS``), each with where it starts: news names the days
    of the week it reports by weekday («on Monday», «am Donnerstag»), so reports of one event
    written on different days, or in different languages, name one calendar day."""
    found = [
        (match.start(), _nearest(weekday, published))
        for match in _WEEKDAY_WORD.finditer(text)
        if (weekday := _weekday(match.group())) is not None
    ]
    found += [
        (match.start(), _nearest(WEDNESDAY, published))
        for match in _RUSSIAN_WEDNESDAY.finditer(text)
    ]
    return found


def named_dates(text: str, published: date | None = None) -> set[NamedDate]:
    """The calendar dates a text names, by weekday too when it was ``published`` on a known day."""
    lowered = text.lower()
    found = {named for _, named in _dates_at(lowered)}
    if published is not None:
        found.update(named for _, named in weekday_dates_at(lowered, published))
    # A yearless mention of a date also named with its year adds nothing.
    return {
        named
        for named in found
        if named.year is not None or not any(o.year and o.matches(named) for o in found)
    }


LEAD_CHARS: Final = 300
"""Where a report states its event: the headline and the first sentence. In the dev half's
articles a level named there is the decision reported (a rate «to 16 %»); one named further on
is background (inflation «equaled to 25.4 %», the interbank loss «до 170%»)."""


def lead_level(text: str) -> float | None:
    """The first percentage the lead of a text (its first ``LEAD_CHARS`` characters) names as a
    level reached («raised to 16 %», «до 16%», «auf 12 Prozent», «да 32%»): the decision a rate
    report leads with. A change («by 56 %», «на 56%», «um 50 Prozent») is not one: sources
    derive a devaluation's percentage on different bases."""
    found = _LEVEL.search(text[:LEAD_CHARS].lower())
    return float(found.group(1).replace(",", ".")) if found else None


def lead_date(text: str, published: date | None = None) -> NamedDate | None:
    """The first date the lead of a text (its first ``LEAD_CHARS`` characters) names: the day of
    the event a report is about («Путин и Лукашенко 14 сентября в ходе телефонных переговоров»),
    before the earlier event it may recall («в продолжение состоявшихся 9 сентября»)."""
    lead = text[:LEAD_CHARS].lower()
    found = _dates_at(lead)
    if published is not None:
        found += weekday_dates_at(lead, published)
    return min(found, key=lambda item: item[0])[1] if found else None


def percentages(text: str) -> set[float]:
    """The percentages a text names, as unsigned values («-7 %» and «на 7%» are both 7: the sign
    is written as a word as often as a minus)."""
    return {float(match.group(1).replace(",", ".")) for match in _PERCENT.finditer(text.lower())}
