"""Ranges and rates: two amounts joined into a range («от 5 до 7 млн долларов», «$5–7 million»,
«between $5 and $7 million») and an amount priced per unit («4930 рублей за доллар»). Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from services.enrich.money.currency import Currency, currency_after
from services.enrich.money.numbers import number_value
from services.enrich.money.scan import SP, START, Doc, Found
from services.enrich.money.vocabulary import ISO_CODES, PREFIX_SYMBOLS

_RATE_RE = re.compile(
    rf"{SP}++(?:за|per|pro|je|für|a|to{SP}++the|for{SP}++one|for{SP}++a){SP}++"
    rf"(?:(?P<units>1|10|100|1000|один|одну|адзін|one|einen?){SP}++)?"
)
# «3 155 Br/USD»: a rate written as a pair after its price.
_SLASH_CODE_RE = re.compile(r"/([A-Z]{3})(?![A-Za-z])")
# «4930 руб. за $1», «за €1»: the unit as a sign and a one.
_SIGN_UNIT_RE = re.compile(r"([$€£])(1|100)(?!\d|[.,]\d)")
# «Br173.95 per RUB1»: the unit as a code with its number glued on.
_CODE_UNIT_RE = re.compile(r"(1|10|100|1000)(?!\d|[.,]\d)")
Joint = Literal["range", "change"]
_UNIT_WORDS = {"10": Decimal(10), "100": Decimal(100), "1000": Decimal(1000)}
_RANGE_DASH_RE = re.compile(rf"{SP}*+[-–—‒]{SP}*+")
_RANGE_WORD_RE = re.compile(rf"{SP}++(?:до|да|и|і|and|und|bis(?:{SP}++zu)?){SP}++")
# German «bis» between two numbers joins them on its own («2,4 bis 5,6 Milliarden Euro»); «до»,
# «и», «and» need an opening word, as they also join two separate amounts.
_RANGE_BIS_RE = re.compile(rf"{SP}++bis{SP}++")
_RANGE_FROM_RE = re.compile(rf"{START}(?:от|ад|від|между|між|паміж|between|zwischen|von){SP}+\Z")
# «змінив ціну з 6,52 на 6,41 грн», «з 6,06 до 5,54 грн», «с 2,45 до 2,50 рубля», «from 29.14
# to 29.46»: a change from one price to another, two exact prices rather than a range.
_CHANGE_WORD_RE = re.compile(rf"{SP}++(?:до|на|to){SP}++")
_CHANGE_FROM_RE = re.compile(rf"{START}(?:з|із|с|from){SP}+\Z")
# A price that fell written with a dash («рис (22,83 – 22,37 грн)») is a change too: both ends
# are prices in the upper end's currency, when written alike (the same decimals) and close (the
# first under twice the second), so that «у 2019 – 6,40 грн» joins no year.
_FALL_RATIO = 2


@dataclass
class Token:
    """A number in the text, money or not, remembered so that a range can look back at it."""

    start: int
    end: int
    raw: str
    scale: int | None
    currency: str | None = None
    mention: int | None = None
    prefixed: bool = False


def rate(doc: Doc, pos: int, currency: str) -> Found | None:
    """«4930 рублей за доллар», «3,41 рубля за 100 российских рублей», «4930 руб. за $1»: the
    unit priced, as a mention of its own (1 USD, 100 RUB), or None when no rate follows."""
    if doc.text[pos : pos + 1] == "/":
        return _slash_unit(doc, pos, currency)
    lead = _RATE_RE.match(doc.lowered, pos)
    if lead is None:
        return None
    sign = _SIGN_UNIT_RE.match(doc.text, lead.end())
    if sign is not None and lead.group("units") is None:
        code = PREFIX_SYMBOLS[sign.group(1)]
        return None if code == currency else Found(*sign.span(), Decimal(sign.group(2)), code)
    per = currency_after(doc, lead.end())
    if per is None or per.code == currency or per.scale != 1:
        return None
    units = lead.group("units")
    if units is None:
        return _unnumbered_unit(doc, per)
    return Found(lead.start("units"), per.end, _UNIT_WORDS.get(units, Decimal(1)), per.code)


def _unnumbered_unit(doc: Doc, per: Currency) -> Found:
    """The unit priced with no number before it: «за доллар», or «per RUB1» with it after."""
    glued = _CODE_UNIT_RE.match(doc.text, per.end) if per.written.isupper() else None
    if glued is not None:
        return Found(per.start, glued.end(), Decimal(glued.group(1)), per.code)
    return Found(per.start, per.end, Decimal(1), per.code, numbered=False)


def _slash_unit(doc: Doc, slash: int, currency: str) -> Found | None:
    """«3 155 Br/USD», «26,07 грн/$», «30,74 грн/€», «8,55 грн/дол.», «41.26 UAH/dollar»: the
    code, sign or currency word right after the slash is the unit priced, if it is another
    currency."""
    code = _SLASH_CODE_RE.match(doc.text, slash)
    if code is not None:
        if code.group(1) == currency or code.group(1) not in ISO_CODES:
            return None
        return Found(code.start(1), code.end(), Decimal(1), code.group(1), numbered=False)
    per = currency_after(doc, slash + 1)
    if per is None or per.start != slash + 1 or per.code == currency or per.scale != 1:
        return None
    return Found(per.start, per.end, Decimal(1), per.code, numbered=False)


def join_range(
    doc: Doc, tokens: list[Token], upper: Token, mention: Found, found: list[Found]
) -> None:
    """Make ``mention`` the upper end of a range when the number before it is the lower end
    («от 5 до 7 млн долларов», «5–7 млн долларов», «between $5 and $7 million»), or the number
    before it a price of its own when the two are a change («з 6,06 до 5,54 грн»)."""
    if not tokens:
        return
    lower = tokens[-1]
    joint = _range_between(doc, lower, upper)
    if joint is None or (lower.currency is not None and lower.currency != mention.currency):
        return
    scale = lower.scale if lower.scale is not None else (upper.scale or 1)
    value = number_value(lower.raw, doc.language, scaled=scale != 1, currency=mention.currency)
    if value is None or value * scale == mention.amount:
        return
    fell = value * scale > mention.amount
    if joint == "change" or fell:
        if lower.mention is None and (joint == "change" or _is_fall(lower, upper, value, mention)):
            found.append(Found(lower.start, lower.end, value * scale, mention.currency))
        return
    low = Found(lower.start, lower.end, value * scale, mention.currency, bound="min")
    if lower.mention is not None:
        found[lower.mention] = low
    else:
        found.append(low)
    mention.bound = "max"


def _is_fall(lower: Token, upper: Token, before: Decimal, after: Found) -> bool:
    """Whether a first price above the second, a dash between, is the price before a fall:
    written with as many decimals, at the same scale, and under ``_FALL_RATIO`` times it."""
    if lower.scale != upper.scale:
        return False
    return _decimals(lower.raw) == _decimals(upper.raw) and before < after.amount * _FALL_RATIO


def _decimals(raw: str) -> int:
    """The digits after a decimal mark in ``raw`` («6,06» has 2, «115» none)."""
    head, mark, tail = raw.rpartition(",") if "," in raw else raw.rpartition(".")
    return len(tail) if mark and head and len(tail) != 3 else 0


def _range_between(doc: Doc, lower: Token, upper: Token) -> Joint | None:
    """How the text between two numbers joins them: a range for a dash, or «до», «and», «und»,
    «bis» after an opening «от», «between», «zwischen», «von», or a slash between a buying and a
    selling price («23.97/24 UAH (buy/sell)»), never in a fraction («1/2»); a change for «до»,
    «на», «to» after «з», «с», «from»; None when nothing joins them."""
    gap = doc.lowered[lower.end : upper.start]
    if _RANGE_DASH_RE.fullmatch(gap) is not None or _RANGE_BIS_RE.fullmatch(gap) is not None:
        return "range"
    if gap == "/":
        return "range" if not lower.raw.isdigit() or len(lower.raw) > 1 else None
    opening = doc.lowered[max(0, lower.start - 10) : lower.start]
    if _RANGE_WORD_RE.fullmatch(gap) is not None and _RANGE_FROM_RE.search(opening) is not None:
        return "range"
    if _CHANGE_WORD_RE.fullmatch(gap) is not None and _CHANGE_FROM_RE.search(opening) is not None:
        return "change"
    return None


def range_upper_end(
    doc: Doc, tokens: list[Token], upper: Token, found: list[Found]
) -> Found | None:
    """«$5–7 million», «€1–2 Mrd.»: the sign before the lower end prices the upper end too."""
    lower = tokens[-1] if tokens else None
    if lower is None or lower.mention is None or not lower.prefixed:
        return None
    index = lower.mention
    low = found[index]
    if low.bound != "exact" or low.per_currency or _range_between(doc, lower, upper) != "range":
        return None
    high_scale = upper.scale or lower.scale or 1
    low_scale = lower.scale or upper.scale or 1
    high = number_value(upper.raw, doc.language, scaled=high_scale > 1, currency=low.currency)
    start = number_value(lower.raw, doc.language, scaled=low_scale > 1, currency=low.currency)
    if high is None or start is None or start * low_scale >= high * high_scale:
        return None
    found[index] = Found(low.start, low.end, start * low_scale, low.currency, bound="min")
    upper.currency = low.currency
    # «UAH 27.54/27.73 to the dollar»: the range is priced per the unit after its upper end.
    unit = rate(doc, upper.end, low.currency)
    per_currency = None if unit is None else unit.currency
    return Found(upper.start, upper.end, high * high_scale, low.currency, "max", per_currency, unit)
