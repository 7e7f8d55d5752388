"""Finding amounts: every number with a currency attached, written in digits («5 млн рублей»,
«$1,190.00 AUD») or in words («два миллиарда долларов», «einen Euro»), with the ranges and rates
around them. Each scan is linear in the text: no step looks at every earlier mention for each
new one. Pure functions.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from decimal import Decimal
from itertools import accumulate

from services.enrich.money.currency import (
    Currency,
    currency_after,
    currency_before,
    kopeck_abbreviation,
)
from services.enrich.money.numbers import (
    NUMBER_WORD,
    WORD_SPLIT_RE,
    compound_tail,
    number_value,
    scale_after,
    with_subunit,
    word_scale,
    words_value,
)
from services.enrich.money.ranges import Token, join_range, range_upper_end, rate
from services.enrich.money.scan import END, SP, START, Doc, Found
from services.enrich.money.vocabulary import (
    ARTICLE_NOUNS,
    ARTICLES,
    GERMAN_SCALES,
    NUMBER_WORDS,
    SCALES,
    SINGULAR_NOMINATIVE,
)

# Digits with their separators; a thousands space is only taken before a group of exactly three.
# The pattern opens with \d so that sre can skip ahead to the next digit.
_NUMBER_RE = re.compile(
    r"\d(?:\d{0,2}(?:[ \u00a0\u202f\u2009]\d{3})+(?!\d)(?:[.,]\d+)?|\d*(?:[.,'’]\d+)*)"
)
_SPELLED_OUT_RE = re.compile(rf"{SP}?\([^()\d]{{3,160}}\)")
_SPACED_DECIMAL_RE = re.compile(r"[.,] (\d{2})(?!\d)")
_DASH_CENTS_RE = re.compile(r"[.,][-–]")
_NUMBER_AFTER_RE = re.compile(rf"{SP}?\d")
_ARTICLE_BEFORE_RE = re.compile(rf"(?:{START}half{SP}+)?{START}an?{SP}+\Z")
# «one and a half billion dollars», «два з половиною мільярди»: the «a» of «and a half» and the
# «з» of «з половиною» stay inside the amount.
# «another billion dollars», «eine weitere Milliarde Dollar»: a scale word after «one more».
_ONE_MORE_BEFORE_RE = re.compile(
    rf"{START}(?:another|an{SP}++(?:additional|extra)|a{SP}++further"
    rf"|eine{SP}++(?:weitere|zusätzliche)|einer{SP}++weiteren){SP}++\Z"
)
# «rising a penny», «not a cent»: English «a» is left out of the number-word scan, so a subunit
# after it is looked for on its own.
_A_SUBUNIT_RE = re.compile(rf"{START}an?{SP}++(?=(?:penny|cent|kopeck|kopek){END})")
# A lower end in digits before an amount in words: a dash, or a range word.
_DIGIT_LOWER_RE = re.compile(
    rf"(?<![\d.,])(?P<number>\d+(?:[.,]\d+)?)(?:{SP}*+[-–—]{SP}*+"
    rf"|{SP}++(?P<word>bis|до|да|and|und|і|и|to){SP}++)\Z"
)
_RANGE_OPENING_RE = re.compile(rf"{START}(?:от|ад|від|між|между|between|from|zwischen|von){SP}++\Z")
_WORD_AMOUNT_RE = re.compile(
    rf"{START}(?:{NUMBER_WORD})"
    rf"(?:(?:{SP}++(?:и|and|und|і){SP}++(?:a{SP}++(?=half))?|{SP}++(?:з|с){SP}++(?=половин)"
    rf"|{SP}++|-)(?:{NUMBER_WORD}))*" + END
)


def digit_amounts(doc: Doc) -> list[Found]:
    """Amounts written in digits, with the ranges and rates they form, in text order."""
    text = doc.text
    found: list[Found] = []
    tokens: list[Token] = []
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
        prefix = currency_before(text, start)
        if prefix is not None and prefix.start < taken:
            prefix = None
        if prefix is None and before.isalpha():
            continue  # «A380», «COVID19»
        mention, token = _amount_at(doc, start, end, raw, prefix)
        if mention is None:
            mention = range_upper_end(doc, tokens, token, found)
        else:
            join_range(doc, tokens, token, mention, found)
        if mention is not None:
            token.mention = len(found)
            taken = _append(found, mention)
        tokens.append(token)
    return found


def _append(found: list[Found], mention: Found) -> int:
    """Add ``mention`` (and a rate's unit when it carries a number); return where it ends."""
    found.append(mention)
    unit = mention.unit
    if unit is None:
        return mention.end
    if unit.numbered:
        found.append(unit)
    return unit.end


def _amount_at(
    doc: Doc, start: int, end: int, raw: str, prefix: Currency | None
) -> tuple[Found | None, Token]:
    """The money mention whose number ``raw`` starts at ``start``, if a currency is attached,
    and the number as a token for a range that may follow."""
    raw, pos = _number_tail(doc, raw, end)
    scale_found = scale_after(doc, pos)
    scale, pos = (None, pos) if scale_found is None else scale_found
    extra = Decimal(0)
    if scale is not None:
        extra, pos = compound_tail(doc, pos, scale)
    token = Token(start if prefix is None else prefix.start, pos, raw, scale)
    if "(" in doc.text[pos : pos + 2]:
        spelled = _SPELLED_OUT_RE.match(doc.text, pos)
        if spelled is not None and currency_after(doc, spelled.end()):
            pos = spelled.end()  # «881 913 (восемьсот ... тринадцать) руб.»
    suffix = _suffix(doc, pos, prefix)
    if suffix is None and prefix is None:
        suffix = kopeck_abbreviation(doc, pos, raw)
    if suffix is None and prefix is None:
        return None, token
    currency = _pick(prefix, suffix)
    if suffix is not None:
        pos = suffix.end
        if scale is None and suffix.written.isupper():
            late = word_scale(doc, pos)
            if late is not None:
                scale, pos = late  # «75 USD million»
    unit_scale = max(part.scale for part in (prefix, suffix) if part is not None)
    value = number_value(
        raw, doc.language, scaled=scale is not None or unit_scale > 1, currency=currency
    )
    if value is None or (suffix is not None and not _agrees(suffix.written, value, doc.language)):
        return None, token
    if suffix is not None and prefix is None and scale is None and _is_year(doc, start, raw):
        return None, token
    amount = (value * (scale or 1) + extra) * unit_scale
    if scale is None and unit_scale == 1:
        amount, pos = with_subunit(doc, pos, amount)
    unit = rate(doc, pos, currency)
    token.currency, token.prefixed = currency, suffix is None
    if unit is not None:
        token.end = unit.end
    per_currency = None if unit is None else unit.currency
    return Found(token.start, pos, amount, currency, per_currency=per_currency, unit=unit), token


def _number_tail(doc: Doc, raw: str, pos: int) -> tuple[str, int]:
    """Price-tag endings of a number that only count before a currency."""
    if doc.text[pos : pos + 1] not in {".", ","}:
        return raw, pos
    spaced = _SPACED_DECIMAL_RE.match(doc.text, pos)
    if spaced is not None and currency_after(doc, spaced.end()):
        return raw + "." + spaced.group(1), spaced.end()  # «1 599 059, 38 Евро»
    dashed = _DASH_CENTS_RE.match(doc.text, pos)
    if dashed is not None and currency_after(doc, dashed.end()):
        return raw, dashed.end()  # «50,- Kč», «5.000,- Euro»
    return raw, pos


def _suffix(doc: Doc, pos: int, prefix: Currency | None) -> Currency | None:
    suffix = currency_after(doc, pos)
    if suffix is None or prefix is None:
        return suffix
    # «$ 20 $ 37», «rmb 10 usd 20»: a second currency that a number follows is that number's.
    if suffix.symbol or (
        suffix.code != prefix.code and _NUMBER_AFTER_RE.match(doc.text, suffix.end)
    ):
        return None
    return suffix


def _pick(prefix: Currency | None, suffix: Currency | None) -> str:
    """One currency from the signs around a number; a code or word after a bare «$» is the more
    specific («$1,190.00 AUD»)."""
    if prefix is not None and (suffix is None or prefix.written != "$"):
        return prefix.code
    return suffix.code if suffix is not None else ""


def _agrees(written: str, value: Decimal, language: str) -> bool:
    """Whether a singular nominative («рубль») can follow this number: only 1, 21, 31, ...
    («в 2024 рубль подешевел» is a year and a rouble)."""
    if language not in {"ru", "uk"} or written.lower() not in SINGULAR_NOMINATIVE:
        return True
    if value != value.to_integral_value():
        return True
    whole = int(value)
    return whole % 10 == 1 and whole % 100 != 11


def _is_year(doc: Doc, start: int, raw: str) -> bool:
    """«in 2008 dollars» is a price level, not 2008 dollars: English only, where «in» does not
    introduce an amount (Russian «в 2000 долларов» does)."""
    return (
        doc.language == "en"
        and len(raw) == 4
        and raw.isdigit()
        and 1800 <= int(raw) <= 2100
        and doc.lowered[max(0, start - 3) : start] == "in "
    )


def word_amounts(doc: Doc, digits: list[Found]) -> list[Found]:
    """Amounts written in words («два миллиарда долларов», «ten dollars», «einen Euro»)."""
    lowered = doc.lowered
    found: list[Found] = []
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
        suffix = currency_after(doc, end)
        if suffix is None or suffix.symbol or suffix.start == end:
            continue
        if doc.text[suffix.end : suffix.end + 1] == "-" and doc.text[end : end + 1] != "-":
            # «eine Dollar-Anleihe», «a euro-zone»: part of a compound word; but in
            # «Drei-Milliarden-Dollar-Kredit» the amount is part of the compound too.
            continue
        before = bisect_left(starts, suffix.end)
        if before and reach[before - 1] > start:
            continue
        if words in SCALES or words in GERMAN_SCALES:
            article = _ARTICLE_BEFORE_RE.search(lowered, max(0, start - 12), start)
            more = _ONE_MORE_BEFORE_RE.search(lowered, max(0, start - 24), start)
            if article is not None:
                start, words = article.start(), lowered[article.start() : end]
            elif more is not None:
                start, words = more.start(), "a " + words  # «another billion» is one more
        start, words = _without_article(start, end, words)
        value = words_value(words, doc.language)
        if not value:
            continue
        amount, end = value * suffix.scale, suffix.end
        if suffix.scale == 1:
            amount, end = with_subunit(doc, end, amount)
        upper = Found(start, end, amount, suffix.code)
        reached = reach[before - 1] if before else -1
        found.extend(_with_lower_end(doc, upper, words, suffix.scale, reached))
    return found


def _with_lower_end(
    doc: Doc, upper: Found, words: str, unit_scale: Decimal, reached: int
) -> list[Found]:
    """An amount in words, with the lower end of its range in digits before it if there is
    one that no digit mention (reaching ``reached``) has taken."""
    lower = _digit_lower_end(doc, upper, words, unit_scale)
    if lower is None or reached > lower.start:
        return [upper]
    upper.bound = "max"
    return [lower, upper]


def _digit_lower_end(doc: Doc, upper: Found, words: str, unit_scale: Decimal) -> Found | None:
    """«3,5 bis acht Milliarden Dollar», «от 2 до пяти миллионов долларов»: a number in digits
    before a range word is the lower end of an amount in words, at the upper end's scale."""
    lead = _DIGIT_LOWER_RE.search(doc.lowered, max(0, upper.start - 40), upper.start)
    if lead is None:
        return None
    if lead.group("word") is not None and lead.group("word") != "bis":
        opening = _RANGE_OPENING_RE.search(doc.lowered, max(0, lead.start() - 12), lead.start())
        if opening is None:
            return None
    last = WORD_SPLIT_RE.split(words)[-1]
    scale = SCALES.get(last.rstrip("."), GERMAN_SCALES.get(last, 1))
    raw = lead.group("number")
    value = number_value(raw, doc.language, scaled=scale > 1, currency=upper.currency)
    if value is None:
        return None
    amount = value * scale * unit_scale
    if amount >= upper.amount:
        return None
    return Found(lead.start(), lead.start() + len(raw), amount, upper.currency, bound="min")


def article_subunits(doc: Doc) -> list[Found]:
    """English «a penny», «a cent»: one hundredth of the currency the text prices in."""
    found = []
    for match in _A_SUBUNIT_RE.finditer(doc.lowered):
        suffix = currency_after(doc, match.end())
        if suffix is not None and suffix.scale < 1:
            found.append(Found(match.start(), suffix.end, suffix.scale, suffix.code))
    return found


def _without_article(start: int, end: int, words: str) -> tuple[int, str]:
    """«einen Drei-Milliarden-Dollar-Kredit»: an article before a number word is not a «one»;
    the amount starts at the number."""
    head, _, rest = words.partition(" ")
    following = rest.lstrip()
    if head in ARTICLES and following and WORD_SPLIT_RE.split(following)[0] in NUMBER_WORDS:
        return end - len(following), following
    return start, words
