"""The money parser's vocabulary, read from data files and pycountry's ISO 4217 list."""

from __future__ import annotations

import pycountry

from services.enrich.money import extract_money
from services.enrich.money.vocabulary import (
    CENT,
    DOLLAR_PREFIXES,
    FAMILY_DEFAULT,
    ISO_CODES,
    KOPECK,
    LOWERCASE_CODES,
    NOUNS,
    PREFIX_SYMBOLS,
    PREFIX_WORDS,
    QUALIFIED,
    ROUBLE,
    SIGNS,
    SYMBOLS,
)


def test_every_code_the_vocabulary_names_is_an_accepted_code() -> None:
    """The code list comes from pycountry, which drops a code once it is withdrawn (it dropped
    BGN); the data files must then list it as withdrawn, or the tables and the list drift apart
    (a noun whose family is a code, «usd», is read only while its code is accepted)."""
    named = {
        *FAMILY_DEFAULT.values(),
        *QUALIFIED.values(),
        *(unit.currency for unit in (*SIGNS, *SYMBOLS)),
        *PREFIX_SYMBOLS.values(),
        *(code for code, _ in PREFIX_WORDS.values()),
        *DOLLAR_PREFIXES.values(),
        *LOWERCASE_CODES.values(),
        *(noun.family for noun in NOUNS.values() if noun.family.isupper()),
    } - {ROUBLE, CENT, KOPECK}
    assert named <= ISO_CODES, sorted(named - ISO_CODES)


def test_current_codes_and_the_withdrawn_ones_old_news_quotes_are_read() -> None:
    """Current codes come from pycountry; withdrawn ones (Deutsche Mark, Finnish markka) from the
    data file, since pycountry lists only current codes."""
    assert "DEM" not in {currency.alpha_3 for currency in pycountry.currencies}
    for text, code in (
        ("6 000 KZT", "KZT"),
        ("USD 20", "USD"),
        ("100 DEM", "DEM"),
        ("5 FIM", "FIM"),
    ):
        assert [mention.currency for mention in extract_money(text, language="en")] == [code]


def test_codes_that_are_no_money_are_not_read() -> None:
    """Gold, fund units and the testing code are in ISO 4217 but price nothing in the news."""
    for text in ("5 XAU", "10 XTS", "3 XXX", "7 CLF"):
        assert extract_money(text, language="en") == []
