"""The optional "date YYYY-MM-DD <number> <CUR>" first line: read it, or say clearly why not."""

from __future__ import annotations

from datetime import date

import pytest

from services.ingest.header import Header, parse_header
from shared.messages import HeaderRate


def test_well_formed_header_gives_date_and_rate() -> None:
    """The published date and the rate are what the seed files' first line carries."""
    assert parse_header("date 2025-10-11 3.69 BYN") == Header(
        result="ok", published=date(2025, 10, 11), rate=HeaderRate(value=3.69, currency="BYN")
    )


def test_decimal_comma_is_read_as_decimal_point() -> None:
    """Some sources write 3,69; it is the same number as 3.69."""
    header = parse_header("date 2025-09-29 3,64 BYN")
    assert header.result == "ok"
    assert header.rate == HeaderRate(value=3.64, currency="BYN")


def test_integer_rate_and_other_currency_are_accepted() -> None:
    """The currency is reported as written; the header does not say what the rate is of."""
    header = parse_header("date 2024-02-29 100 RUB")
    assert header.result == "ok"
    assert header.published == date(2024, 2, 29)
    assert header.rate == HeaderRate(value=100.0, currency="RUB")


def test_date_known_only_to_the_month_keeps_that_precision() -> None:
    """A scraper that knows only /2011/10/ must not be made to claim the 1st of October: the
    date is the month's first day marked as known to the month."""
    assert parse_header("date 2011-10 8680 BYR") == Header(
        result="ok",
        published=date(2011, 10, 1),
        precision="month",
        rate=HeaderRate(value=8680.0, currency="BYR"),
    )


def test_date_known_only_to_the_year_keeps_that_precision() -> None:
    header = parse_header("date 2011 8680 BYR")
    assert header.result == "ok"
    assert (header.published, header.precision) == (date(2011, 1, 1), "year")


def test_full_date_is_known_to_the_day() -> None:
    assert parse_header("date 2025-10-11 3.69 BYN").precision == "day"


@pytest.mark.parametrize(
    "line",
    [
        "Date palms grow in the south of the country.",
        "Дата выхода нового закона пока не известна",
        "dated 2025-10-11 3.69 BYN",
        "date night ideas for the weekend",
        "date 2024 was a record year for the farmers of the Brest region",
        "Заголовок новости",
        "",
    ],
)
def test_line_that_is_not_header_shaped_is_absent(line: str) -> None:
    """A headline that happens to start with "date" must stay a headline, with no warning."""
    assert parse_header(line) == Header(result="absent")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("date 2025-13-45 3.69 BYN", "date '2025-13-45' does not exist"),
        ("date 2025-02-30 3.69 BYN", "date '2025-02-30' does not exist"),
        ("date 2025-13 3.69 BYN", "date '2025-13' does not exist"),
        ("date 2025-1 3.69 BYN", "date '2025-1' is not in YYYY-MM-DD, YYYY-MM or YYYY form"),
        (
            "date 11.10.2025 3.69 BYN",
            "date '11.10.2025' is not in YYYY-MM-DD, YYYY-MM or YYYY form",
        ),
        ("date 2025-10-11 3.69", "no currency after the rate"),
        ("date 2025-10-11", "no rate or currency after the date"),
        ("date 2025-10-11 3.69 byn", "currency 'byn' is not three upper-case letters"),
        ("date 2025-10-11 3.69 BYRN", "currency 'BYRN' is not three upper-case letters"),
        ("date 2025-10-11 3.6.9 BYN", "rate '3.6.9' is not a number"),
        ("date 2025-10-11 abc BYN", "rate 'abc' is not a number"),
        ("date 2025-10-11 3.69 BYN extra", "unexpected text after the currency: 'extra'"),
    ],
)
def test_header_shaped_but_broken_line_is_malformed_with_reason(line: str, problem: str) -> None:
    """An operator reading the warning must see which part of the header is wrong."""
    header = parse_header(line)
    assert header.result == "malformed"
    assert header.published is None
    assert header.rate is None
    assert header.warning == f"malformed header {line!r}: {problem}"


def test_every_problem_of_a_malformed_header_is_listed() -> None:
    """Fixing one problem at a time, replay after replay, wastes an operator's time."""
    header = parse_header("date 2025-13-45 x,y usd")
    assert header.warning == (
        "malformed header 'date 2025-13-45 x,y usd': date '2025-13-45' does not exist; "
        "rate 'x,y' is not a number; currency 'usd' is not three upper-case letters"
    )
