"""The money parser: number formats, scales, currencies, the rouble rule, ranges, rates, the
non-money traps, the seeds' amounts, exact offsets, and that no input makes it raise."""

from __future__ import annotations

import itertools
import math
import random
import re
from datetime import date
from pathlib import Path

import pytest

from services.enrich.money import VERSION, extract_money
from services.enrich.money.vocabulary import ADJECTIVES, NOUNS, NUMBER_WORDS, SCALES
from shared.messages import MoneyMention


def amounts(
    text: str,
    language: str = "ru",
    *,
    published: date | None = None,
    default_rouble: str = "RUB",
) -> list[tuple[float, str, str, str | None]]:
    """(amount, currency, bound, per_currency) of every mention, checking each offset."""
    mentions = extract_money(
        text, language=language, published=published, default_rouble=default_rouble
    )
    for mention in mentions:
        assert text[mention.start : mention.end] == mention.text
    return [(m.amount, m.currency, m.bound, m.per_currency) for m in mentions]


def only(
    text: str,
    language: str = "ru",
    *,
    published: date | None = None,
    default_rouble: str = "RUB",
) -> tuple[float, str]:
    """The single mention's (amount, currency)."""
    found = amounts(text, language, published=published, default_rouble=default_rouble)
    assert len(found) == 1, found
    return found[0][0], found[0][1]


def same(found: tuple[float, str], expected: tuple[float, str]) -> bool:
    return found[1] == expected[1] and math.isclose(found[0], expected[0], rel_tol=1e-12)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("1.844.036.360,12 руб.", "ru", (1_844_036_360.12, "RUB")),
        ("5,3 млн рублей", "ru", (5_300_000, "RUB")),
        ("1 500 евро", "ru", (1500, "EUR")),
        ("1\u00a0500 евро", "ru", (1500, "EUR")),
        ("1\u202f500 евро", "ru", (1500, "EUR")),
        ("12,50 €", "de", (12.5, "EUR")),
        ("$2.5bn", "en", (2_500_000_000, "USD")),
        ("1,234.56 dollars", "en", (1234.56, "USD")),
        ("1'000 CHF", "de", (1000, "CHF")),
        ("1’000 CHF", "de", (1000, "CHF")),
        ("20.000 руб.", "ru", (20_000, "RUB")),
        ("20,000 руб", "ru", (20_000, "RUB")),
        ("20,00 руб", "ru", (20, "RUB")),
        ("1 599 059, 38 Евро", "ru", (1_599_059.38, "EUR")),
        ("49,- Euro", "de", (49, "EUR")),
        (".75 €", "de", (0.75, "EUR")),
    ],
    ids=repr,
)
def test_number_formats_with_every_separator(
    text: str, language: str, expected: tuple[float, str]
) -> None:
    """News groups thousands with spaces, NBSP, dots or apostrophes; decimals take either mark."""
    assert same(only(text, language), expected)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("8.600 Rubel", "de", (8600, "RUB")),  # German: the dot groups thousands
        ("1.500 Euro", "de", (1500, "EUR")),
        ("1.5 млн долларов", "ru", (1_500_000, "USD")),  # one or two digits: a decimal
        ("1,5 Mio. Euro", "de", (1_500_000, "EUR")),
        ("1,844 млрд рублей", "ru", (1_844_000_000, "RUB")),  # three digits before a scale
        ("$1.234 billion", "en", (1_234_000_000, "USD")),
        ("$13,009 million", "en", (13_009_000_000, "USD")),  # English: the comma groups
        ("1,500 dollars", "en", (1500, "USD")),
        ("3.690 рублей", "ru", (3690, "RUB")),  # no scale: money has at most two decimals
        ("Rp 31.500", "en", (31_500, "IDR")),  # a currency without cents
    ],
    ids=repr,
)
def test_one_mark_before_three_digits_reads_by_language_and_scale(
    text: str, language: str, expected: tuple[float, str]
) -> None:
    """«1.500» is 1500 in German and «1.5» is one and a half: group length and language decide."""
    assert same(only(text, language), expected)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("5 тыс. рублей", "ru", 5e3),
        ("5 тысяч рублей", "ru", 5e3),
        ("2 тысячи рублей", "ru", 2e3),
        ("1 тысяча рублей", "ru", 1e3),
        ("5 млн рублей", "ru", 5e6),
        ("1 миллион рублей", "ru", 1e6),
        ("2 миллиона рублей", "ru", 2e6),
        ("5 миллионов рублей", "ru", 5e6),
        ("5 млрд рублей", "ru", 5e9),
        ("1 миллиард рублей", "ru", 1e9),
        ("2 миллиарда рублей", "ru", 2e9),
        ("5 миллиардов рублей", "ru", 5e9),
        ("5 трлн рублей", "ru", 5e12),
        ("2 триллиона рублей", "ru", 2e12),
        ("5 триллионов рублей", "ru", 5e12),
        ("5 тысяч рублёў", "be", 5e3),
        ("1 мільён рублёў", "be", 1e6),
        ("5 мільярдаў рублёў", "be", 5e9),
        ("2 трыльёны рублёў", "be", 2e12),
        ("5 тисяч гривень", "uk", 5e3),
        ("5 мільйонів гривень", "uk", 5e6),
        ("5 мільярдів гривень", "uk", 5e9),
        ("1 трильйон гривень", "uk", 1e12),
        ("5 Tsd. Euro", "de", 5e3),
        ("5 Mio. Euro", "de", 5e6),
        ("5 Mrd. Euro", "de", 5e9),
        ("1 Million Euro", "de", 1e6),
        ("5 Millionen Euro", "de", 5e6),
        ("1 Milliarde Euro", "de", 1e9),
        ("5 Milliarden Euro", "de", 5e9),
        ("5 Billionen Euro", "de", 5e12),  # the German long scale
        ("1 Billion Euro", "de", 1e12),
        ("2 Billiarden Euro", "de", 2e15),
        ("5 thousand euros", "en", 5e3),
        ("5 million euros", "en", 5e6),
        ("5 billion euros", "en", 5e9),  # the English short scale
        ("5 trillion euros", "en", 5e12),
        ("€5k", "en", 5e3),
        ("€5m", "en", 5e6),
        ("€5bn", "en", 5e9),
        ("€5 mn", "en", 5e6),
        ("€5tn", "en", 5e12),
    ],
    ids=repr,
)
def test_scale_words_in_every_form_and_language(text: str, language: str, expected: float) -> None:
    """Amounts in news are mostly scaled; each spelling and case of each scale must multiply."""
    amount, _ = only(text, language, default_rouble="BYN")
    assert math.isclose(amount, expected)


@pytest.mark.parametrize(
    ("text", "language", "currency"),
    [
        *[(f"10 {code}", "en", code) for code in ("BYN", "BYR", "RUB", "USD", "EUR", "CNY")],
        *[(f"10 {code}", "en", code) for code in ("KZT", "UAH", "PLN", "GBP", "CHF", "JPY")],
        ("USD 10", "en", "USD"),
        ("$10", "en", "USD"),
        ("10 €", "de", "EUR"),
        ("10 ₽", "ru", "RUB"),
        ("¥10", "en", "JPY"),
        ("£10", "en", "GBP"),
        ("10 ₴", "uk", "UAH"),
        ("10 ₸", "ru", "KZT"),
        ("10 Br", "ru", "BYN"),
        ("US$10", "en", "USD"),
        ("C$10", "en", "CAD"),
        ("HK$10", "en", "HKD"),
        ("10 долларов", "ru", "USD"),
        ("10 доллара США", "ru", "USD"),
        ("10 долл.", "ru", "USD"),
        ("10 евро", "ru", "EUR"),
        ("10 юаней", "ru", "CNY"),
        ("1 юань", "ru", "CNY"),
        ("10 тенге", "ru", "KZT"),
        ("10 гривен", "ru", "UAH"),
        ("2 гривны", "ru", "UAH"),
        ("10 злотых", "ru", "PLN"),
        ("10 фунтов стерлингов", "ru", "GBP"),
        ("10 швейцарских франков", "ru", "CHF"),
        ("10 канадских долларов", "ru", "CAD"),
        ("10 даляраў", "be", "USD"),
        ("10 еўра", "be", "EUR"),
        ("10 гривень", "uk", "UAH"),
        ("10 доларів", "uk", "USD"),
        ("10 євро", "uk", "EUR"),
        ("10 грн", "uk", "UAH"),
        ("10 Euro", "de", "EUR"),
        ("10 US-Dollar", "de", "USD"),
        ("10 Dollar", "de", "USD"),
        ("10 Franken", "de", "CHF"),
        ("10 kanadische Dollar", "de", "CAD"),
        ("10 dollars", "en", "USD"),
        ("10 euros", "en", "EUR"),
        ("10 pounds", "en", "GBP"),
        ("10 yuan", "en", "CNY"),
        ("10 Swiss francs", "en", "CHF"),
    ],
    ids=repr,
)
def test_currency_codes_symbols_and_words(text: str, language: str, currency: str) -> None:
    """Every way a currency is written maps to its ISO 4217 code."""
    amount, found = only(text, language)
    assert found == currency
    assert amount == float(re.findall(r"\d+", text)[0])


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("10 рублей", "ru"),
        ("10 руб.", "ru"),
        ("10 руб", "ru"),
        ("10 р.", "ru"),
        ("2 рубля", "ru"),
        ("1 рубль", "ru"),
        ("10 рублями", "ru"),
        ("10 рублёў", "be"),
        ("10 рублів", "uk"),
        ("10 Rubel", "de"),
        ("10 roubles", "en"),
        ("10 rubles", "en"),
    ],
    ids=repr,
)
def test_bare_rouble_is_the_callers_default(text: str, language: str) -> None:
    """Unqualified roubles belong to the document's country, which only the caller knows."""
    assert only(text, language)[1] == "RUB"
    assert only(text, language, default_rouble="BYN")[1] == "BYN"


@pytest.mark.parametrize(
    ("text", "language", "currency"),
    [
        ("10 белорусских рублей", "ru", "BYN"),
        ("10 беларускіх рублёў", "be", "BYN"),
        ("10 білоруських рублів", "uk", "BYN"),
        ("10 belarussische Rubel", "de", "BYN"),
        ("10 Belarusian roubles", "en", "BYN"),
        ("10 российских рублей", "ru", "RUB"),
        ("10 расійскіх рублёў", "be", "RUB"),
        ("10 російських рублів", "uk", "RUB"),
        ("10 russische Rubel", "de", "RUB"),
        ("10 Russian roubles", "en", "RUB"),
        ("10 ₽", "ru", "RUB"),
        ("Br10", "ru", "BYN"),
    ],
    ids=repr,
)
def test_qualified_rouble_ignores_the_default(text: str, language: str, currency: str) -> None:
    """«белорусских рублей» is BYN and «₽» RUB whatever the document's country."""
    assert only(text, language, default_rouble="BYN")[1] == currency
    assert only(text, language, default_rouble="RUB")[1] == currency


@pytest.mark.parametrize(
    ("published", "currency"),
    [
        (date(2014, 12, 31), "BYR"),
        (date(2016, 6, 30), "BYR"),
        (date(2016, 7, 1), "BYN"),
        (date(2025, 10, 11), "BYN"),
        (None, "BYN"),
    ],
)
def test_belarusian_rouble_is_byr_before_the_2016_redenomination(
    published: date | None, currency: str
) -> None:
    """10 000 old roubles became one new one on 2016-07-01; mixing them is off by 10^4."""
    for text in ("15 000 рублей", "15 000 белорусских рублей", "Br15 000"):
        found = only(text, "ru", published=published, default_rouble="BYN")
        assert found == (15_000, currency)


def test_russian_rouble_is_never_byr() -> None:
    """The redenomination was Belarusian; a Russian rouble in 2014 is still RUB."""
    assert only("15 рублей", "ru", published=date(2014, 1, 1)) == (15, "RUB")


@pytest.mark.parametrize(
    ("text", "language", "low", "high", "currency"),
    [
        ("от 5 до 7 млн долларов", "ru", 5e6, 7e6, "USD"),
        ("5–7 млн долларов", "ru", 5e6, 7e6, "USD"),
        ("5-7 млн долларов", "ru", 5e6, 7e6, "USD"),
        ("от 500 тыс. до 1 млн рублей", "ru", 5e5, 1e6, "RUB"),
        ("ад 5 да 7 млн даляраў", "be", 5e6, 7e6, "USD"),
        ("від 5 до 7 млн доларів", "uk", 5e6, 7e6, "USD"),
        ("zwischen 5 und 7 Mio. Euro", "de", 5e6, 7e6, "EUR"),
        # «bis» alone joins a range: «Schäden auf 2,4 bis 5,6 Milliarden Euro geschätzt».
        ("auf 2,4 bis 5,6 Milliarden Euro geschätzt", "de", 2.4e9, 5.6e9, "EUR"),
        ("between $5 and $7 million", "en", 5e6, 7e6, "USD"),
        ("$5–7 million", "en", 5e6, 7e6, "USD"),
    ],
    ids=repr,
)
def test_range_gives_min_and_max_sharing_scale_and_currency(
    text: str, language: str, low: float, high: float, currency: str
) -> None:
    """«от 5 до 7 млн долларов» is 5 to 7 million dollars, not five units of nothing."""
    assert amounts(text, language) == [
        (low, currency, "min", None),
        (high, currency, "max", None),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "rose from $5 million to $7 million",  # a change, not a range
        "до 7 млн долларов",  # one end only
        "на 2021 – 5 млн долларов",  # the lower end is not lower
    ],
)
def test_not_a_range(text: str) -> None:
    """Only an explicit range is one; a change or a lone bound keeps exact amounts."""
    assert all(bound == "exact" for _, _, bound, _ in amounts(text, "en"))


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # uk041: a price before a change, «з … на» and «з … до», takes the currency after.
        ("Буряк змінив ціну з 6,52 на 6,41 грн, капуста – з 6,06 до 5,54 грн.", "uk",
         [(6.52, "UAH", "exact", None), (6.41, "UAH", "exact", None),
          (6.06, "UAH", "exact", None), (5.54, "UAH", "exact", None)]),
        # uk041: a fall written with a dash, the higher price first.
        ("Подешевшали також: макарони з м’яких сортів пшениці (18,31 – 18,15 грн), рис (22,83 –"
         " 22,37 грн).", "uk",
         [(18.31, "UAH", "exact", None), (18.15, "UAH", "exact", None),
          (22.83, "UAH", "exact", None), (22.37, "UAH", "exact", None)]),
        ("Курс вырос с 2,45 до 2,50 рубля.", "ru",
         [(2.45, "RUB", "exact", None), (2.5, "RUB", "exact", None)]),
        ("The euro rose from 29.14 to 29.46 UAH.", "en",
         [(29.14, "UAH", "exact", None), (29.46, "UAH", "exact", None)]),
        # A year, or a number written unlike the price, is no price before a fall.
        ("Ціна у 2019 – 6,40 грн.", "uk", [(6.4, "UAH", "exact", None)]),
        ("У 2019 – 150 грн.", "uk", [(150, "UAH", "exact", None)]),
        ("Тариф 3 – 2,50 грн.", "uk", [(2.5, "UAH", "exact", None)]),
    ],
    ids=repr,
)  # fmt: skip
def test_a_change_of_price_gives_both_prices(
    text: str, language: str, expected: list[tuple[float, str, str, str | None]]
) -> None:
    """«з 6,06 до 5,54 грн»: the price before a change is money in the currency after it, an
    exact amount (a change is not a range), also when it fell (issue 9)."""
    assert amounts(text, language) == expected


@pytest.mark.parametrize(
    ("text", "language", "published", "expected", "unit"),
    [
        ("4930 рублей за доллар", "ru", date(2014, 3, 1), (4930, "BYR", "exact", "USD"), None),
        ("3,69 рубля за доллар", "ru", date(2025, 10, 11), (3.69, "BYN", "exact", "USD"), None),
        ("3,2 рубля за 1 доллар США", "ru", None, (3.2, "BYN", "exact", "USD"), "1 доллар США"),
        ("3,6 рубля за евро", "ru", None, (3.6, "BYN", "exact", "EUR"), None),
        ("81.5 roubles per dollar", "en", None, (81.5, "BYN", "exact", "USD"), None),
        ("1,08 Dollar je Euro", "de", None, (1.08, "USD", "exact", "EUR"), None),
        ("4930 руб. за $1", "ru", date(2011, 6, 1), (4930, "BYR", "exact", "USD"), "$1"),
        ("8.600 Rubel pro Dollar", "de", date(2011, 6, 1), (8600, "BYR", "exact", "USD"), None),
        (
            "4,930 roubles to the dollar", "en", date(2011, 6, 1),
            (4930, "BYR", "exact", "USD"), None,
        ),
        ("3,44 рубля за 10 юаней", "ru", None, (3.44, "BYN", "exact", "CNY"), "10 юаней"),
    ],
    ids=repr,
)  # fmt: skip
def test_rate_is_the_price_and_the_unit_priced(
    text: str,
    language: str,
    published: date | None,
    expected: tuple[float, str, str, str],
    unit: str | None,
) -> None:
    """A rate prices one currency in another: the price carries the unit in per_currency, and
    a unit written with a number («1 доллар США», «$1») is a mention of its own, as a reader
    would mark it; a bare «доллар» carries no amount."""
    found = amounts(text, language, published=published, default_rouble="BYN")
    assert found[0][1:] == expected[1:]
    assert math.isclose(found[0][0], expected[0])
    mentions = extract_money(text, language=language, default_rouble="BYN")
    assert text.startswith(mentions[0].text)
    assert [m.text for m in mentions[1:]] == ([] if unit is None else [unit])
    if unit is not None:
        assert found[1][1:] == (expected[3], "exact", None)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Br390 млрд", "ru", (390e9, "BYN")),
        ("$9,5 млрд", "ru", (9.5e9, "USD")),
        ("8.600 Rubel", "de", (8600, "RUB")),
        ("€1,2 Mrd.", "de", (1.2e9, "EUR")),
        ("5 Mio. Euro", "de", (5e6, "EUR")),
        ("$5 млн", "ru", (5e6, "USD")),
        ("1,6 триллиона рублей", "ru", (1.6e12, "RUB")),
        ("более $100 тыс.", "ru", (1e5, "USD")),
        ("2,2 млн.руб.", "ru", (2.2e6, "RUB")),
        ("20 т. р.", "ru", (2e4, "RUB")),
        ("US$ 4.7 billion", "en", (4.7e9, "USD")),
        ("£8.4bn", "en", (8.4e9, "GBP")),
        ("75 USD million", "en", (75e6, "USD")),
        ("124 451 рубль 50 копеек", "ru", (124_451.5, "RUB")),
        ("20 dollars 43 cents", "en", (20.43, "USD")),
        ("881 913 (восемьсот восемьдесят одна тысяча) руб. 98 коп.", "ru", (881_913.98, "RUB")),
    ],
    ids=repr,
)
def test_news_forms(text: str, language: str, expected: tuple[float, str]) -> None:
    """The shapes money takes in headlines and leads: signs glued on, scales abbreviated."""
    assert same(only(text, language), expected)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("два миллиарда долларов", "ru", (2e9, "USD")),
        ("полтора миллиарда рублей", "ru", (1.5e9, "RUB")),
        ("миллиард долларов", "ru", (1e9, "USD")),
        ("двадцать пять тысяч рублей", "ru", (25e3, "RUB")),
        ("ten dollars", "en", (10, "USD")),
        ("a million dollars", "en", (1e6, "USD")),
        ("half a million dollars", "en", (5e5, "USD")),
        ("achtundsiebzig Millionen Dollar", "de", (78e6, "USD")),
        ("einen Euro", "de", (1, "EUR")),
        ("thirteen dollars and forty-five cents", "en", (13.45, "USD")),
    ],
    ids=repr,
)
def test_amounts_written_in_words(text: str, language: str, expected: tuple[float, str]) -> None:
    """Round sums are often spelled out («миллиард долларов»)."""
    assert same(only(text, language), expected)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("более 120 резидентов", "ru"),
        ("20.000 Quadratmeter", "de"),
        ("в 2025 году", "ru"),
        ("в 1998-2001 годах", "ru"),
        ("29.09.2025", "ru"),
        ("Am 29.09.2025 um 14.30 Uhr", "de"),
        ("в 10:30", "ru"),
        ("рост на 5,3%", "ru"),
        ("5,3 Prozent", "de"),
        ("тел. +375 29 123-45-67", "ru"),
        ("Call +1 202 555 0143", "en"),
        ("дом № 5, кв. 12", "ru"),
        ("1,5 млн человек", "ru"),
        ("5 Mio. Einwohner", "de"),
        ("в 2024 рубль подешевел", "ru"),  # a year, then the currency's name
        ("У 2025 р. бюджет", "uk"),  # Ukrainian «р.» is a year
        ("In 2008 dollars were scarce", "en"),
        ("миллиарды долларов", "ru"),  # no amount
        ("a dollar-denominated bond", "en"),
        ("eine Dollar-Anleihe", "de"),
        ("All 70 of us.", "en"),
        ("ALL 5 solutions are wrong.", "en"),
        ("He has lost his pen 7 times since Monday.", "en"),
        ("Boeing 737 MAX and Airbus A380", "en"),
        ("COVID-19", "en"),
        ("16.00 ft", "en"),
        ("Печная труба", "ru"),
        ("", "ru"),
    ],
    ids=repr,
)
def test_numbers_that_are_not_money(text: str, language: str) -> None:
    """A count, year, date, time, share or phone number is money only with a currency at it."""
    assert amounts(text, language) == []


SEED_AMOUNTS = [
    ("1,5 миллиарда долларов", 1.5e9, "USD"),
    ("2 миллиарда долларов", 2e9, "USD"),
    ("120 млрд рублей", 1.2e11, "RUB"),
    ("1,6 триллиона рублей", 1.6e12, "RUB"),
]


@pytest.mark.parametrize(("written", "amount", "currency"), SEED_AMOUNTS)
def test_seed_amounts(seed_files: list[Path], written: str, amount: float, currency: str) -> None:
    """The sample files the quick start runs on must show these four amounts."""
    texts = [path.read_text(encoding="utf-8") for path in seed_files]
    mentions = [mention for text in texts for mention in extract_money(text, language="ru")]
    matching = [mention for mention in mentions if mention.text == written]
    assert len(matching) == 1
    assert matching[0].amount == amount
    assert matching[0].currency == currency


def test_offsets_point_at_the_mention_text() -> None:
    """Highlighting and search snippets slice the document with these offsets."""
    text = (
        "Заголовок\n\nЭкспорт — 1,5 млрд долларов США, импорт — от 5 до 7 млн евро;\n"
        "курс 3,2 рубля за доллар, «Br390 млрд» и $9,5 млрд."
    )
    mentions = extract_money(text, language="ru", default_rouble="BYN")
    assert [m.text for m in mentions] == [
        "1,5 млрд долларов США",
        "5",
        "7 млн евро",
        "3,2 рубля",
        "Br390 млрд",
        "$9,5 млрд.",  # an abbreviation keeps its dot, even at the end of a sentence
    ]
    for mention in mentions:
        assert text[mention.start : mention.end] == mention.text


def test_mentions_come_in_text_order_and_never_overlap() -> None:
    """Later stages walk mentions left to right."""
    text = "10 $ 30 $; $ 20,000.00 $ 37,305.97; 10 rmb 20 usd; rmb 10 usd 20"
    mentions = extract_money(text, language="en")
    assert [(m.amount, m.currency) for m in mentions] == [
        (10, "USD"),
        (30, "USD"),
        (20_000, "USD"),
        (37_305.97, "USD"),
        (10, "CNY"),
        (20, "USD"),
        (10, "CNY"),
        (20, "USD"),
    ]
    for before, after in itertools.pairwise(mentions):
        assert before.end <= after.start


def test_mentions_are_valid_messages() -> None:
    """They travel as JSON inside the enriched document."""
    mention = extract_money("5 млн долларов", language="ru")[0]
    assert MoneyMention.model_validate_json(mention.model_dump_json()) == mention
    assert VERSION == "8"


def test_unknown_language_still_finds_money() -> None:
    """A document whose language is undetermined («und») still has its amounts read."""
    assert only("$5 million", "und") == (5e6, "USD")


def test_bad_default_rouble_is_a_caller_error() -> None:
    """A misconfigured caller should fail loudly, not label roubles with garbage."""
    with pytest.raises(ValueError, match="default_rouble"):
        extract_money("5 рублей", language="ru", default_rouble="byn")


def test_vocabulary_is_lower_case() -> None:
    """Words are matched on the lower-cased text, so an upper-case form could never match."""
    for words in (NOUNS, ADJECTIVES, NUMBER_WORDS, SCALES):
        assert all(word == word.lower() for word in words)


_FUZZ_PIECES = [
    *"0123456789          ..,,''’-–()%$€£¥₽₴₸₹Br\u00a0\u202f\nİ",
    "руб.",
    "р.",
    "млн",
    "млрд",
    "тыс.",
    "долларов",
    "евро",
    "рублей",
    "белорусских ",
    "Mio.",
    "Mrd.",
    "Euro",
    "USD",
    "BYN",
    "bn",
    "k",
    "за ",
    "от ",
    " до ",
    "between ",
    " and ",
    "миллиард",
    "два ",
    "a ",
    "million ",
    "копеек",
    "cents",
    "US$",
    "C $",
    "MUSD",
    "Rs.",
]


def test_no_input_makes_it_raise() -> None:
    """Enrich must never dead-letter a document because of its text (fuzzed, fixed seed)."""
    rng = random.Random(20251011)
    for _ in range(3000):
        text = "".join(rng.choice(_FUZZ_PIECES) for _ in range(rng.randint(0, 40)))
        for language in ("ru", "be", "uk", "de", "en", "xx"):
            published = rng.choice([None, date(2015, 1, 1), date(2020, 1, 1)])
            for mention in extract_money(text, language=language, published=published):
                assert text[mention.start : mention.end] == mention.text
                assert mention.amount >= 0
                assert math.isfinite(mention.amount)


def test_arbitrary_unicode_does_not_raise() -> None:
    """Garbage bytes decoded leniently reach enrich too."""
    rng = random.Random(7)
    for _ in range(500):
        text = "".join(chr(rng.randint(0, 0x2FFFF)) for _ in range(rng.randint(0, 60)))
        for mention in extract_money(text, language=rng.choice(["ru", "de", "en"])):
            assert text[mention.start : mention.end] == mention.text


@pytest.mark.timeout(60)
def test_a_long_run_of_spaces_after_a_currency_is_read_in_linear_time() -> None:
    """Two space runs that could share the same spaces (before and after «и») backtracked
    quadratically: 100 000 spaces after «рублей» took 397 s. Possessive runs read it at once."""
    mentions = extract_money("5 рублей" + " " * 200_000 + "и 50 копеек", language="ru")
    assert [(m.amount, m.currency) for m in mentions] == [(5.5, "RUB")]


@pytest.mark.timeout(60)
def test_many_amounts_in_digits_and_in_words_are_read_in_linear_time() -> None:
    """Each amount in words was checked against every amount in digits: quadratic (380 KB took
    47 s). This is 1 MB."""
    copies = 50_000
    mentions = extract_money("5 руб. " * copies + "пять рублей " * copies, language="ru")
    assert len(mentions) == 2 * copies
    assert {(m.amount, m.currency) for m in mentions} == {(5.0, "RUB")}


@pytest.mark.parametrize(
    "text",
    [
        "1" * 200_000 + " руб.",
        "999 999 999 999 999 999 999 999 999 рублей",
        "two " + "hundred " * 2000 + "dollars",
        "a " + "million " * 2000 + "dollars",
    ],
)
def test_numbers_too_long_for_an_amount_are_not_money(text: str) -> None:
    """A megabyte of digits overflowed the decimal context (an exception) and a few hundred
    «hundred»s made an infinite float, which is not valid JSON: past 24 digits it is no amount."""
    mentions = extract_money(text, language="en")
    assert all(math.isfinite(m.amount) for m in mentions)
    assert all(m.amount < 1e30 for m in mentions)
    assert [MoneyMention.model_validate_json(m.model_dump_json()) for m in mentions] == mentions


@pytest.mark.parametrize(
    ("text", "language", "published", "expected"),
    [
        # An American paper's hyphenated scale.
        ("Moscow offered Minsk a $1-billion loan.", "en", None, [("$1-billion", 1e9, "USD")]),
        ("the $2-billion credit line", "en", None, [("$2-billion", 2e9, "USD")]),
        # German compounds: the amount, its scale and the currency are one word with the noun.
        (
            "Russland gewährt Belarus einen Drei-Milliarden-Dollar-Kredit.", "de", None,
            [("Drei-Milliarden-Dollar", 3e9, "USD")],
        ),
        (
            "Die EU schnürt ein 50-Milliarden-Euro-Paket.", "de", None,
            [("50-Milliarden-Euro", 5e10, "EUR")],
        ),
        ("Ein Liter Milch kostet 2 Belarus-Rubel.", "de", None, [("2 Belarus-Rubel", 2, "BYN")]),
        # Dot thousands, in every language.
        (
            "Сярэдні заробак — 3.020–3.025 рублёў.", "be", date(2011, 5, 1),
            [("3.020", 3020, "RUB"), ("3.025 рублёў", 3025, "RUB")],
        ),
        ("Пенсия составила 1.040,15 рубля.", "ru", None, [("1.040,15 рубля", 1040.15, "RUB")]),
        (
            "In May 2011 a dollar cost Br4.930 at the exchange.", "en", date(2011, 5, 20),
            [("Br4.930", 4930, "BYR")],
        ),
        # Compound amounts: each scale a part.
        (
            "Прыбытак склаў 483 млн. 187 тыс. рублёў.", "be", None,
            [("483 млн. 187 тыс. рублёў", 483_187_000, "RUB")],
        ),
        (
            "Выручка — 2 млрд 350 млн долларов.", "ru", None,
            [("2 млрд 350 млн долларов", 2_350_000_000, "USD")],
        ),
        (
            "Даход бюджэту склаў 20 трлн. 370,8 млрд. рублёў.", "be", date(2014, 1, 1),
            [("20 трлн. 370,8 млрд. рублёў", 20_370_800_000_000, "RUB")],
        ),
        (
            "Доллар стоил 4 тыс. 930 белорусских рублей.", "ru", date(2011, 5, 24),
            [("4 тыс. 930 белорусских рублей", 4930, "BYR")],
        ),
        # Belarusian in the Latin alphabet.
        ("Siaredni zarobak — 1861,1 rubla, abo 532 dalary.", "be", None,
         [("1861,1 rubla", 1861.1, "RUB"), ("532 dalary", 532, "USD")]),
        ("Kredyt na 185 мільёнаў долараў і паўмільярда долараў.", "be", None,
         [("185 мільёнаў долараў", 1.85e8, "USD"), ("паўмільярда долараў", 5e8, "USD")]),
        # Ukrainian and Belarusian number words.
        ("Сьогодні один долар коштує дванадцять гривень.", "uk", None,
         [("один долар", 1, "USD"), ("дванадцять гривень", 12, "UAH")]),
        ("За адзін даляр давалі дзевятнаццаць рублёў.", "be", None,
         [("адзін даляр", 1, "USD"), ("дзевятнаццаць рублёў", 19, "RUB")]),
        # Nicknames of the Belarusian rouble.
        ("Доллар подорожал на 0,0004 белрубля.", "ru", date(2025, 1, 9),
         [("0,0004 белрубля", 0.0004, "BYN")]),
        ("Проезд стоит 850 зайчиков.", "ru", date(2012, 1, 9), [("850 зайчиков", 850, "BYR")]),
        ("Доллар стоит 174 «зайчика».", "ru", date(2000, 1, 9), [("174 «зайчика»", 174, "BYR")]),
    ],
    ids=repr,
)  # fmt: skip
def test_money_forms_of_real_news(
    text: str, language: str, published: date | None, expected: list[tuple[str, float, str]]
) -> None:
    """Forms the real-news benchmark found missed or misread (issue 9, section 4)."""
    found = extract_money(text, language=language, published=published)
    got = [(m.text, m.amount, m.currency) for m in found]
    assert len(got) == len(expected), got
    for (text_, amount, currency), (want_text, want_amount, want_currency) in zip(
        got, expected, strict=True
    ):
        assert (text_, currency) == (want_text, want_currency)
        assert math.isclose(amount, want_amount, rel_tol=1e-12)


@pytest.mark.parametrize(
    "text",
    [
        "Eine Dollar-Anleihe wurde platziert.",  # the currency is part of a noun
        "Пакет из 100 российских компаний.",  # an adjective with its noun
        "Сократили 5 млн 300 человек.",  # a compound amount needs its currency
    ],
)
def test_compound_and_elliptic_forms_need_their_whole_shape(text: str) -> None:
    """The hyphen and the lone adjective only count in the shapes above."""
    assert extract_money(text, language="de" if "Dollar" in text else "ru") == []


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Бюджет програми – 450 млн дол на п'ять років.", "uk", [("450 млн дол", 450e6, "USD")]),
        ("He was fined 50 cents a day.", "en", [("50 cents", 0.5, "USD")]),
        ("Проїзд подорожчав на 5 центів.", "uk", [("5 центів", 0.05, "USD")]),
        (
            "The largest new paper currency – 500 rubles. The smallest denomination of currency"
            " will be one cent.",
            "en",
            [("500 rubles", 500, "RUB"), ("one cent", 0.01, "RUB")],
        ),
        ("Der Preis stieg um 50 Cent.", "de", [("50 Cent", 0.5, "EUR")]),
    ],
    ids=repr,
)  # fmt: skip
def test_money_forms_of_english_and_ukrainian_news(
    text: str, language: str, expected: list[tuple[str, float, str]]
) -> None:
    """English and Ukrainian forms (issue 9): «дол» without its dot, and a cent written alone,
    which is a hundredth of the currency named before it, else of the dollar (euro in German)."""
    found = extract_money(text, language=language)
    got = [(m.text, m.amount, m.currency) for m in found]
    assert len(got) == len(expected), got
    for (text_, amount, currency), (want_text, want_amount, want_currency) in zip(
        got, expected, strict=True
    ):
        assert (text_, currency) == (want_text, want_currency)
        assert math.isclose(amount, want_amount, rel_tol=1e-12)


@pytest.mark.parametrize(
    ("text", "language", "published", "expected"),
    [
        (
            "The denomination will be made by replacing the banknotes ... at a ratio of 10,000"
            " (old) Belarussian roubles to 1 Belarussian rouble,",
            "en",
            date(2015, 11, 4),
            [
                ("10,000 (old) Belarussian roubles", 10_000, "BYR"),
                ("1 Belarussian rouble", 1, "BYN"),
            ],
        ),
        (
            "за 10 тисяч білоруських рублів старого зразка можна буде отримати один рубль нового.",
            "uk",
            date(2016, 6, 1),
            [("10 тисяч білоруських рублів", 10_000, "BYR"), ("один рубль", 1, "BYN")],
        ),
        (
            "The largest new paper currency – 500 rubles – will be equal to 5,000,000 current"
            " rubles.",
            "en",
            date(2016, 7, 1),
            [("500 rubles", 500, "BYN"), ("5,000,000 current rubles", 5e6, "BYR")],
        ),
        (
            "Обменять 10 тысяч старых рублей.", "ru", date(2016, 8, 1),
            [("10 тысяч старых рублей", 1e4, "BYR")],
        ),
        (
            "Это 10 тысяч рублей нового кредита.", "ru", date(2016, 6, 1),
            [("10 тысяч рублей", 1e4, "BYR")],
        ),
    ],
    ids=repr,
)  # fmt: skip
def test_old_and_new_belarusian_roubles_of_the_redenomination(
    text: str, language: str, published: date, expected: list[tuple[str, float, str]]
) -> None:
    """A Belarusian rouble called old is BYR and one called new BYN whatever the date (issue 9);
    one exchanged for an old one in the same sentence is new; «нового» before another noun is
    that noun's."""
    found = extract_money(text, language=language, published=published, default_rouble="BYN")
    assert [(m.text, m.amount, m.currency) for m in found] == expected


def test_a_bare_dollar_is_the_home_dollar_where_us_dollars_are_written_out() -> None:
    """An outlet that writes «US$» and its own «S$» means its own dollar by a bare «$» (issue
    9); the same «$» elsewhere stays the US dollar."""
    text = (
        "Putin bestows $2 billion loan in gesture of support for Belarus leader Lukashenko\n\n"
        "Russian President Vladimir Putin bestowed a US$1.5 billion (S$2.04 billion) loan on"
        " Belarus, and $3-4 million more."
    )
    found = extract_money(text, language="en")
    assert [(m.text, m.currency) for m in found] == [
        ("$2 billion", "SGD"),
        ("US$1.5 billion", "USD"),
        ("S$2.04 billion", "SGD"),
        ("$3", "SGD"),
        ("4 million", "SGD"),
    ]
    assert [m.currency for m in extract_money("$5 and US$7 million", language="en")] == [
        "USD",
        "USD",
    ]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Зарплата – 4 тис. польських злотих.", "uk", ("4 тис. польських злотих", 4000, "PLN")),
        ("Кредит на 500 млн українських гривень.", "uk", ("500 млн українських гривень", 5e8,
                                                           "UAH")),
        ("Квиток коштує 20 британських фунтів.", "uk", ("20 британських фунтів", 20, "GBP")),
        ("Квиток коштує 2 фунти.", "uk", ("2 фунти", 2, "GBP")),
        ("Марка подорожчала на 50 євроцентів.", "uk", ("50 євроцентів", 0.5, "EUR")),
        ("It cost 2,000 Ukrainian hryvnias.", "en", ("2,000 Ukrainian hryvnias", 2000, "UAH")),
        ("It cost 300 Polish zlotys.", "en", ("300 Polish zlotys", 300, "PLN")),
        ("It cost 5,000 Kazakh tenge.", "en", ("5,000 Kazakh tenge", 5000, "KZT")),
        ("A loaf cost 25 euro cents.", "en", ("25 euro cents", 0.25, "EUR")),
        ("A stamp cost 25 US cents.", "en", ("25 US cents", 0.25, "USD")),
        ("Wages were 25 Belorussian roubles.", "en", ("25 Belorussian roubles", 25, "BYN")),
        ("Wages were 250,000 Belarusian roubles (BYR).", "en",
         ("250,000 Belarusian roubles", 250_000, "BYR")),
    ],
    ids=repr,
)  # fmt: skip
def test_currency_adjectives_and_cents_of_english_and_ukrainian_news(
    text: str, language: str, expected: tuple[str, float, str]
) -> None:
    """The Ukrainian, Polish, Kazakh and British adjectives, euro and US cents, and a code in
    brackets after the noun, which beats the date (issue 9)."""
    found = extract_money(text, language=language, published=date(2020, 1, 1))
    assert [(m.text, m.amount, m.currency) for m in found] == [expected]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Квартира коштує 5 тис. у.о. на місяць.", "uk", ("5 тис. у.о.", 5000, "USD")),
        ("Аренда – 100 у.е. в месяц.", "ru", ("100 у.е.", 100, "USD")),
        ("The debt reached 5.5 trln rubles.", "en", ("5.5 trln rubles", 5.5e12, "RUB")),
        ("The stamp costs 20 pence.", "en", ("20 pence", 0.2, "GBP")),
    ],
    ids=repr,
)  # fmt: skip
def test_conventional_units_pence_and_trln(
    text: str, language: str, expected: tuple[str, float, str]
) -> None:
    """«у.о.»/«у.е.» (the dollars of Ukrainian and Russian price lists), pence, and «trln»
    (issue 9)."""
    found = extract_money(text, language=language)
    assert [(m.text, m.amount, m.currency) for m in found] == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Moscow lent one and a half billion dollars.", ("one and a half billion dollars", 1.5e9)),
        (
            "The fund holds two and a half million dollars.",
            ("two and a half million dollars", 2.5e6),
        ),
    ],
)
def test_and_a_half_stays_inside_an_english_amount(text: str, expected: tuple[str, float]) -> None:
    """«one and a half billion dollars» is 1.5e9, not «half billion» (issue 9)."""
    found = extract_money(text, language="en")
    assert [(m.text, m.amount, m.currency) for m in found] == [(*expected, "USD")]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Кредит – два з половиною мільярди доларів.", "uk",
         ("два з половиною мільярди доларів", 2.5e9, "USD")),
        ("Кредит – два с половиной миллиарда долларов.", "ru",
         ("два с половиной миллиарда долларов", 2.5e9, "USD")),
        ("Збитки – пів мільярда доларів.", "uk", ("пів мільярда доларів", 5e8, "USD")),
        ("Штраф – двадцять пʼять тисяч гривень.", "uk",
         ("двадцять пʼять тисяч гривень", 25e3, "UAH")),
        ("Штраф до п'яти тисяч гривень.", "uk", ("п'яти тисяч гривень", 5e3, "UAH")),
        ("Понад семи мільйонів доларів.", "uk", ("семи мільйонів доларів", 7e6, "USD")),
    ],
    ids=repr,
)  # fmt: skip
def test_ukrainian_halves_genitives_and_apostrophes(
    text: str, language: str, expected: tuple[str, float, str]
) -> None:
    """«з половиною», «пів», genitive numerals and the «ʼ» apostrophe in number words (issue 9);
    «пів мільярда» is half a billion, not a billion."""
    found = extract_money(text, language=language)
    assert [(m.text, m.amount, m.currency) for m in found] == [expected]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Washington pledged another billion dollars.", "en",
         ("another billion dollars", 1e9, "USD")),
        ("It asked for an additional billion euros.", "en",
         ("an additional billion euros", 1e9, "EUR")),
        ("Die USA geben eine weitere Milliarde Dollar.", "de",
         ("eine weitere Milliarde Dollar", 1e9, "USD")),
    ],
    ids=repr,
)  # fmt: skip
def test_one_more_scale_word_is_an_amount(
    text: str, language: str, expected: tuple[str, float, str]
) -> None:
    """«another billion dollars» is one billion more, as «a billion dollars» is one (issue 9)."""
    found = extract_money(text, language=language)
    assert [(m.text, m.amount, m.currency) for m in found] == [expected]


def _read(text: str, language: str, published: date | None = None) -> list[tuple[str, float, str]]:
    found = extract_money(text, language=language, published=published)
    for mention in found:
        assert text[mention.start : mention.end] == mention.text
    return [(m.text, round(m.amount, 6), m.currency) for m in found]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # uk021: a kopeck of no named currency in Ukrainian is the hryvnia's; «копійку» is read.
        ("Таким чином, у порівнянні з попереднім робочим днем курс долара знизився на 1 копійку.",
         "uk", [("1 копійку", 0.01, "UAH")]),
        # The «коп.» of a hryvnia report is the hryvnia's, not a Russian kopeck.
        ("Курс долара зріс на 5 коп. і становить 41,20 грн.", "uk",
         [("5 коп.", 0.05, "UAH"), ("41,20 грн.", 41.2, "UAH")]),
        # en029: English kopecks, in digits and in words, of the hryvnia named before them.
        ("The reference value of the exchange rate of the hryvnia to the dollar at 12:00 is"
         " 27 hryvnia 20 kopecks. Thus, the dollar has strengthened by two kopecks. The next day,"
         " the dollar went up by 41 kopecks, and the euro by 66.", "en",
         [("27 hryvnia 20 kopecks", 27.2, "UAH"), ("two kopecks", 0.02, "UAH"),
          ("41 kopecks", 0.41, "UAH")]),
        # A Belarusian kopeck: the rouble written out nearest it.
        ("Проезд подорожает до 2 белорусских рублей, то есть на 50 копеек.", "ru",
         [("2 белорусских рублей", 2, "BYN"), ("50 копеек", 0.5, "BYN")]),
        # With no rouble or hryvnia written, the rule for a bare rouble decides, as before.
        ("Рубль подешевел на 50 копеек.", "ru", [("50 копеек", 0.5, "RUB")]),
        # uk041: the kopeck cut to «к.», after a whole number under 100.
        ("Так, морква, яка в грудня 2019 коштувала 6,40 грн, у лютому подешевшала на 37 к."
         " Буряк змінив ціну. Зросли у ціні: варені ковбаси – на 70 к., м’який сир – на 73 к."
         " дорожче.", "uk",
         [("6,40 грн", 6.4, "UAH"), ("37 к.", 0.37, "UAH"), ("70 к.", 0.7, "UAH"),
          ("73 к.", 0.73, "UAH")]),
        # «к.» before a number is a building of an address; after 120 it is no kopeck count.
        ("Москва, ул. Ленина, д. 5 к. 2, офис 3.", "ru", []),
        ("Цена 120 к. Итого", "ru", []),
        ("He paid 37 к. for it.", "en", []),
        # en049: no amount in hryvnias, but the text names the hryvnia and no rouble.
        ("So on 23-24 November rates for all types of gasoline and diesel fuel in the largest"
         " networks OKKO and WOG was increased by 50 kopecks./ The reason is the rising cost in"
         " world markets of crude oil and the depreciation of the hryvnia against the dollar.",
         "en", [("50 kopecks", 0.5, "UAH")]),
    ],
    ids=repr,
)  # fmt: skip
def test_a_kopeck_is_a_hundredth_of_the_rouble_or_hryvnia_priced_near_it(
    text: str, language: str, expected: list[tuple[str, float, str]]
) -> None:
    """A kopeck (копейка, копійка, «коп.», kopeck) is a hundredth of a rouble or of the hryvnia;
    which one, the currency the text prices in nearest it says (issue 9: «коп.» in Ukrainian
    rate reports was read as the Russian rouble's)."""
    assert _read(text, language, date(2020, 1, 1)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # en031: «cents» for kopiykas, before any hryvnia: the currency named after them.
        ("Thus, in comparison with the values of 21 may, the dollar rose by 18 cents after"
         " rising seven cents in the previous Bank denü. The Euro rose even above the"
         " psychological level of 29 hryvnia.",
         [("18 cents", 0.18, "UAH"), ("seven cents", 0.07, "UAH"), ("29 hryvnia", 29, "UAH")]),
        # en033: «10 Russian rubles» is a unit priced, not what the cents are a hundredth of;
        # «a penny» is one.
        ("1 Euro 26,69 UAH. The Euro today rose by seven cents after rising a penny on the"
         " previous banking day. The value of 10 Russian rubles has not practically changed."
         " On Tuesday, January 14, the dollar fell to eight cents in the purchase and 10 sale.",
         [("1 Euro", 1, "EUR"), ("26,69 UAH", 26.69, "UAH"), ("seven cents", 0.07, "UAH"),
          ("a penny", 0.01, "UAH"), ("10 Russian rubles", 10, "RUB"),
          ("eight cents", 0.08, "UAH")]),
        ("He did not pay a cent.", [("a cent", 0.01, "USD")]),
        ("A century ago an eccentric paid.", []),
    ],
    ids=repr,
)  # fmt: skip
def test_a_cent_is_a_hundredth_of_the_currency_priced_nearest_it(
    text: str, expected: list[tuple[str, float, str]]
) -> None:
    """A cent written alone is a hundredth of the currency the text prices in nearest it,
    before it, else after it; a round unit a rate prices counts only when nothing else does."""
    assert _read(text, "en") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # en025: a code with its one glued on is the unit priced.
        ("The exchange rate of Belarusian ruble against Russian ruble Br173.95 per RUB1.",
         [("Br173.95", 173.95, "BYR", "RUB"), ("RUB1", 1, "RUB", None)]),
        # en033: a buying and a selling price joined by a slash are two amounts.
        ("The American currency closed at the level of 23.97/24 UAH (buy/sell).",
         [("23.97", 23.97, "UAH", None), ("24 UAH", 24, "UAH", None)]),
        ("To close, the Euro was trading at the level of 26.66/26,69 UAH (buy/sell).",
         [("26.66", 26.66, "UAH", None), ("26,69 UAH", 26.69, "UAH", None)]),
    ],
    ids=repr,
)  # fmt: skip
def test_glued_code_units_and_buy_sell_pairs(
    text: str, expected: list[tuple[str, float, str, str | None]]
) -> None:
    """Two shapes of English rate reports (issue 9): «per RUB1» and «23.97/24 UAH»."""
    found = extract_money(text, language="en", published=date(2011, 5, 23))
    assert [(m.text, round(m.amount, 6), m.currency, m.per_currency) for m in found] == expected


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # de019: the lower end in digits, the upper in words, the scale and currency after.
        ("Er rechne mit einem Kredit in Höhe von 3,5 bis acht Milliarden Dollar.", "de",
         [("3,5", 3.5e9, "USD", "min"), ("acht Milliarden Dollar", 8e9, "USD", "max")]),
        ("от 2 до пяти миллионов долларов", "ru",
         [("2", 2e6, "USD", "min"), ("пяти миллионов долларов", 5e6, "USD", "max")]),
        # «и» without an opening word joins two things, not a range; a year is no lower end.
        ("в 2020 и пять долларов", "ru", [("пять долларов", 5, "USD", "exact")]),
        ("im Jahr 2020 bis zehn Dollar", "de", [("zehn Dollar", 10, "USD", "exact")]),
    ],
    ids=repr,
)  # fmt: skip
def test_a_range_from_digits_to_words(
    text: str, language: str, expected: list[tuple[str, float, str, str]]
) -> None:
    """«3,5 bis acht Milliarden Dollar» is 3.5 to 8 billion (issue 9)."""
    found = extract_money(text, language=language)
    assert [(m.text, m.amount, m.currency, m.bound) for m in found] == expected
