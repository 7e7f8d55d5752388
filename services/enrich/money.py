"""Money amounts and currency rates in news text (ru, be, uk, de, en), as ISO 4217 mentions.

A number is money only when a currency is written next to it (a sign, a code or a word, with at
most a scale such as «млн» or «Mrd.» in between): counts, years, dates, times, percentages and
phone numbers never are. Pure functions over the text: no I/O, no state, and no input text makes
``extract_money`` raise.

Speed matters (thousands of documents a second): every regex is compiled once, none uses
``re.IGNORECASE`` (word patterns run on a lower-cased copy of the text instead, which is several
times faster), and the number words are one trie-shaped pattern. Time must stay linear in the
text whatever it holds: every run of spaces is taken possessively (``*+``, ``++``; what follows
a run is never a space, so nothing is lost), since two runs that could share the same spaces,
as in ``{_SP}*(?:,|и)?{_SP}*``, backtrack quadratically (100 000 spaces after «рублей» took
397 s), and no step looks at every earlier mention for each new one.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import accumulate
from typing import Literal

from services.enrich.currencies import (
    ADJECTIVES,
    ARTICLE_NOUNS,
    ARTICLES,
    ATTACHED_SCALES,
    CODE_STOPLIST,
    DOLLAR_PREFIXES,
    FAMILY_DEFAULT,
    GERMAN_SCALES,
    ISO_CODES,
    LOWERCASE_CODES,
    NOUNS,
    NUMBER_WORDS,
    PREFIX_SYMBOLS,
    PREFIX_WORDS,
    QUALIFIED,
    ROUBLE,
    SCALE_ABBREVIATIONS,
    SCALES,
    SIGNS,
    SINGULAR_NOMINATIVE,
    SINGULAR_SCALES,
    SPACED_DOLLAR_PREFIXES,
    SYMBOLS,
    ZERO_DECIMAL,
    Unit,
)
from shared.messages import MoneyMention

VERSION = "2"

# The National Bank of Belarus struck four zeros off the rouble on this day: BYR before, BYN after.
REDENOMINATION = date(2016, 7, 1)

Bound = Literal["exact", "min", "max"]

# No amount in the news has more digits than this (the largest in the shared cases has 13). A
# longer digit run is not read: Decimal arithmetic on a megabyte of digits overflows the decimal
# context (an exception) or gives an amount that is infinite as a float (invalid JSON).
MAX_DIGITS = 24
MAX_WORDS_VALUE = Decimal(10) ** MAX_DIGITS

_SP = r"[ \t\u00a0\u202f\u2009]"
_SPACES = frozenset(" \t\u00a0\u202f\u2009")
_END = r"(?![^\W\d_])"  # not followed by a letter
_START = r"(?<![^\W\d_])"  # not preceded by a letter


_TrieNode = dict[str, "_TrieNode"]


def _trie(words: Iterable[str]) -> str:
    """One regex alternative for many words, shaped as a trie: sre tries a flat alternation of
    a thousand words one by one at every position, a trie only along the letters present."""
    root: _TrieNode = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # the word may end here

    def emit(node: _TrieNode) -> str:
        # A space in a listed form («доллар сша») stands for any run of whitespace.
        branches = [
            (r"\s++" if char == " " else re.escape(char)) + emit(child)
            for char, child in sorted(node.items())
            if char
        ]
        if not branches:
            return ""
        if len(branches) == 1 and "" not in node:
            return branches[0]
        body = "(?:" + "|".join(branches) + ")"
        return body + "?" if "" in node else body

    return emit(root)


def _alternatives(units: tuple[Unit, ...], tag: str, *, after: str = "") -> str:
    return "|".join(
        f"(?P<{tag}{index}>(?:{unit.pattern}){after})" for index, unit in enumerate(units)
    )


_UNIT_BY_GROUP: dict[str, tuple[Unit, bool]] = {
    **{f"s{i}": (unit, False) for i, unit in enumerate(SIGNS)},
    **{f"y{i}": (unit, True) for i, unit in enumerate(SYMBOLS)},
}

# Digits with their separators; a thousands space is only taken before a group of exactly three.
# The pattern opens with \d so that sre can skip ahead to the next digit.
_NUMBER_RE = re.compile(
    r"\d(?:\d{0,2}(?:[ \u00a0\u202f\u2009]\d{3})+(?!\d)(?:[.,]\d+)?|\d*(?:[.,'’]\d+)*)"
)
# A currency right after a number: words on the lower-cased text, signs and codes on the text.
_WORDS_AFTER_RE = re.compile(
    rf"{_SP}{{0,2}}+(?:(?P<adj>{_trie(ADJECTIVES)})(?:\s++|-))?(?P<noun>{_trie(NOUNS)})"
    rf"(?:(?<=\.)|{_END})"
)
_SIGNS_AFTER_RE = re.compile(
    rf"{_SP}{{0,2}}+(?:{_alternatives(SIGNS, 's', after=_END)}|{_alternatives(SYMBOLS, 'y')}"
    rf"|M(?P<mcode>USD|EUR|GBP|AUD|CHF|CAD){_END}|(?P<code>[A-Z]{{3}}){_END})"
)
# The word before a number, for prefixes: up to four letters, each maybe with a dot («U.S.»).
_WORD_BEFORE_RE = re.compile(r"(?<![^\W\d_.])(?:[^\W\d_]\.?){1,4}\Z")
_SCALE_WORDS = _trie({*SCALES, *GERMAN_SCALES})
_WORD_SCALE_RE = re.compile(rf"{_SP}{{0,2}}+({_SCALE_WORDS})(?:(\.)|{_END})")
_ATTACHED_SCALE_RE = re.compile(rf"(bn|mn|tn|[kKкКmMbBT]){_END}")
_RATE_RE = re.compile(
    rf"{_SP}++(?:за|per|pro|je|a){_SP}++(?:(?:1|один|одну|адзін|one|einen?){_SP}++)?"
)
_SUBUNIT_WORDS = (
    r"(?:коп(?:еек|ейки|ейка|ейку|\.)?|к\.|ц(?:ент(?:ов|а|ы|ами)?)?\.?|cents?|c|pence|p|"
    r"пенс(?:ов|а|ы)?|центів|центаў|кап(?:еек|ейкі|ейка)|копій(?:ок|ки|ка)|стотинки|пени|"
    r"kopiykas?|kopeks?|kopecks?)"
)
_SUBUNIT_RE = re.compile(
    rf"{_SP}*+(?:,|и|and|und|і|i)?{_SP}*+(\d{{1,2}}){_SP}?{_SUBUNIT_WORDS}{_END}"
)
_SPELLED_OUT_RE = re.compile(rf"{_SP}?\([^()\d]{{3,160}}\)")
_SPACED_DECIMAL_RE = re.compile(r"[.,] (\d{2})(?!\d)")
_DASH_CENTS_RE = re.compile(r"[.,][-–]")
_NUMBER_AFTER_RE = re.compile(rf"{_SP}?\d")
_RANGE_DASH_RE = re.compile(rf"{_SP}*+[-–—‒]{_SP}*+")
_RANGE_WORD_RE = re.compile(rf"{_SP}++(?:до|да|и|і|and|und|bis(?:{_SP}++zu)?){_SP}++")
_RANGE_FROM_RE = re.compile(rf"{_START}(?:от|ад|від|между|між|паміж|between|zwischen|von){_SP}+\Z")
# «a» and «an» are left out of the scan (English has one every few words); a scale word looks
# back for them instead («a million dollars»).
_NUMBER_WORD = _trie({*NUMBER_WORDS, *SCALES, *GERMAN_SCALES} - {"a", "an"})
_ARTICLE_BEFORE_RE = re.compile(rf"(?:{_START}half{_SP}+)?{_START}an?{_SP}+\Z")
_WORD_AMOUNT_RE = re.compile(
    rf"{_START}(?:{_NUMBER_WORD})(?:(?:{_SP}++(?:и|and|und|і){_SP}++|{_SP}++|-)(?:{_NUMBER_WORD}))*"
    + _END
)
# «dreizehn Euro und fünfundvierzig Cent», «thirteen dollars and forty-five cents».
_WORD_SUBUNIT_RE = re.compile(
    rf"{_SP}*+(?:,|и|and|und|і)?{_SP}*+{_START}((?:{_NUMBER_WORD})(?:-(?:{_NUMBER_WORD}))?)"
    rf"{_SP}++{_SUBUNIT_WORDS}{_END}"
)
_WORD_SPLIT_RE = re.compile(rf"{_SP}++(?:и|and|und|і){_SP}++|{_SP}++|-")
_DIGIT_RE = re.compile(r"\d")
_CODE_SHAPE_RE = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class _Doc:
    """The text being parsed, its lower-cased twin (same offsets) and its language."""

    text: str
    lowered: str
    language: str


@dataclass(frozen=True)
class _Currency:
    """A currency written next to a number: what it says and where."""

    code: str
    start: int
    end: int
    symbol: bool
    scale: Decimal
    written: str


@dataclass
class _Found:
    """A mention before it becomes a ``MoneyMention`` (a range may still rewrite it)."""

    start: int
    end: int
    amount: Decimal
    currency: str
    bound: Bound = "exact"
    per_currency: str | None = None


@dataclass
class _Token:
    """A number in the text, money or not, remembered so that a range can look back at it."""

    start: int
    end: int
    raw: str
    scale: int | None
    currency: str | None = None
    mention: int | None = None
    prefixed: bool = False


def extract_money(
    text: str, *, language: str, published: date | None = None, default_rouble: str = "RUB"
) -> list[MoneyMention]:
    """Every money amount and currency rate in ``text``, in text order.

    ``language`` (ISO 639-1) steers how «1.500» and «1,500» read: German «1.500» is 1500,
    English «1,500» is 1500, and elsewhere three digits after one mark are a thousands group
    unless a scale follows («1,844 млрд» is 1.844e9).

    A rouble the text does not qualify («рублей», «руб.», «р.», «Rubel», «roubles») is
    ``default_rouble``: the caller passes ``"BYN"`` when the document carries a BYN header or
    comes from a Belarusian source, else leaves ``"RUB"``. «белорусских рублей» and «Br» are
    always BYN, «российских рублей» and «₽» always RUB. A Belarusian rouble in a document
    ``published`` before the 2016-07-01 redenomination (10 000 : 1) is reported as BYR.

    Ranges («от 5 до 7 млн долларов», «5–7 млн долларов», «between $5 and $7 million») give two
    mentions, bound ``min`` and ``max``; a lower end without its own scale or currency takes the
    upper end's. A rate («4930 рублей за доллар») is one mention whose ``per_currency`` is the
    unit priced; a rate per 100 units («за 100 российских рублей») is not read as a rate, as the
    message has no field for the quantity.

    Raises ``ValueError`` only for a ``default_rouble`` that is not an ISO 4217-shaped code.
    """
    if not _CODE_SHAPE_RE.fullmatch(default_rouble):
        raise ValueError(f"default_rouble must be an ISO 4217 code, not {default_rouble!r}")
    doc = _Doc(text, _lowered(text), language.lower()[:2])
    found = _digit_amounts(doc) if _DIGIT_RE.search(text) else []
    found.extend(_word_amounts(doc, found))
    found.sort(key=lambda item: item.start)
    return [
        MoneyMention(
            text=text[item.start : item.end],
            start=item.start,
            end=item.end,
            amount=float(item.amount),
            currency=_resolve(item.currency, default_rouble, published),
            bound=item.bound,
            per_currency=(
                None
                if item.per_currency is None
                else _resolve(item.per_currency, default_rouble, published)
            ),
        )
        for item in found
    ]


def _lowered(text: str) -> str:
    """``text`` in lower case with every character at its original offset."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # A few letters grow when lower-cased («İ» gives two code points); keep the first.
    return "".join(char.lower()[0] for char in text)


def _resolve(code: str, default_rouble: str, published: date | None) -> str:
    if code == ROUBLE:
        code = default_rouble
    if code == "BYN" and published is not None and published < REDENOMINATION:
        return "BYR"
    return code


# -- currencies and scales around a number ------------------------------------------------------


def _sign_currency(text: str, match: re.Match[str]) -> _Currency | None:
    """The currency a sign, symbol or code names; None for three capitals that are no code."""
    group = match.lastgroup
    if group is None:
        return None
    start, end = match.span(group)
    written = text[start:end]
    if group == "code":
        if written not in ISO_CODES or written in CODE_STOPLIST:
            return None
        return _Currency(written, start, end, False, Decimal(1), written)
    if group == "mcode":
        return _Currency(written, start - 1, end, False, Decimal(10**6), "M" + written)
    unit, symbol = _UNIT_BY_GROUP[group]
    return _Currency(unit.currency, start, end, symbol, Decimal(1), written)


def _word_currency(text: str, match: re.Match[str]) -> _Currency | None:
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
    return _Currency(code, start, match.end(), False, Decimal(noun.scale), written)


def _currency_after(doc: _Doc, pos: int) -> _Currency | None:
    words = _WORDS_AFTER_RE.match(doc.lowered, pos)
    if words is not None:
        found = _word_currency(doc.text, words)
    elif _peek(doc.text, pos).islower() and _peek(doc.text, pos) != "l":
        return None  # every sign but «lei» starts with a capital or a symbol; skip the regex
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


def _peek(text: str, pos: int) -> str:
    """The first character at or after ``pos`` that is not one of two spaces."""
    for index in range(pos, pos + 3):
        char = text[index : index + 1]
        if char not in _SPACES:
            return char
    return ""


def _currency_before(text: str, pos: int) -> _Currency | None:
    """A sign or code written right before the number at ``pos`` (one space allowed)."""
    end = pos - 1 if text[pos - 1 : pos] in {" ", "\u00a0"} else pos
    last = text[end - 1 : end]
    if last in PREFIX_SYMBOLS:
        start, code = end - 1, PREFIX_SYMBOLS[last]
        if last == "$":
            start, code = _dollar_prefix(text, start) or (start, code)
        return _Currency(code, start, end, True, Decimal(1), text[start:end])
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
    return _Currency(code, start, end, False, Decimal(scale), word) if code else None


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


def _scale_after(doc: _Doc, pos: int) -> tuple[int, int] | None:
    """The scale written right after a number, as (factor, end)."""
    if doc.text[pos : pos + 1].isalpha():
        attached = _ATTACHED_SCALE_RE.match(doc.text, pos)
        if attached is not None:
            word = attached.group(1)
            if word == "T":
                # «100T€» is Tausend on a German price tag, «$2.174T» trillions in English.
                return (10**3 if doc.language == "de" else 10**12), attached.end()
            return ATTACHED_SCALES[word], attached.end()
    return _word_scale(doc, pos)


def _word_scale(doc: _Doc, pos: int) -> tuple[int, int] | None:
    match = _WORD_SCALE_RE.match(doc.lowered, pos)
    if match is None:
        return None
    word = match.group(1)
    end = match.end()
    if match.group(2) and word not in SCALE_ABBREVIATIONS:
        end -= 1  # «$52 billion.»: the dot ends the sentence
    return _scale_value(word, doc.language), end


def _scale_value(word: str, language: str) -> int:
    if language == "de" and word in GERMAN_SCALES:
        return GERMAN_SCALES[word]
    return SCALES.get(word) or GERMAN_SCALES[word]


# -- reading the digits -------------------------------------------------------------------------


def _number_value(raw: str, language: str, *, scaled: bool, currency: str) -> Decimal | None:
    """The value of digits as written, or None when the separators make no number (a date) or
    there are too many digits for an amount."""
    if sum(map(str.isdigit, raw)) > MAX_DIGITS:
        return None
    if raw.isdigit():
        return Decimal(raw)
    groups = re.split(r"\D", raw)
    if groups[0] == "":
        return Decimal("0." + groups[1]) if len(groups) == 2 else None  # «.75»
    seps = [char for char in raw if not char.isdigit()]
    marks = [(index, sep) for index, sep in enumerate(seps) if sep in ".,"]
    last = len(seps) - 1
    decimal_at: int | None = None
    if len(marks) == 1 and marks[0][0] == last:
        if last > 0 or _single_mark_is_decimal(
            groups[0], groups[1], seps[0], language, scaled=scaled, currency=currency
        ):
            decimal_at = last
    elif marks:
        earlier = {sep for _, sep in marks[:-1]}
        final_index, final_sep = marks[-1]
        if final_sep not in earlier and final_index == last and len(earlier) == 1:
            decimal_at = last  # «1,234.56», «1.844.036.360,12»
        elif len(earlier | {final_sep}) != 1:
            return None
    whole = groups if decimal_at is None else groups[: decimal_at + 1]
    if len(whole) > 1 and (
        not 1 <= len(whole[0]) <= 3 or any(len(group) != 3 for group in whole[1:])
    ):
        return None
    digits = "".join(whole)
    if decimal_at is not None:
        digits += "." + groups[decimal_at + 1]
    return Decimal(digits)


def _single_mark_is_decimal(
    whole: str, fraction: str, sep: str, language: str, *, scaled: bool, currency: str
) -> bool:
    """Whether «1.500» / «1,500» is a decimal fraction rather than a thousands group."""
    if len(fraction) != 3 or whole.startswith("0"):
        return True
    if sep == "," and language == "en":
        return False
    if sep == "." and language == "de":
        return False
    if scaled:
        return True  # «1,844 млрд», «$1.234 billion»: before a scale the group is decimals
    if sep == "." and language == "en":
        return currency not in ZERO_DECIMAL
    # Amounts carry at most two decimals, so three digits after the mark are a thousands group.
    return False


def _agrees(written: str, value: Decimal, language: str) -> bool:
    """Whether a singular nominative («рубль») can follow this number: only 1, 21, 31, ...
    («в 2024 рубль подешевел» is a year and a rouble)."""
    if language not in {"ru", "uk"} or written.lower() not in SINGULAR_NOMINATIVE:
        return True
    if value != value.to_integral_value():
        return True
    whole = int(value)
    return whole % 10 == 1 and whole % 100 != 11


def _is_year(doc: _Doc, start: int, raw: str) -> bool:
    """«in 2008 dollars» is a price level, not 2008 dollars: English only, where «in» does not
    introduce an amount (Russian «в 2000 долларов» does)."""
    return (
        doc.language == "en"
        and len(raw) == 4
        and raw.isdigit()
        and 1800 <= int(raw) <= 2100
        and doc.lowered[max(0, start - 3) : start] == "in "
    )


# -- amounts written in digits ------------------------------------------------------------------


def _digit_amounts(doc: _Doc) -> list[_Found]:
    text = doc.text
    found: list[_Found] = []
    tokens: list[_Token] = []
    taken = 0
    for number in _NUMBER_RE.finditer(text):
        start, end = number.span()
        if start < taken:
            continue
        raw = number.group()
        if text[end : end + 1] in {".", ",", "'", "’"} and text[end + 1 : end + 2].isdigit():
            continue  # part of something that is not one number: «29.09.2025», «1.2.3»
        before = text[start - 1 : start]
        if before in {".", ","} and start - 1 >= taken:
            ahead = text[start - 2 : start - 1]
            if ahead.isdigit():
                continue
            if ahead in {"", " ", "\n", "$", "€", "£"}:
                raw, start, before = "." + raw, start - 1, ahead  # «.75 €», «$.75»
        prefix = _currency_before(text, start)
        if prefix is not None and prefix.start < taken:
            prefix = None
        if prefix is None and before.isalpha():
            continue  # «A380», «COVID19»
        mention, token = _amount_at(doc, start, end, raw, prefix)
        if mention is None:
            mention = _range_upper_end(doc, tokens, token, found)
        else:
            _join_range(doc, tokens, token, mention, found)
        if mention is not None:
            token.mention = len(found)
            found.append(mention)
            taken = mention.end
        tokens.append(token)
    return found


def _amount_at(
    doc: _Doc, start: int, end: int, raw: str, prefix: _Currency | None
) -> tuple[_Found | None, _Token]:
    """The money mention whose number ``raw`` starts at ``start``, if a currency is attached,
    and the number as a token for a range that may follow."""
    raw, pos = _number_tail(doc, raw, end)
    scale_found = _scale_after(doc, pos)
    scale, pos = (None, pos) if scale_found is None else scale_found
    token = _Token(start if prefix is None else prefix.start, pos, raw, scale)
    if "(" in doc.text[pos : pos + 2]:
        spelled = _SPELLED_OUT_RE.match(doc.text, pos)
        if spelled is not None and _currency_after(doc, spelled.end()):
            pos = spelled.end()  # «881 913 (восемьсот ... тринадцать) руб.»
    suffix = _suffix(doc, pos, prefix)
    if suffix is None and prefix is None:
        return None, token
    currency = _pick(prefix, suffix)
    if suffix is not None:
        pos = suffix.end
        if scale is None and suffix.written.isupper():
            late = _word_scale(doc, pos)
            if late is not None:
                scale, pos = late  # «75 USD million»
    unit_scale = max(part.scale for part in (prefix, suffix) if part is not None)
    value = _number_value(
        raw, doc.language, scaled=scale is not None or unit_scale > 1, currency=currency
    )
    if value is None or (suffix is not None and not _agrees(suffix.written, value, doc.language)):
        return None, token
    if suffix is not None and prefix is None and scale is None and _is_year(doc, start, raw):
        return None, token
    amount = value * (scale or 1) * unit_scale
    if scale is None and unit_scale == 1:
        amount, pos = _with_subunit(doc, pos, amount)
    per_currency, pos = _rate(doc, pos, currency)
    token.currency, token.prefixed = currency, suffix is None
    return _Found(token.start, pos, amount, currency, per_currency=per_currency), token


def _number_tail(doc: _Doc, raw: str, pos: int) -> tuple[str, int]:
    """Price-tag endings of a number that only count before a currency."""
    if doc.text[pos : pos + 1] not in {".", ","}:
        return raw, pos
    spaced = _SPACED_DECIMAL_RE.match(doc.text, pos)
    if spaced is not None and _currency_after(doc, spaced.end()):
        return raw + "." + spaced.group(1), spaced.end()  # «1 599 059, 38 Евро»
    dashed = _DASH_CENTS_RE.match(doc.text, pos)
    if dashed is not None and _currency_after(doc, dashed.end()):
        return raw, dashed.end()  # «50,- Kč», «5.000,- Euro»
    return raw, pos


def _suffix(doc: _Doc, pos: int, prefix: _Currency | None) -> _Currency | None:
    suffix = _currency_after(doc, pos)
    if suffix is None or prefix is None:
        return suffix
    # «$ 20 $ 37», «rmb 10 usd 20»: a second currency that a number follows is that number's.
    if suffix.symbol or (
        suffix.code != prefix.code and _NUMBER_AFTER_RE.match(doc.text, suffix.end)
    ):
        return None
    return suffix


def _pick(prefix: _Currency | None, suffix: _Currency | None) -> str:
    """One currency from the signs around a number; a code or word after a bare «$» is the more
    specific («$1,190.00 AUD»)."""
    if prefix is not None and (suffix is None or prefix.written != "$"):
        return prefix.code
    return suffix.code if suffix is not None else ""


def _with_subunit(doc: _Doc, pos: int, amount: Decimal) -> tuple[Decimal, int]:
    """«124 451 рубль 50 копеек», «20 dollars 43 cents»: the subunit joins the amount."""
    subunit = _SUBUNIT_RE.match(doc.lowered, pos)
    if subunit is not None:
        return amount + Decimal(subunit.group(1)) / 100, subunit.end()
    spelled = _WORD_SUBUNIT_RE.match(doc.lowered, pos)
    if spelled is not None:
        cents = _words_value(spelled.group(1), doc.language)
        if cents is not None and 0 < cents < 100:
            return amount + cents / 100, spelled.end()
    return amount, pos


def _rate(doc: _Doc, pos: int, currency: str) -> tuple[str | None, int]:
    """«4930 рублей за доллар»: the unit priced, and where the rate ends."""
    lead = _RATE_RE.match(doc.lowered, pos)
    if lead is None:
        return None, pos
    per = _currency_after(doc, lead.end())
    if per is None or per.code == currency or per.scale != 1:
        return None, pos
    return per.code, per.end


def _join_range(
    doc: _Doc, tokens: list[_Token], upper: _Token, mention: _Found, found: list[_Found]
) -> None:
    """Make ``mention`` the upper end of a range when the number before it is the lower end
    («от 5 до 7 млн долларов», «5–7 млн долларов», «between $5 and $7 million»)."""
    if not tokens or not _range_between(doc, tokens[-1], upper):
        return
    lower = tokens[-1]
    if lower.currency is not None and lower.currency != mention.currency:
        return
    scale = lower.scale if lower.scale is not None else (upper.scale or 1)
    value = _number_value(lower.raw, doc.language, scaled=scale != 1, currency=mention.currency)
    if value is None or value * scale >= mention.amount:
        return
    low = _Found(lower.start, lower.end, value * scale, mention.currency, bound="min")
    if lower.mention is not None:
        found[lower.mention] = low
    else:
        found.append(low)
    mention.bound = "max"


def _range_between(doc: _Doc, lower: _Token, upper: _Token) -> bool:
    """Whether the text between two numbers joins them into a range: a dash, or «до», «and»,
    «und», «bis» after an opening «от», «between», «zwischen», «von»."""
    gap = doc.lowered[lower.end : upper.start]
    if _RANGE_DASH_RE.fullmatch(gap) is not None:
        return True
    return (
        _RANGE_WORD_RE.fullmatch(gap) is not None
        and _RANGE_FROM_RE.search(doc.lowered, max(0, lower.start - 10), lower.start) is not None
    )


def _range_upper_end(
    doc: _Doc, tokens: list[_Token], upper: _Token, found: list[_Found]
) -> _Found | None:
    """«$5–7 million», «€1–2 Mrd.»: the sign before the lower end prices the upper end too."""
    lower = tokens[-1] if tokens else None
    if lower is None or lower.mention is None or not lower.prefixed:
        return None
    index = lower.mention
    low = found[index]
    if low.bound != "exact" or low.per_currency or not _range_between(doc, lower, upper):
        return None
    high_scale = upper.scale or lower.scale or 1
    low_scale = lower.scale or upper.scale or 1
    high = _number_value(upper.raw, doc.language, scaled=high_scale > 1, currency=low.currency)
    start = _number_value(lower.raw, doc.language, scaled=low_scale > 1, currency=low.currency)
    if high is None or start is None or start * low_scale >= high * high_scale:
        return None
    found[index] = _Found(low.start, low.end, start * low_scale, low.currency, bound="min")
    upper.currency = low.currency
    return _Found(upper.start, upper.end, high * high_scale, low.currency, bound="max")


# -- amounts written in words -------------------------------------------------------------------


def _word_amounts(doc: _Doc, digits: list[_Found]) -> list[_Found]:
    """Amounts written in words («два миллиарда долларов», «ten dollars», «einen Euro»)."""
    lowered = doc.lowered
    found: list[_Found] = []
    # The digit mentions by start, with the furthest end reached so far: a word amount overlaps
    # one exactly when, of those starting before it ends, one reaches past its start.
    ordered = sorted((item.start, item.end) for item in digits)
    starts = [start for start, _ in ordered]
    reach = list(accumulate((end for _, end in ordered), max))
    for match in _WORD_AMOUNT_RE.finditer(lowered):
        start, end = match.span()
        if found and start < found[-1].end:
            continue  # inside the subunit of the amount before («and forty-five cents»)
        words = match.group()
        if words in ARTICLES and not lowered.startswith(ARTICLE_NOUNS, end + 1):
            continue
        if lowered[max(0, start - 2) : start].strip()[-1:].isdigit():
            continue  # the tail of «2 миллиарда», which the digits have claimed or rejected
        suffix = _currency_after(doc, end)
        if suffix is None or suffix.symbol or suffix.start == end:
            continue
        if doc.text[suffix.end : suffix.end + 1] == "-":
            continue  # «eine Dollar-Anleihe», «a euro-zone»: part of a compound word
        before = bisect_left(starts, suffix.end)
        if before and reach[before - 1] > start:
            continue
        if words in SCALES or words in GERMAN_SCALES:
            article = _ARTICLE_BEFORE_RE.search(lowered, max(0, start - 12), start)
            if article is not None:
                start, words = article.start(), lowered[article.start() : end]
        value = _words_value(words, doc.language)
        if not value:
            continue
        amount, end = value * suffix.scale, suffix.end
        if suffix.scale == 1:
            amount, end = _with_subunit(doc, end, amount)
        found.append(_Found(start, end, amount, suffix.code))
    return found


def _words_value(words: str, language: str) -> Decimal | None:
    parts = [part for part in _WORD_SPLIT_RE.split(words) if part]
    if len(parts) == 1 and (parts[0] in SCALES or parts[0] in GERMAN_SCALES):
        # «миллиард долларов» is an amount; «миллиарды долларов», «billion dollars» are not.
        return Decimal(SCALES[parts[0]]) if parts[0] in SINGULAR_SCALES else None
    if parts[0] in {"a", "an"} and (len(parts) == 1 or parts[1] in NUMBER_WORDS):
        parts = parts[1:]  # «a dollar» is too often «a dollar-denominated bond»; «a quarter»
    total = Decimal(0)
    current = Decimal(0)
    for word in parts:
        if word in {"a", "an"}:
            continue  # «half a million»
        if word in SCALES or word in GERMAN_SCALES:
            total += (current or 1) * _scale_value(word, language)
            current = Decimal(0)
        elif (value := NUMBER_WORDS.get(word)) is None:
            return None
        elif value.startswith("x"):
            current = (current or 1) * Decimal(value[1:])  # «two hundred»
        else:
            current += Decimal(value)
        if current >= MAX_WORDS_VALUE or total >= MAX_WORDS_VALUE:
            return None  # «hundred hundred hundred ...» grows without bound, as digits would
    return total + current
