"""The country a document is about: from the places and organisations it names, the currencies
it writes out, its header and its language; and the enrich step's money fields built on it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsflow.local import local_stores
from services.enrich.country import (
    country_focus,
    entity_country,
    implied_institutions,
    localise_generic_names,
    without_generic_names,
)
from services.enrich.stage import enrich_document, malformed_header_span
from services.ingest.parse import parse_raw
from shared.messages import Entity, ParsedDocument
from shared.settings import Settings


def loc(entity_id: str) -> Entity:
    return Entity(text="x", start=0, end=1, type="LOC", normal="x", id=entity_id)


@pytest.mark.parametrize(
    ("entity_id", "country"),
    [
        ("BY", "BY"),
        ("RU-SA", "RU"),
        ("geonames:625144", "BY"),  # Minsk
        ("geonames:524901", "RU"),  # Moscow
        ("org:national-bank-belarus", "BY"),
        ("org:eaeu", None),
        ("loc:dalniy-vostok", None),
        ("per:lksndr-lksnk", None),
    ],
)
def test_entity_country(entity_id: str, country: str | None) -> None:
    """A country, a region, a city and a national organisation each belong to one country."""
    assert entity_country(entity_id) == country


def test_the_leading_country_is_the_focus_with_shares() -> None:
    """Three Belarusian entities against one Russian one: Belarus, with each share."""
    focus = country_focus(
        [loc("BY"), loc("geonames:625144"), loc("RU"), loc("org:belta")],
        [],
        header_currency=None,
        language="ru",
    )
    assert focus.country == "BY"
    assert [(s.code, s.share) for s in focus.countries] == [("BY", 0.75), ("RU", 0.25)]


def test_a_belarusian_language_document_is_about_belarus_unless_the_text_says_otherwise() -> None:
    """Language weighs as several mentions, not as all of them."""
    assert country_focus([], [], header_currency=None, language="be").country == "BY"
    text_says = [loc("UA")] * 6
    assert country_focus(text_says, [], header_currency=None, language="be").country == "UA"


def test_the_header_and_qualified_currencies_count() -> None:
    """A BYN header and «гривен» in the text are evidence of their countries."""
    focus = country_focus([loc("RU")], ["UAH", "UAH", "USD"], header_currency="BYN", language="ru")
    assert focus.country == "BY"
    assert {s.code for s in focus.countries} == {"BY", "UA", "RU"}


def test_no_evidence_or_a_tie_is_no_focus() -> None:
    assert country_focus([], ["USD"], header_currency=None, language="en").country is None
    tie = country_focus([loc("BY"), loc("RU")], [], header_currency=None, language="en")
    assert tie.country is None
    assert [s.share for s in tie.countries] == [0.5, 0.5]


def _parsed(raw: str) -> ParsedDocument:
    return parse_raw(
        raw.encode(),
        receipt="r-1",
        source="local",
        filename="a.txt",
        received_at=datetime(2025, 10, 12, tzinfo=UTC),
    )


def test_the_step_fills_country_rates_and_the_basis_of_each_mention() -> None:
    """The header rate is the first rate; a rate in the text follows; bare roubles take the
    header's currency when their sentence names no country."""
    doc = _parsed(
        " date 2025-10-11 3.69 BYN\nКурс доллара\n"
        "Курс составил 3,41 рубля за доллар. Стоимость проекта — 12 млн рублей."
    )
    enriched = enrich_document(doc, local_stores(), Settings(_env_file=None))
    assert enriched.country == "BY"
    assert [(r.base, r.quote, r.value) for r in enriched.rates] == [
        (None, "BYN", 3.69),
        ("USD", "BYN", 3.41),
    ]
    assert [(m.text, m.currency, m.currency_basis) for m in enriched.money] == [
        ("3,41 рубля", "BYN", "header"),
        ("12 млн рублей", "BYN", "header"),
    ]


def test_a_malformed_header_line_is_text_not_money() -> None:
    """« date 2025-13-45 3.69 BYN» stays in the body for the reader; 3.69 BYN is no amount."""
    doc = _parsed(" date 2025-13-45 3.69 BYN\nЗаголовок\nВыделено 5 млн долларов.")
    assert doc.header == "malformed"
    span = malformed_header_span(doc)
    assert span is not None
    assert doc.text[span[0] : span[1]] == "date 2025-13-45 3.69 BYN"
    enriched = enrich_document(doc, local_stores(), Settings(_env_file=None))
    assert [(m.amount, m.currency) for m in enriched.money] == [(5e6, "USD")]
    assert enriched.rates == []
    # Nor does its «BYN» make the document's bare roubles Belarusian.
    doc = _parsed(" date 2025-13-45 3.69 BYN\nЗаголовок\nВыделено 5 млн рублей.")
    enriched = enrich_document(doc, local_stores(), Settings(_env_file=None))
    assert [(m.currency, m.currency_basis) for m in enriched.money] == [("RUB", "default")]


def test_a_country_in_the_headline_counts_twice() -> None:
    """«Belarus introduces new currency» says what the article is about, whatever the body
    names as often."""
    title = Entity(text="Belarus", start=0, end=7, type="LOC", normal="Belarus", id="BY")
    body = Entity(text="Russia", start=40, end=46, type="LOC", normal="Russia", id="RU")
    focus = country_focus([title, body], [], header_currency=None, language="en", title_end=32)
    assert focus.country == "BY"
    assert country_focus([title, body], [], header_currency=None, language="en").country is None


def test_a_small_town_says_nothing_about_the_country() -> None:
    """Town names are common words («Seven new paper currencies» names a Russian town)."""
    assert entity_country("geonames:465543") is None


def bank(name: str, entity_id: str = "org:national-bank-belarus") -> Entity:
    return Entity(text=name, start=0, end=len(name), type="ORG", normal=name, id=entity_id)


def test_a_generic_name_follows_the_country_the_rest_of_the_document_names() -> None:
    """«The National Bank» is linked to Belarus's by the gazetteer; in a document about
    Ukraine it is Ukraine's, in one about Kazakhstan Kazakhstan's."""
    found = [bank("National Bank"), loc("UA")]
    told = country_focus(without_generic_names(found), [], header_currency=None, language="en")
    assert told.country == "UA"
    assert [e.id for e in localise_generic_names(found, told.country)] == [
        "org:national-bank-ukraine",
        "UA",
    ]
    assert localise_generic_names([bank("Нацбанк")], "KZ")[0].id == "org:national-bank-kazakhstan"


@pytest.mark.parametrize("country", [None, "BY", "DE"])
def test_a_generic_name_keeps_its_link_without_another_country_that_has_one(
    country: str | None,
) -> None:
    """No country told, Belarus itself, or a country with no such institution in the data: the
    gazetteer's link stands."""
    assert localise_generic_names([bank("Nationalbank")], country)[0].id == (
        "org:national-bank-belarus"
    )


def test_a_full_name_is_never_moved() -> None:
    """«National Bank of Belarus» names its country: it stays in a document about Ukraine, and
    the NBU's own name is not a generic one."""
    found = [bank("National Bank of Belarus"), bank("NBU", "org:national-bank-ukraine")]
    assert [e.id for e in localise_generic_names(found, "UA")] == [
        "org:national-bank-belarus",
        "org:national-bank-ukraine",
    ]
    assert [e.id for e in localise_generic_names(found, "BY")] == [
        "org:national-bank-belarus",
        "org:national-bank-ukraine",
    ]


@pytest.mark.parametrize(
    ("text", "country", "sap"),
    [
        (
            "Zelensky signs law on NABU and SAP\nUkraine's parliament restored the independence "
            "of NABU and SAP on Thursday, Zelensky said in Kyiv.",
            "UA",
            "org:specialized-anti-corruption-prosecutor-ukraine",
        ),
        (
            "SAP reports profits\nSAP, the German software company, reported higher profits in "
            "Walldorf, Germany.",
            "DE",
            "org:sap",
        ),
    ],
)
def test_a_bare_sap_is_the_prosecutor_in_a_report_on_ukraine_else_the_company(
    text: str, country: str, sap: str
) -> None:
    """Country version 4: the gazetteer links «SAP» to the software company, no country's
    institution (``default``); beside NABU in a report on Ukraine it is the anti-corruption
    prosecutor's office."""
    enriched = enrich_document(_parsed(text), local_stores(), Settings(_env_file=None))
    assert enriched.country == country
    assert {e.id for e in enriched.entities if e.normal == "SAP"} == {sap}


def test_the_step_links_the_national_bank_of_a_ukrainian_story_to_ukraine() -> None:
    """Through the enrich step: an English report on the hryvnia names Ukraine and its capital,
    and its «National Bank» is then the NBU, which also counts for Ukraine."""
    doc = _parsed(
        "Ukraine devalues the hryvnia\n"
        "Ukraine's central bank has devalued the hryvnia by 25 percent, the National Bank said "
        "in Kyiv on Thursday."
    )
    enriched = enrich_document(doc, local_stores(), Settings(_env_file=None))
    assert enriched.country == "UA"
    banks = [e.id for e in enriched.entities if e.normal == "National Bank"]
    assert banks == ["org:national-bank-ukraine"]


@pytest.mark.parametrize(
    ("text", "country", "commission"),
    [
        (
            "Выборы в Госдуму\nЦИК России подвел итоги выборов в Москве. По данным ЦИК, явка "
            "в Москве и Санкт-Петербурге составила 50 процентов.",
            "RU",
            "org:central-election-commission-russia",
        ),
        (
            "Вибори в Україні\nЦентральна виборча комісія оголосила результати виборів у Києві. "
            "ЦВК повідомила, що в Україні та Києві явка склала 50 відсотків.",
            "UA",
            "org:central-election-commission-ukraine",
        ),
        (
            "Belarus election\nThe Central Election Commission said in Minsk that Lukashenko "
            "had won in Belarus.",
            "BY",
            "org:central-election-commission-belarus",
        ),
    ],
)
def test_a_bare_election_commission_is_the_one_of_the_documents_country(
    text: str, country: str, commission: str
) -> None:
    """«ЦИК» or «the Central Election Commission» alone is Belarus's in Belarusian news and
    another country's in a report of that country's election (entities version 9)."""
    enriched = enrich_document(_parsed(text), local_stores(), Settings(_env_file=None))
    assert enriched.country == country
    bare = {"ЦИК", "Центральна виборча комісія", "ЦВК", "Central Election Commission"}
    linked = {e.id for e in enriched.entities if e.normal in bare}
    assert linked == {commission}


@pytest.mark.parametrize(
    ("text", "country", "implied"),
    [
        ("Die Notenbank senkte den Leitzins.", "UA", ["org:national-bank-ukraine"]),
        ("Der Zentralbankchef sagte, der Kurs bleibe.", "BY", ["org:national-bank-belarus"]),
        ("Ukraine's central bank devalued the hryvnia.", "UA", ["org:national-bank-ukraine"]),
        ("Die Europäische Zentralbank hob den Zins an.", "UA", []),
        ("Die russische Zentralbank hob den Zins an.", "BY", []),
        ("The European Central Bank raised rates.", "BY", []),
        ("Die Notenbank senkte den Leitzins.", "RU", []),  # no Russian bank in the data
        ("Die Notenbank senkte den Leitzins.", None, []),
        ("Центробанк снизил ставку.", "BY", []),  # in this news it is Russia's
    ],
)
def test_a_central_bank_named_by_a_common_noun_is_the_documents_countrys(
    text: str, country: str | None, implied: list[str]
) -> None:
    """«Die Notenbank» in a report about Ukraine is the National Bank of Ukraine, as «НБУ» is in
    another report of the same devaluation: no entity, but the story step compares it."""
    assert implied_institutions(text, country) == implied
