"""What the money parser knows: currency codes, signs, symbols and words, scales and number words.

Read from ``data/money_currencies.toml``, ``data/money_numbers.toml`` and
``data/money_endings.toml`` (the endings a listed form «stem{name}» expands with), and the ISO
4217 list from pycountry; data only, no parsing. Words are lower case in every form the parser
should accept, because it matches them on the lower-cased text; signs and prefixes are matched as
written. ``ROUBLE`` is not a code: it stands for a rouble whose country the text does not say,
resolved by the document's rule (``rouble``).

The files are read once, when this module is first imported: every regex of the parser is
compiled from these tables at import, and the parser reads them as module constants in its hot
loop, so loading them lazily would only move the same work behind a function call.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any, NamedTuple

import pycountry

ROUBLE = "ROUBLE"
# A cent written alone («one cent», «50 центів»): a hundredth of the currency the text was last
# talking about, resolved with the mentions (``extract.resolve_money``).
CENT = "CENT"
# A kopeck written alone («2 коп.», «41 kopecks»): a hundredth of the rouble or the hryvnia the
# text prices in, resolved with the mentions like the cent.
KOPECK = "KOPECK"


class Unit(NamedTuple):
    """A sign or symbol for a currency, as a regex fragment."""

    pattern: str
    currency: str


class Noun(NamedTuple):
    """A currency noun: its family («dollar»), or an ISO code, and the scale it carries."""

    family: str
    scale: str = "1"


def _data(name: str) -> dict[str, Any]:
    text = resources.files("services.enrich").joinpath("data", name).read_text("utf-8")
    return tomllib.loads(text)


_ENDINGS: dict[str, list[str]] = _data("money_endings.toml")
_SLOT = re.compile(r"\{(\w+)\}")


def _expand(form: str) -> list[str]:
    """Every word a listed form stands for: «доллар{ru_noun}» is доллар, доллара, ..."""
    slot = _SLOT.search(form)
    if slot is None:
        return [form]
    head, tails = form[: slot.start()], _expand(form[slot.end() :])
    return [head + ending + tail for ending in _ENDINGS[slot.group(1)] for tail in tails]


def _words(by_language: Mapping[str, Any], *, skip: Iterable[str] = ()) -> list[str]:
    """The words listed under the language keys of a table, expanded."""
    return [
        word
        for key, forms in by_language.items()
        if key not in skip
        for form in forms
        for word in _expand(form)
    ]


_CURRENCIES = _data("money_currencies.toml")
_NUMBERS = _data("money_numbers.toml")
_CODES = _CURRENCIES["codes"]

# ISO 4217 as pycountry has it, with the withdrawn codes old news still quotes, less the ones no
# price is quoted in and the ones not read yet (see the data file).
ISO_CODES = frozenset(
    {str(currency.alpha_3) for currency in pycountry.currencies} | set(_CODES["withdrawn"])
) - frozenset(_CODES["not_money"] + _CODES["held_back"])
# Codes that are also everyday upper-case words in headlines («ALL 5 solutions», «SOS»).
CODE_STOPLIST = frozenset(_CODES["stoplist"])
# Currencies without a minor unit in practice («Rp 31.500» is thousands).
ZERO_DECIMAL = frozenset(_CODES["zero_decimal"])
# Codes common enough in news to accept in lower case too («10 rmb 20 usd»).
LOWERCASE_CODES: dict[str, str] = dict(_CURRENCIES["lowercase_codes"])

# Adjectives that say whose currency a noun is («белорусских рублей»), mapped to a country;
# ``QUALIFIED`` turns (country, noun family) into the ISO code.
ADJECTIVES: dict[str, str] = {
    word: country
    for country, by_language in _CURRENCIES["adjectives"].items()
    for word in _words(by_language)
}
# Currency nouns in every case form, matched on the lower-cased text after the number; the
# lower-case codes count as nouns of their own currency.
NOUNS: dict[str, Noun] = {
    **{
        word: Noun(table["family"], table.get("scale", "1"))
        for table in _CURRENCIES["nouns"]
        for word in _words(table, skip=("family", "scale"))
    },
    **{code: Noun(iso) for code, iso in LOWERCASE_CODES.items()},
}
# Which rouble of a redenomination a noun means: «old», «new» or «current» (the date's).
ERAS: dict[str, str] = {
    word: era for era, words in _CURRENCIES["eras"].items() if era != "samples" for word in words
}
ERA_SAMPLES: tuple[str, ...] = tuple(_CURRENCIES["eras"]["samples"])
# What a noun means with no adjective; a family missing here («pesos», «dinars») needs one.
FAMILY_DEFAULT: dict[str, str] = {
    family: codes["default"]
    for family, codes in _CURRENCIES["families"].items()
    if "default" in codes
}
QUALIFIED: dict[tuple[str, str], str] = {
    (country, family): code
    for family, codes in _CURRENCIES["families"].items()
    for country, code in codes.items()
    if country != "default"
}
# Plural genitive adjectives that stand for a rouble with its noun left out («за 100
# российских»), mapped to the code they name.
ELLIPTIC_ROUBLES: dict[str, str] = {
    word: QUALIFIED[(ADJECTIVES[word], "rouble")] for word in _CURRENCIES["elliptic"]["words"]
}
# Singular nominative nouns, which only a number ending in 1 (not 11) takes in ru and uk.
SINGULAR_NOMINATIVE = frozenset(_CURRENCIES["agreement"]["singular_nominative"])

# Letter signs whose case tells them from ordinary words, and symbols, after a number.
SIGNS: tuple[Unit, ...] = tuple(Unit(**unit) for unit in _CURRENCIES["units"]["signs"])
SYMBOLS: tuple[Unit, ...] = tuple(Unit(**unit) for unit in _CURRENCIES["units"]["symbols"])
# Written before the number, looked up as written.
PREFIX_SYMBOLS: dict[str, str] = dict(_CURRENCIES["prefix_symbols"])
PREFIX_WORDS: dict[str, tuple[str, int]] = {
    word: (unit["currency"], unit.get("scale", 1))
    for word, unit in _CURRENCIES["prefix_words"].items()
}
# Letters before a «$» («US$», «C$», «HK$»), and those that may have a space before it.
DOLLAR_PREFIXES: dict[str, str] = {
    prefix: code
    for code, prefixes in _CURRENCIES["dollar"]["prefixes"].items()
    for prefix in prefixes
}
SPACED_DOLLAR_PREFIXES = frozenset(word for word in DOLLAR_PREFIXES if len(word) > 1) | frozenset(
    _CURRENCIES["dollar"]["spaced_letters"]
)

# Articles that mean «one» before a currency («einen Euro»), and the words they must precede.
ARTICLES = frozenset(_NUMBERS["articles"]["words"])
ARTICLE_NOUNS = tuple(_NUMBERS["articles"]["before"])

# Scales: the key is the lower-cased word without its final dot.
SCALES: dict[str, int] = {
    word: int(table["value"])
    for table in _NUMBERS["scales"]
    for word in _words(table, skip=("value",))
}
SCALE_ABBREVIATIONS = frozenset(_NUMBERS["scale_words"]["abbreviations"])
SINGULAR_SCALES = frozenset(_NUMBERS["scale_words"]["alone"])
GERMAN_SCALES: dict[str, int] = dict(_NUMBERS["german_scales"])
ATTACHED_SCALES: dict[str, int] = dict(_NUMBERS["attached_scales"])

# German numerals 1-999 are one word each («achtundsiebzig», «dreihundertfünfzig»): a rule, so
# they are generated here rather than listed in the data file.
_DE_UNITS = ("", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun")
_DE_TEENS = (
    *("zehn", "elf", "zwölf", "dreizehn", "vierzehn"),
    *("fünfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn"),
)
_DE_TENS = (
    *("", "", "zwanzig", "dreißig", "vierzig"),
    *("fünfzig", "sechzig", "siebzig", "achtzig", "neunzig"),
)


def _german_below_hundred(number: int) -> str:
    tens, units = divmod(number, 10)
    if tens == 0:
        return _DE_UNITS[units]
    if tens == 1:
        return _DE_TEENS[units]
    if units == 0:
        return _DE_TENS[tens]
    # «einundzwanzig», not «einsundzwanzig».
    return _DE_UNITS[units].removesuffix("s") + "und" + _DE_TENS[tens]


def _german_numerals() -> dict[str, str]:
    """German numerals are written as one word («achtundsiebzig», «dreihundertfünfzig»)."""
    words: dict[str, str] = {}
    for number in range(1, 1000):
        hundreds, rest = divmod(number, 100)
        tail = _german_below_hundred(rest)
        if hundreds == 0:
            words[tail] = str(number)
            continue
        head = _DE_UNITS[hundreds].removesuffix("s") + "hundert"
        words[head + tail] = str(number)
        if hundreds == 1:
            words["hundert" + tail] = str(number)
    return words


# Number words, for amounts written out («два миллиарда долларов», «ten dollars»). A value
# «x100» multiplies what came before («two hundred»).
NUMBER_WORDS: dict[str, str] = {
    **{
        word: value
        for by_value in _NUMBERS["numerals"].values()
        for value, forms in by_value.items()
        for form in forms
        for word in _expand(form)
    },
    **_german_numerals(),
}
