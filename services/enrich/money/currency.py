"""The currency written next to a number: a sign, a symbol, an ISO code or an adjective and a noun
after it («5 млн белорусских рублей», «184,20 €», «75 USD»), or a sign or code before it
(«$5», «US$ 150», «Br390», «MUSD 30»). Pure functions of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from services.enrich.money.scan import END, SP, SPACES, Doc, trie
from services.enrich.money.vocabulary import (
    ADJECTIVES,
    CODE_STOPLIST,
    DOLLAR_PREFIXES,
    ELLIPTIC_ROUBLES,
    ERAS,
    FAMILY_DEFAULT,
    ISO_CODES,
    KOPECK,
    LOWERCASE_CODES,
    NOUNS,
    PREFIX_SYMBOLS,
    PREFIX_WORDS,
    QUALIFIED,
    SIGNS,
    SPACED_DOLLAR_PREFIXES,
    SYMBOLS,
    Unit,
)


def _alternatives(units: tuple[Unit, ...], tag: str, *, after: str = "") -> str:
    return "|".join(
        f"(?P<{tag}{index}>(?:{unit.pattern}){after})" for index, unit in enumerate(units)
    )


_UNIT_BY_GROUP: dict[str, tuple[Unit, bool]] = {
    **{f"s{i}": (unit, False) for i, unit in enumerate(SIGNS)},
    **{f"y{i}": (unit, True) for i, unit in enumerate(SYMBOLS)},
}
# A currency right after a number: words on the lower-cased text, signs and codes on the text.
# A noun in quotes counts too («174 «зайчика»»: a nickname, quoted).
_WORDS_AFTER_RE = re.compile(
    rf"(?:{SP}{{0,2}}+|-)(?P<quote>[«\"„])?(?:(?P<era>{trie(ERAS)}){SP}++)?"
    rf"(?:(?P<adj>{trie(ADJECTIVES)})(?:\s++|-))?"
    rf"(?P<noun>{trie(NOUNS)})(?:(?<=\.)|{END})(?(quote)[»\"“])"
)
_SIGNS_AFTER_RE = re.compile(
    rf"{SP}{{0,2}}+(?:{_alternatives(SIGNS, 's', after=END)}|{_alternatives(SYMBOLS, 'y')}"
    rf"|M(?P<mcode>USD|EUR|GBP|AUD|CHF|CAD){END}|(?P<code>[A-Z]{{3}}){END})"
)
# The word before a number, for prefixes: up to four letters, each maybe with a dot («U.S.»).
_WORD_BEFORE_RE = re.compile(r"(?<![^\W\d_.])(?:[^\W\d_]\.?){1,4}\Z")


@dataclass(frozen=True)
class Currency:
    """A currency written next to a number: what it says and where."""

    code: str
    start: int
    end: int
    symbol: bool
    scale: Decimal
    written: str


def _sign_currency(text: str, match: re.Match[str]) -> Currency | None:
    """The currency a sign, symbol or code names; None for three capitals that are no code."""
    group = match.lastgroup
    if group is None:
        return None
    start, end = match.span(group)
    written = text[start:end]
    if group == "code":
        if written not in ISO_CODES or written in CODE_STOPLIST:
            return None
        return Currency(written, start, end, False, Decimal(1), written)
    if group == "mcode":
        return Currency(written, start - 1, end, False, Decimal(10**6), "M" + written)
    unit, symbol = _UNIT_BY_GROUP[group]
    return Currency(unit.currency, start, end, symbol, Decimal(1), written)


def _word_currency(text: str, match: re.Match[str]) -> Currency | None:
    """The currency an adjective and a noun name («белорусских рублей», «kanadische Dollar»)."""
    noun = NOUNS[" ".join(match.group("noun").split())]
    adjective = match.group("adj")
    if adjective is None:
        code = FAMILY_DEFAULT.get(noun.family)
        if code is None and noun.family in ISO_CODES:
            code = noun.family
        start = match.start("noun")
    else:
        code = QUALIFIED.get((ADJECTIVES[" ".join(adjective.split())], noun.family))
        start = match.start("adj")
    if code is None:
        return None
    written = text[match.start("noun") : match.end("noun")]
    return Currency(code, start, match.end(), False, Decimal(noun.scale), written)


def currency_after(doc: Doc, pos: int) -> Currency | None:
    words = _WORDS_AFTER_RE.match(doc.lowered, pos)
    if words is not None:
        found = _word_currency(doc.text, words)
    elif _peek(doc.text, pos).islower() and _peek(doc.text, pos) != "l":
        # Every sign but «lei» starts with a capital or a symbol; only an elliptic rouble
        # («за 100 российских.») is left to try.
        return _elliptic_rouble(doc, pos)
    else:
        signs = _SIGNS_AFTER_RE.match(doc.text, pos)
        found = None if signs is None else _sign_currency(doc.text, signs)
    if found is None:
        return None
    # Ukrainian «2025 р.» is the year (рік); German «RM» is the Reichsmark.
    if doc.language == "uk" and found.written.lower() in {"р.", "р"}:
        return None
    if doc.language == "de" and found.written == "RM":
        return None
    return found


# «подешевшала на 37 к. Буряк», «на 70 к., м’який сир»: the kopeck cut to «к.», not before a
# number («д. 5 к. 2» is a building of an address).
_KOPECK_ABBREVIATION_RE = re.compile(rf"[ \t\u00a0](к\.){END}(?![ \t\u00a0]*+\d)")
_KOPECK_ABBREVIATION_LANGUAGES = frozenset({"ru", "uk"})


def kopeck_abbreviation(doc: Doc, pos: int, raw: str) -> Currency | None:
    """«на 37 к.»: price reports in Ukrainian and Russian shorten the kopeck to «к.»; read only
    after a whole number under 100, as a kopeck count is, and only in those languages."""
    if doc.language not in _KOPECK_ABBREVIATION_LANGUAGES or not raw.isdigit() or len(raw) > 2:
        return None
    match = _KOPECK_ABBREVIATION_RE.match(doc.text, pos)
    if match is None:
        return None
    return Currency(KOPECK, match.start(1), match.end(1), False, Decimal("0.01"), match.group(1))


# «курс 3,41 рубля за 100 российских»: a rouble adjective with its noun left out, at the end
# of a clause (before a sign or the end), where nothing else can be what it qualifies.
_ELLIPTIC_RE = re.compile(
    rf"{SP}{{0,2}}+(?P<adj>{trie(ELLIPTIC_ROUBLES)})(?=[ \t]*+(?:[.,;:!?)»\"\n]|\Z))"
)


def _elliptic_rouble(doc: Doc, pos: int) -> Currency | None:
    match = _ELLIPTIC_RE.match(doc.lowered, pos)
    if match is None:
        return None
    code = ELLIPTIC_ROUBLES[match.group("adj")]
    return Currency(code, match.start("adj"), match.end(), False, Decimal(1), match.group("adj"))


def _peek(text: str, pos: int) -> str:
    """The first character at or after ``pos`` that is not one of two spaces."""
    for index in range(pos, pos + 3):
        char = text[index : index + 1]
        if char not in SPACES:
            return char
    return ""


def currency_before(text: str, pos: int) -> Currency | None:
    """A sign or code written right before the number at ``pos`` (one space allowed)."""
    end = pos - 1 if text[pos - 1 : pos] in {" ", "\u00a0"} else pos
    last = text[end - 1 : end]
    if last in PREFIX_SYMBOLS:
        start, code = end - 1, PREFIX_SYMBOLS[last]
        if last == "$":
            start, code = _dollar_prefix(text, start) or (start, code)
        return Currency(code, start, end, True, Decimal(1), text[start:end])
    letters = last.isalpha() or last == "."
    match = _WORD_BEFORE_RE.search(text, max(0, end - 8), end) if letters else None
    if match is None:
        return None
    word, start = match.group(), match.start()
    code, scale = PREFIX_WORDS.get(word, ("", 1))
    if not code and word in ISO_CODES and word not in CODE_STOPLIST:
        code = word
    if not code and word in LOWERCASE_CODES:
        code = LOWERCASE_CODES[word]
    return Currency(code, start, end, False, Decimal(scale), word) if code else None


def _dollar_prefix(text: str, dollar: int) -> tuple[int, str] | None:
    """The country letters before a «$» at ``dollar`` («US$», «HK$»), as (start, code)."""
    end = dollar - 1 if text[dollar - 1 : dollar] == " " else dollar
    match = _WORD_BEFORE_RE.search(text, max(0, end - 8), end)
    if match is None:
        return None
    word = match.group()
    if word not in DOLLAR_PREFIXES or (end != dollar and word not in SPACED_DOLLAR_PREFIXES):
        return None
    return match.start(), DOLLAR_PREFIXES[word]
