"""Currency rates read off the text («4930 руб. за $1», «1 доллар США = 3,1720 рубля», rate
tables) and the header line's rate, each with the sentence it came from."""

from __future__ import annotations

from datetime import date

import pytest

from services.enrich.money import (
    RoubleContext,
    find_rates,
    header_rate,
    local_currency,
    read_money,
    resolve_money,
)
from shared.messages import CurrencyRate, HeaderRate


def rates(
    text: str, language: str = "ru", *, published: date | None = None, local: str | None = None
) -> list[tuple[str | None, str, float, str]]:
    reading = read_money(text, language=language)
    mentions = resolve_money(reading, RoubleContext(published=published, country="BY"))
    found = find_rates(reading, mentions, local=local)
    for rate in found:
        assert rate.start is not None
        assert text[rate.start : rate.end] == rate.text
    return [(rate.base, rate.quote, rate.value, rate.text) for rate in found]


@pytest.mark.parametrize(
    ("text", "language", "published", "expected"),
    [
        (
            "На черном рынке давали 4930 руб. за $1.", "ru", date(2011, 5, 20),
            ("USD", "BYR", 4930, "4930 руб. за $1"),
        ),
        (
            "Официальный курс — 1 доллар США = 3,1720 рубля.", "ru", date(2025, 1, 5),
            ("USD", "BYN", 3.172, "1 доллар США = 3,1720 рубля"),
        ),
        (
            "Нацбанк установил курс 3,41 рубля за доллар.", "ru", date(2025, 2, 1),
            ("USD", "BYN", 3.41, "3,41 рубля за доллар"),
        ),
        (
            "Der Schwarzmarktkurs lag bei 8.600 Rubel pro Dollar.", "de", date(2011, 9, 1),
            ("USD", "BYR", 8600, "8.600 Rubel pro Dollar"),
        ),
        (
            "The rouble fell to 4,930 roubles to the dollar.", "en", date(2011, 5, 24),
            ("USD", "BYR", 4930, "4,930 roubles to the dollar"),
        ),
        (
            "Сьогодні 1 долар — 41,5 гривні.", "uk", date(2025, 3, 1),
            ("USD", "UAH", 41.5, "1 долар — 41,5 гривні"),
        ),
        (
            "Курс составил 3,41 рубля за 100 российских рублей.", "ru", date(2025, 3, 1),
            ("RUB", "BYN", 0.0341, "3,41 рубля за 100 российских рублей"),
        ),
        (
            "Официальный курс: 1 доллар США равен 3,1720 рубля.", "ru", date(2025, 1, 5),
            ("USD", "BYN", 3.172, "1 доллар США равен 3,1720 рубля"),
        ),
        (
            "Сегодня один доллар по официальному курсу стоит 4 тыс. 930 белорусских рублей.",
            "ru", date(2011, 5, 24),
            (
                "USD", "BYR", 4930,
                "один доллар по официальному курсу стоит 4 тыс. 930 белорусских рублей",
            ),
        ),
        (
            "Курс на бирже — 3 155 Br/USD.", "ru", date(2011, 5, 24),
            ("USD", "BYR", 3155, "3 155 Br/USD"),
        ),
        (
            "Im Umlauf waren 8.600 Rubel für einen Dollar.", "de", date(2011, 9, 1),
            ("USD", "BYR", 8600, "8.600 Rubel für einen Dollar"),
        ),
        (
            "На рынке давали 174 «зайчика» за рубль.", "ru", date(2000, 3, 1),
            ("RUB", "BYR", 174, "174 «зайчика» за рубль"),
        ),
    ],
    ids=repr,
)  # fmt: skip
def test_a_rate_in_the_text(
    text: str,
    language: str,
    published: date,
    expected: tuple[str, str, float, str],
) -> None:
    """Each way news quotes a rate gives one rate: the base, the quote and one base's price."""
    assert rates(text, language, published=published) == [expected]


def test_rows_of_a_rate_report_name_the_currency_then_its_price() -> None:
    """Belarusian rate reports list «Долар ЗША — 3.005 беларускіх рублёў» line by line."""
    text = (
        "Нацбанк устанавіў курсы на 24 мая:\nДолар ЗША — 3.005 беларускіх рублёў;\n"
        "Расійскі рубель — 98,19 беларускага рубля."
    )
    assert rates(text, "be", published=date(2011, 5, 24)) == [
        ("USD", "BYR", 3005, "Долар ЗША — 3.005 беларускіх рублёў"),
        ("RUB", "BYR", 98.19, "Расійскі рубель — 98,19 беларускага рубля"),
    ]
    assert rates("Итог — 5 млн долларов.") == []  # a word that names no currency


def test_a_rate_table_is_quoted_in_the_local_currency() -> None:
    """«USD 3,2456 / EUR 3,5142» never writes the currency it is in: the caller's local one."""
    text = "Курсы на 5 марта: USD 3,2456 / EUR 3,5142; RUB 3,6010."
    assert rates(text, local="BYN") == [
        ("USD", "BYN", 3.2456, "USD 3,2456"),
        ("EUR", "BYN", 3.5142, "EUR 3,5142"),
        ("RUB", "BYN", 3.601, "RUB 3,6010"),
    ]
    assert rates(text, local=None) == []  # unknown local currency: no guess


def test_one_code_and_number_is_an_amount_not_a_table() -> None:
    """«USD 3,25» alone is money, not a rate."""
    assert rates("Билет стоит USD 3,25.", local="BYN") == []


def test_amounts_side_by_side_are_no_rate() -> None:
    """Two amounts joined by «и», a comma or a long stretch of text are two amounts."""
    assert rates("Выделено 1 млн долларов и 3 млн рублей; 100 евро, 5 рублей.") == []
    assert rates("Он потратил 1 доллар и купил хлеб за 3 рубля.") == []
    far = "1 доллар США, как сообщили в министерстве финансов республики вчера, стоит 3 рубля."
    assert rates(far) == []


def test_the_header_rate_keeps_its_base_unknown() -> None:
    """The header line says «3.69 BYN», never of what: the base stays null."""
    assert header_rate(HeaderRate(value=3.69, currency="BYN")) == CurrencyRate(
        base=None, quote="BYN", value=3.69, text="3.69 BYN", start=None, end=None
    )


@pytest.mark.parametrize(
    ("country", "published", "currency"),
    [("BY", date(2015, 1, 1), "BYR"), ("BY", None, "BYN"), ("UA", None, "UAH"), ("DE", None, None)],
)
def test_local_currency(country: str, published: date | None, currency: str | None) -> None:
    assert local_currency(country, published) == currency


@pytest.mark.parametrize(
    ("text", "language", "published", "local", "expected"),
    [
        # uk031: the currency the sentence is about, then a verb of worth before its price.
        ("В обмінних пунктах долар також подорожчав на 10 копійок і тепер коштує 42,30"
         " гривень.", "uk", date(2025, 1, 28), None,
         [("USD", "UAH", 42.3,
           "долар також подорожчав на 10 копійок і тепер коштує 42,30 гривень")]),
        # ru015: a word of level or «курс» before the price.
        ("Евро подорожал на 1,1%, текущий курс 2,38 рубля. Доллар прибавил 0,82% и торгуется"
         " на уровне 2,45 рубля.", "ru", date(2021, 1, 5), None,
         [("EUR", "BYN", 2.38, "Евро подорожал на 1,1%, текущий курс 2,38 рубля"),
          ("USD", "BYN", 2.45, "Доллар прибавил 0,82% и торгуется на уровне 2,45 рубля")]),
        # de005: German rates told with verbs.
        ("Ein US-Dollar wurde heute mit 8.680 Rubel gehandelt, ein Euro hatte einen Gegenwert"
         " von 11.900 Rubel. Der russische Rubel wurde mit 277 Belarus-Rubeln gehandelt. Am"
         " Vortag wurden für den Dollar nur 5.712 Belarus-Rubel bezahlt.", "de",
         date(2011, 10, 20), None,
         [("USD", "BYR", 8680, "Ein US-Dollar wurde heute mit 8.680 Rubel"),
          ("EUR", "BYR", 11900, "ein Euro hatte einen Gegenwert von 11.900 Rubel"),
          ("RUB", "BYR", 277, "russische Rubel wurde mit 277 Belarus-Rubeln"),
          ("USD", "BYR", 5712, "Dollar nur 5.712 Belarus-Rubel")]),
        # The price's own currency named before it, even as the other era's rouble, is no unit.
        ("Курс доллара к белорусскому рублю составит 4930 рублей.", "ru", date(2011, 5, 23),
         None, [("USD", "BYR", 4930, "доллара к белорусскому рублю составит 4930 рублей")]),
        # en001: «amount to» before the price; the pair named in a compound.
        ("Hence, the ruble-to-dollar rate would amount to Br4.930.", "en", date(2011, 5, 23),
         None, [("USD", "BYR", 4930, "dollar rate would amount to Br4.930")]),
        # en035: «quoted at», «sold for», «were at»; a range with its code before it, priced
        # per the unit after it.
        ("US$100 will be quoted at UAH 2,762.73. On average, the U.S. dollar is sold for"
         " UAH 27.55.", "en", date(2021, 5, 14), None,
         [("USD", "UAH", 27.6273, "US$100 will be quoted at UAH 2,762.73"),
          ("USD", "UAH", 27.55, "dollar is sold for UAH 27.55")]),
        ("Quotations settled at UAH 27.54/27.73 to the dollar, while those against the euro"
         " were at UAH 33.20/33.60.", "en", date(2021, 5, 14), None,
         [("USD", "UAH", 27.54, "UAH 27.54/27.73 to the dollar"),
          ("USD", "UAH", 27.73, "27.73 to the dollar"),
          ("EUR", "UAH", 33.2, "euro were at UAH 33.20"),
          ("EUR", "UAH", 33.6, "euro were at UAH 33.20")]),
        # ru015: «за 100 российских рублей нужно заплатить …».
        ("За 100 российских рублей нужно заплатить 4,26 белорусских рубля.", "ru",
         date(2021, 1, 5), None,
         [("RUB", "BYN", 0.0426,
           "100 российских рублей нужно заплатить 4,26 белорусских рубля")]),
        # uk021: a rate list whose prices carry no currency, in the local one.
        ("Курси валют на 23.05.2018:\n100 доларів США – 2607.1164\n10 російських рублів –"
         " 4.2558\n", "uk", date(2018, 5, 22), "UAH",
         [("USD", "UAH", 26.071164, "100 доларів США – 2607.1164"),
          ("RUB", "UAH", 0.42558, "10 російських рублів – 4.2558")]),
        # be003: the same with a currency's name; a basket is no currency.
        ("Еўра — 3.813,95\n\nУкраінская грыўна — 380,86\n\nКошык валют — 1.040,15\n", "be",
         date(2015, 8, 24), "BYR",
         [("EUR", "BYR", 3813.95, "Еўра — 3.813,95"),
          ("UAH", "BYR", 380.86, "Украінская грыўна — 380,86")]),
        # uk021, uk027, en033: a sign or word after a slash; a range's two ends; buy/sell.
        ("курс гривні до американського долара на рівні 26,07 грн/$. Курс долара знизився до"
         " 8,45-8,55 грн/дол.", "uk", date(2018, 5, 22), None,
         [("USD", "UAH", 26.07, "26,07 грн/$"),
          ("USD", "UAH", 8.45, "8,45-8,55 грн/дол."),
          ("USD", "UAH", 8.55, "8,55 грн/дол.")]),
        # de001: a word of time after the verb of worth.
        ("Für einen Euro sind nun 12.100 Rubel zu zahlen.", "de", date(2011, 10, 20), None,
         [("EUR", "BYR", 12100, "einen Euro sind nun 12.100 Rubel")]),
        # en033: English «of» alone between the unit and its price.
        ("On Wednesday, January 15, the national Bank of Ukraine (NBU) has calculated the"
         " official rate of hryvnia against major foreign currencies: 1 US dollar of 24.03 UAH;",
         "en", date(2020, 1, 15), None,
         [("USD", "UAH", 24.03, "1 US dollar of 24.03 UAH")]),
        # uk027: a bare number priced per a numbered unit, after a word of level: local money.
        ("Відзначимо, на 7 лютого НБУ встановив курс гривні по відношенню до долара на рівні"
         " 8,7 за 1 долар.", "uk", date(2014, 2, 7), "UAH",
         [("USD", "UAH", 8.7, "8,7 за 1 долар")]),
        ("Курс составил 2,45 за 100 российских рублей.", "ru", date(2020, 1, 1), "BYN",
         [("RUB", "BYN", 0.0245, "2,45 за 100 российских рублей")]),
        ("To close, the Euro was trading at the level of 26.66/26,69 UAH (buy/sell).", "en",
         date(2020, 1, 16), None,
         [("EUR", "UAH", 26.66, "Euro was trading at the level of 26.66"),
          ("EUR", "UAH", 26.69, "Euro was trading at the level of 26.66")]),
    ],
    ids=repr,
)  # fmt: skip
def test_rates_told_with_verbs_lists_and_slashes(
    text: str,
    language: str,
    published: date,
    local: str | None,
    expected: list[tuple[str, str, float, str]],
) -> None:
    """Rates written with verbs and in lists (issue 9): each read with its sentence."""
    got = rates(text, language, published=published, local=local)
    assert [(b, q, round(v, 8), t) for b, q, v, t in got] == expected


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Товарооборот с Россией в долларах составил 20 рублей.", "ru"),
        ("Бюджет составил 2,45 млрд рублей, а в долларах — меньше.", "ru"),
        ("On Tuesday the dollar fell to eight cents in the purchase, to 24 UAH.", "en"),
        ("Die EU unterstützt das Land mit 5 Milliarden Euro.", "de"),
        ("Курси валют:\n2015 – 2016\n", "uk"),
        # No word of level before the bare number: a count, not a price.
        ("Він купив 5 за 1 долар.", "uk"),
    ],
    ids=repr,
)
def test_no_rate_without_a_currency_it_is_the_price_of(text: str, language: str) -> None:
    """A currency an amount is counted in («в долларах»), a change told in cents, or a row with
    no currency at its head is no rate."""
    assert rates(text, language, published=date(2020, 1, 1), local="UAH") == []


@pytest.mark.parametrize(
    ("text", "language", "published", "local", "expected"),
    [
        (
            "The bank said that the new official rate for the currency is 36.5686 to the U.S. "
            "dollar.",
            "en",
            date(2022, 7, 21),
            "UAH",
            [("USD", "UAH", 36.5686, "36.5686 to the U.S. dollar")],
        ),
        (
            "Belarus planned the budget on the rate of the Russian rouble of 63/$.",
            "en",
            date(2016, 2, 10),
            "BYR",
            [("USD", "RUB", 63.0, "63/$")],
        ),
        (
            "The average annual rate of the Belarus rouble might fall to 22.719/$.",
            "en",
            date(2016, 2, 10),
            "BYR",
            [("USD", "BYR", 22719.0, "22.719/$")],
        ),
        (
            "Нацбанк установил официальный курс на уровне 4 930 за доллар.",
            "ru",
            date(2011, 5, 24),
            "BYR",
            [("USD", "BYR", 4930.0, "4 930 за доллар")],
        ),
    ],
)
def test_a_bare_number_priced_per_a_currency_after_a_word_of_rate(
    text: str,
    language: str,
    published: date,
    local: str,
    expected: list[tuple[str, str, float, str]],
) -> None:
    """A number without a currency of its own, priced per another currency, in a sentence about
    a rate: the currency the sentence names before it, else the article's own (``local``)."""
    assert rates(text, language, published=published, local=local) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The team won 3 to 1 in Minsk, and fans paid 20 a dollar for a scarf.",
        "В 2011 году за доллар давали больше.",
        "Курс вырос на 5 % за доллар.",
    ],
)
def test_a_bare_number_before_a_currency_without_a_rate_is_no_rate(text: str) -> None:
    """No word of rate before the number, a year, a percentage: nothing is read as a rate."""
    language = "en" if text.isascii() else "ru"
    assert rates(text, language, local="BYN") == []
