"""Whose rouble a bare «рублей» is: each step of the rule (explicit qualifier, a country in the
clause or sentence, a qualified rouble elsewhere, the header, the country focus, the default),
each with the sentence it came from, and the date that makes a Belarusian rouble BYR or BYN."""

from __future__ import annotations

import re
from datetime import date

import pytest

from services.enrich.money import Place, RoubleContext, extract_money
from shared.messages import MoneyMention

RUSSIA = re.compile(r"Росси[ияюей]|Расі[іяю]|Russland|Russia")
BELARUS = re.compile(r"Беларус[ьи]|Белоруссии|Минск[е]?|Belarus|Minsk")


def places(text: str) -> list[Place]:
    """The countries a text names, as the entity step would give them (by offset)."""
    found = [Place(m.start(), "RU") for m in RUSSIA.finditer(text)]
    found += [Place(m.start(), "BY") for m in BELARUS.finditer(text)]
    return sorted(found, key=lambda place: place.start)


def mentions(
    text: str,
    language: str = "ru",
    *,
    published: date | None = date(2025, 10, 1),
    header: str | None = None,
    country: str | None = None,
) -> list[MoneyMention]:
    context = RoubleContext(
        published=published, places=places(text), header_currency=header, country=country
    )
    return extract_money(text, language=language, context=context)


def rouble(
    text: str,
    language: str = "ru",
    *,
    published: date | None = date(2025, 10, 1),
    header: str | None = None,
    country: str | None = None,
) -> MoneyMention:
    """The one mention of ``text`` written as a rouble, the one the rule decides."""
    found = [
        mention
        for mention in mentions(text, language, published=published, header=header, country=country)
        if mention.currency in {"RUB", "BYN", "BYR"}
    ]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("text", "language", "currency"),
    [
        ("Зарплата составила 2000 белорусских рублей.", "ru", "BYN"),
        ("Цена — 15 бел. руб. за килограмм.", "ru", "BYN"),
        ("Кошт — 15 беларускіх рублёў.", "be", "BYN"),
        ("Der Preis liegt bei 100 Belarus-Rubeln.", "de", "BYN"),
        ("It cost Br4.930 in May.", "en", "BYN"),
        ("В Москве это стоит 300 российских рублей.", "ru", "RUB"),
        ("Бюджет — 5 млн рос. руб.", "ru", "RUB"),
        ("Кошт — 5 расійскіх рублёў.", "be", "RUB"),
        ("The ticket costs 500 Russian roubles.", "en", "RUB"),
    ],
    ids=repr,
)
def test_step_1_a_qualifier_on_the_mention_decides(text: str, language: str, currency: str) -> None:
    """The mention says whose rouble it is; nothing around it can overrule that, not even a
    header or a focus that says the other country."""
    other = "RUB" if currency == "BYN" else "BYN"
    found = rouble(text, language, header=other, country="RU" if other == "RUB" else "BY")
    assert (found.currency, found.currency_basis) == (currency, "explicit")


def test_step_2_a_country_in_the_clause_decides_seed_004() -> None:
    """Seed 004 is about Belarus, but its trillion roubles are Russia's: «России, где …»."""
    text = (
        "Поэтому Минск с интересом смотрит и готов перенимать опыт других стран, в том числе "
        "России, где процессы цифровизации экономики выведены на уровень национальной программы "
        "с финансированием до 2024 года в 1,6 триллиона рублей."
    )
    found = rouble(text, header="BYN", country="BY")
    assert (found.amount, found.currency, found.currency_basis) == (1.6e12, "RUB", "document")
    assert found.currency_note == "Russia is named before the clause about it"


def test_step_2_the_sentence_before_speaks_when_the_sentence_names_none_seed_003() -> None:
    """Seed 003: Yakutia's «120 млрд рублей» follow a sentence calling it a region of Russia."""
    text = (
        "Напомним, Якутия — один из самых цифровых регионов России и признанный лидер в сфере "
        "креативных индустрий. К 2030 году численность занятых в этом секторе экономики должна "
        "увеличиться в регионе до 70 тысяч человек, а добавленная стоимость индустрий вырасти "
        "до 120 млрд рублей."
    )
    found = rouble(text, country="BY")
    assert (found.amount, found.currency, found.currency_basis) == (120e9, "RUB", "document")
    assert found.currency_note == "Russia is named in the sentence before"


def test_step_2_a_belarusian_place_in_the_sentence_makes_belarusian_roubles() -> None:
    """«в Минске … рублей» in a Russian-language text with no header is BYN."""
    found = rouble("Средняя зарплата в Минске в сентябре составила 2964 рубля.")
    assert (found.currency, found.currency_basis) == ("BYN", "document")
    assert found.currency_note == "Belarus is named in its clause"


def test_step_2_a_sentence_naming_both_countries_leaves_it_to_later_steps() -> None:
    """«Товарооборот Беларуси и России … рублей» does not say whose roubles: the header does."""
    found = rouble(
        "Товарооборот Беларуси и России составил 50 млрд рублей.", header="BYN", country="RU"
    )
    assert (found.currency, found.currency_basis) == ("BYN", "header")


def test_step_3_one_qualified_rouble_makes_the_bare_ones_belarusian() -> None:
    """A qualified rouble elsewhere in the document tells what its bare ones are."""
    text = (
        "Нацбанк снизил ставку. Средняя пенсия выросла до 900 белорусских рублей.\n"
        "Минимальная зарплата составит 726 рублей."
    )
    found = mentions(text, country="RU")
    assert [(m.amount, m.currency, m.currency_basis) for m in found] == [
        (900, "BYN", "explicit"),
        (726, "BYN", "document"),
    ]
    assert found[1].currency_note == "a Belarusian rouble is written out elsewhere in the document"


def test_step_3_a_rouble_unit_priced_does_not_make_the_bare_ones_its_own() -> None:
    """«За 100 российских рублей … 4,26 белорусских рубля»: the round unit is the foreign rouble
    being priced; the document's own roubles are the prices, and the bare ones are those."""
    text = (
        "Евро подорожал на 1,1%, текущий курс 2,38 рубля.\n"
        "За 100 российских рублей нужно заплатить 4,26 белорусских рубля."
    )
    found = mentions(text, country="RU")
    assert [(m.amount, m.currency, m.currency_basis) for m in found] == [
        (2.38, "BYN", "document"),
        (100, "RUB", "explicit"),
        (4.26, "BYN", "explicit"),
    ]


def test_step_3_an_elliptic_russian_rouble_after_a_rate() -> None:
    """«… за 100 российских» is RUB, and the price of it is the other rouble (BYN)."""
    found = mentions("Курс составил 3,41 рубля за 100 российских.")
    assert [(m.text, m.amount, m.currency) for m in found] == [
        ("3,41 рубля", 3.41, "BYN"),
        ("100 российских", 100, "RUB"),
    ]


@pytest.mark.parametrize(
    ("header", "published", "currency"),
    [("BYN", date(2025, 10, 11), "BYN"), ("BYR", date(2014, 3, 1), "BYR"), ("RUB", None, "RUB")],
)
def test_step_4_the_header_currency(header: str, published: date | None, currency: str) -> None:
    """A source that quotes its rate in BYN is Belarusian; its bare roubles are too."""
    found = rouble(
        "Стоимость проекта — 12 млн рублей.", header=header, published=published, country="RU"
    )
    assert (found.currency, found.currency_basis) == (currency, "header")
    assert found.currency_note == f"the header line's rate is in {header}"


@pytest.mark.parametrize(("country", "currency"), [("BY", "BYN"), ("RU", "RUB")])
def test_step_5_the_country_focus(country: str, currency: str) -> None:
    """With nothing nearer, the document's country decides."""
    found = rouble("Стоимость проекта — 12 млн рублей.", country=country)
    assert (found.currency, found.currency_basis) == (currency, "country")


def test_step_6_nothing_says_so_it_is_russian() -> None:
    """No place, no qualifier, no header, no focus: the Russian rouble, said to be a default."""
    found = rouble("Стоимость проекта — 12 млн рублей.")
    assert (found.currency, found.currency_basis) == ("RUB", "default")
    assert found.currency_note == "nothing in the document says whose rouble"


@pytest.mark.parametrize(
    ("published", "currency", "note"),
    [
        (date(2016, 6, 30), "BYR", None),
        (date(2016, 7, 1), "BYN", None),
        (None, "BYN", "no published date: read as the post-2016 BYN"),
    ],
)
def test_a_belarusian_rouble_is_byr_or_byn_by_the_date(
    published: date | None, currency: str, note: str | None
) -> None:
    """10 000 old roubles became one on 2016-07-01; with no date BYN is a guess, and said so."""
    found = rouble("Проезд подорожал до 8500 зайчиков.", published=published)
    assert (found.currency, found.currency_basis) == (currency, "explicit")
    assert found.currency_note == note
    by_focus = rouble("Проезд подорожал до 85 рублей.", published=published, country="BY")
    assert by_focus.currency == currency
    assert (by_focus.currency_note or "").endswith(note or "the document is about Belarus")
