"""The value of what is written: digits with their separators («1.234,56», «1 599 059»), scales
after them («млн», «Mrd.», «bn», «$2.5bn»), number words («два миллиарда», «forty-five») and the
subunits that join an amount («50 копеек», «and forty-five cents»). Pure functions.
"""

from __future__ import annotations

import re
from decimal import Decimal

from services.enrich.money.scan import END, SP, START, Doc, trie
from services.enrich.money.vocabulary import (
    ATTACHED_SCALES,
    GERMAN_SCALES,
    NUMBER_WORDS,
    ROUBLE,
    SCALE_ABBREVIATIONS,
    SCALES,
    SINGULAR_SCALES,
    ZERO_DECIMAL,
)

ROUBLE_CODES = frozenset({"BYN", "BYR", "RUB", ROUBLE})

# No amount in the news has more digits than this (the largest in the shared cases has 13). A
# longer digit run is not read: Decimal arithmetic on a megabyte of digits overflows the decimal
# context (an exception) or gives an amount that is infinite as a float (invalid JSON).
MAX_DIGITS = 24
MAX_WORDS_VALUE = Decimal(10) ** MAX_DIGITS
_SCALE_WORDS = trie({*SCALES, *GERMAN_SCALES})
# «$1-billion», «50-Milliarden-Euro-Paket»: a hyphen may join the scale to the number.
_WORD_SCALE_RE = re.compile(rf"(?:{SP}{{0,2}}+|-)({_SCALE_WORDS})(?:(\.)|{END})")
# The next part of a compound amount: «483 млн. 187 тыс. рублёў», «20 трлн. 370,8 млрд.»,
# «4 тыс. 930 белорусских рублей».
_COMPOUND_PART_RE = re.compile(rf"{SP}++(\d{{1,3}}(?:,\d{{1,2}})?)(?!\d|[.,]\d)")
_ATTACHED_SCALE_RE = re.compile(rf"(bn|mn|tn|[kKкКmMbBT]){END}")
# «a» and «an» are left out of the scan (English has one every few words); a scale word looks
# back for them instead («a million dollars»).
NUMBER_WORD = trie({*NUMBER_WORDS, *SCALES, *GERMAN_SCALES} - {"a", "an"})
WORD_SPLIT_RE = re.compile(rf"{SP}++(?:и|and|und|і){SP}++|{SP}++|-")
_SUBUNIT_WORDS = (
    r"(?:коп(?:еек|ейки|ейка|ейку|\.)?|к\.|ц(?:ент(?:ов|а|ы|ами)?)?\.?|cents?|c|pence|p|"
    r"пенс(?:ов|а|ы)?|центів|центаў|кап(?:еек|ейкі|ейка)|копій(?:ок|ки|ка)|стотинки|пени|"
    r"kopiykas?|kopeks?|kopecks?)"
)
_SUBUNIT_RE = re.compile(rf"{SP}*+(?:,|и|and|und|і|i)?{SP}*+(\d{{1,2}}){SP}?{_SUBUNIT_WORDS}{END}")
# «dreizehn Euro und fünfundvierzig Cent», «thirteen dollars and forty-five cents».
_WORD_SUBUNIT_RE = re.compile(
    rf"{SP}*+(?:,|и|and|und|і)?{SP}*+{START}((?:{NUMBER_WORD})(?:-(?:{NUMBER_WORD}))?)"
    rf"{SP}++{_SUBUNIT_WORDS}{END}"
)


def number_value(raw: str, language: str, *, scaled: bool, currency: str) -> Decimal | None:
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
        # «Br4.930» in 2011 is 4930 roubles: a rouble never has three decimals.
        return currency not in ZERO_DECIMAL and currency not in ROUBLE_CODES
    # Amounts carry at most two decimals, so three digits after the mark are a thousands group.
    return False


def scale_after(doc: Doc, pos: int) -> tuple[int, int] | None:
    """The scale written right after a number, as (factor, end)."""
    if doc.text[pos : pos + 1].isalpha():
        attached = _ATTACHED_SCALE_RE.match(doc.text, pos)
        if attached is not None:
            word = attached.group(1)
            if word == "T":
                # «100T€» is Tausend on a German price tag, «$2.174T» trillions in English.
                return (10**3 if doc.language == "de" else 10**12), attached.end()
            return ATTACHED_SCALES[word], attached.end()
    return word_scale(doc, pos)


def compound_tail(doc: Doc, pos: int, scale: int) -> tuple[Decimal, int]:
    """«483 млн. 187 тыс.», «4 тыс. 930»: the smaller parts after a scaled number, summed, and
    where they end (``pos`` and nothing when none follows). A last part with no scale of its
    own («930») counts in units; the currency must follow it, or there is no amount."""
    extra = Decimal(0)
    while (part := _COMPOUND_PART_RE.match(doc.text, pos)) is not None:
        value = Decimal(part.group(1).replace(",", "."))
        found = scale_after(doc, part.end())
        if found is None:
            if "," not in part.group(1) and value < scale:
                extra += value
                pos = part.end()
            break
        if found[0] >= scale:
            break
        scale, pos = found
        extra += value * scale
    return extra, pos


def word_scale(doc: Doc, pos: int) -> tuple[int, int] | None:
    match = _WORD_SCALE_RE.match(doc.lowered, pos)
    if match is None:
        return None
    word = match.group(1)
    end = match.end()
    if match.group(2) and word not in SCALE_ABBREVIATIONS:
        end -= 1  # «$52 billion.»: the dot ends the sentence
    return scale_value(word, doc.language), end


def scale_value(word: str, language: str) -> int:
    if language == "de" and word in GERMAN_SCALES:
        return GERMAN_SCALES[word]
    return SCALES.get(word) or GERMAN_SCALES[word]


def words_value(words: str, language: str) -> Decimal | None:
    parts = [part for part in WORD_SPLIT_RE.split(words) if part]
    if len(parts) == 1 and (parts[0] in SCALES or parts[0] in GERMAN_SCALES):
        # «миллиард долларов» is an amount; «миллиарды долларов», «billion dollars» are not.
        return Decimal(SCALES[parts[0]]) if parts[0] in SINGULAR_SCALES else None
    if parts[0] in {"a", "an"} and (len(parts) == 1 or parts[1] in NUMBER_WORDS):
        parts = parts[1:]  # «a dollar» is too often «a dollar-denominated bond»; «a quarter»
    total = Decimal(0)
    current = Decimal(0)
    for word in parts:
        if word in {"a", "an", "з", "с"}:
            continue  # «half a million», «два з половиною»
        if word in SCALES or word in GERMAN_SCALES:
            total += (current or 1) * scale_value(word, language)
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


def with_subunit(doc: Doc, pos: int, amount: Decimal) -> tuple[Decimal, int]:
    """«124 451 рубль 50 копеек», «20 dollars 43 cents»: the subunit joins the amount."""
    subunit = _SUBUNIT_RE.match(doc.lowered, pos)
    if subunit is not None:
        return amount + Decimal(subunit.group(1)) / 100, subunit.end()
    spelled = _WORD_SUBUNIT_RE.match(doc.lowered, pos)
    if spelled is not None:
        cents = words_value(spelled.group(1), doc.language)
        if cents is not None and 0 < cents < 100:
            return amount + cents / 100, spelled.end()
    return amount, pos
