"""The optional ``date YYYY-MM-DD <number> <CUR>`` line some sources put before the headline.

A source that knows only the month or the year (a scraper reading ``/2011/10/`` in a URL) writes
``date 2011-10 ...`` or ``date 2011 ...``: the date keeps that precision, and no day is made up.

The number and currency are reported as they stand: the header never says what the rate is a
rate of, so this module must not guess. A line that is shaped like a header but cannot be read
is reported as ``malformed`` with a warning, and its text is kept (see ``parse``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final

from shared.messages import DatePrecision, HeaderRate, HeaderResult

# Header-shaped: the lower-case keyword, then a token starting with a digit, then at most a few
# more tokens. Lower case only, and short, so that a sentence such as "Date palms grow ..." or
# "date 2024 was a record year for ..." is ordinary text rather than a broken header.
_HEADER_SHAPE: Final = re.compile(r"date (\d\S*)((?: \S+){0,4})")
_ISO_DATE: Final = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_NUMBER: Final = re.compile(r"\d+(?:[.,]\d+)?")
_CURRENCY: Final = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True, slots=True)
class Header:
    """What the first line said. ``warning`` is set exactly when ``result`` is ``malformed``."""

    result: HeaderResult
    published: date | None = None
    """The day, or the first day of the month or year ``precision`` says is all that is known."""
    precision: DatePrecision = "day"
    rate: HeaderRate | None = None
    warning: str | None = None


ABSENT: Final = Header(result="absent")
# A header-shaped line can still be megabytes long (one huge token); the warning quotes its start.
QUOTE_CHARS: Final = 80


def _quoted(text: str) -> str:
    return repr(text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS] + "…")


def parse_header(line: str) -> Header:
    """Read a normalised first line (single spaces, stripped) as a header, if it is one."""
    shape = _HEADER_SHAPE.fullmatch(line)
    if shape is None:
        return ABSENT
    date_token = shape.group(1)
    rest = shape.group(2).split()
    problems: list[str] = []

    published, precision = _parse_date(date_token, problems)
    value: float | None = None
    if not rest:
        problems.append("no rate or currency after the date")
    else:
        value = _parse_number(rest[0], problems)
        if len(rest) < 2:
            problems.append("no currency after the rate")
        elif not _CURRENCY.fullmatch(rest[1]):
            problems.append(f"currency {_quoted(rest[1])} is not three upper-case letters")
        if len(rest) > 2:
            problems.append(f"unexpected text after the currency: {_quoted(' '.join(rest[2:]))}")

    if problems or published is None or value is None:
        return Header(
            result="malformed", warning=f"malformed header {_quoted(line)}: {'; '.join(problems)}"
        )
    return Header(
        result="ok",
        published=published,
        precision=precision,
        rate=HeaderRate(value=value, currency=rest[1]),
    )


def _parse_date(token: str, problems: list[str]) -> tuple[date | None, DatePrecision]:
    """``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``: the (first) day and how precise it is."""
    iso = _ISO_DATE.fullmatch(token)
    if iso is None:
        problems.append(f"date {_quoted(token)} is not in YYYY-MM-DD, YYYY-MM or YYYY form")
        return None, "day"
    year, month, day = iso.groups()
    precision: DatePrecision = "day" if day else "month" if month else "year"
    try:
        return date(int(year), int(month or 1), int(day or 1)), precision
    except ValueError:
        problems.append(f"date {_quoted(token)} does not exist")
        return None, precision


def _parse_number(token: str, problems: list[str]) -> float | None:
    if not _NUMBER.fullmatch(token):
        problems.append(f"rate {_quoted(token)} is not a number")
        return None
    # Sources write both 3.69 and 3,69; there is no thousands separator in a single token.
    return float(token.replace(",", "."))
