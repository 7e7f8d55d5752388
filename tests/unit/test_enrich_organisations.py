"""Organisations: the curated knowledge file, its generated case forms, the patterns for
organisations the file does not know, and the precision filters outside Russian (common words
are not places, capitalised noun phrases are not persons)."""

from __future__ import annotations

import tomllib
from collections import defaultdict
from importlib import resources

import pytest

from services.enrich.entities import extract_entities, load_models
from services.enrich.entities.keys import fold
from services.enrich.entities.org_forms import FORMS_FILE, _organisations, generate, render

LANGUAGES = ("ru", "be", "uk", "de", "en")


def ids_of(text: str, language: str) -> dict[str, str]:
    return {e.text: e.id for e in extract_entities(text, language=language)}


@pytest.fixture(scope="module", autouse=True)
def _models() -> None:
    load_models()


# ---- the knowledge file ------------------------------------------------------------------------


def test_the_knowledge_file_names_at_least_300_organisations_in_every_language() -> None:
    """The issue asks for 300; each must be findable in every language we read."""
    organisations = _organisations()
    assert len(organisations) >= 300
    for key, table in organisations.items():
        assert all(table.get(lang) for lang in LANGUAGES), key


def test_no_name_belongs_to_two_organisations() -> None:
    """The gazetteer has one index for every language: a shared name would link one of the two
    organisations to the other's id wherever it is written."""
    owners: dict[str, set[str]] = defaultdict(set)
    for key, table in _organisations().items():
        for lang in LANGUAGES:
            for name in table.get(lang, []):
                owners[fold(name)].add(key)
    assert {name: keys for name, keys in owners.items() if len(keys) > 1} == {}


def test_the_generated_case_forms_are_up_to_date() -> None:
    """organisation_forms.toml is generated from organisations.toml; an edit of the names
    without regenerating would leave new names without their forms."""
    stored = resources.files("services.enrich").joinpath("data", FORMS_FILE).read_text("utf-8")
    assert stored == render(generate(_organisations()))
    assert tomllib.loads(stored)


@pytest.mark.parametrize(
    ("language", "text", "surface", "key", "normal"),
    [
        # pymorphy3: an unknown compound declines like the known noun it ends with («калий»).
        ("ru", "Экспорт Беларуськалия вырос.", "Беларуськалия", "belaruskali", "Беларуськалий"),
        # pymorphy3 reads «МАЗ» as a word, so it declines; the capitals are kept.
        ("ru", "Контракт подписан с МАЗом.", "МАЗом", "maz", "МАЗ"),
        ("ru", "Поставки БелАЗу выросли.", "БелАЗу", "belaz", "БелАЗ"),
        ("uk", "Акції Білоруськалію подешевшали.", "Білоруськалію", "belaruskali", "Білоруськалій"),
        ("uk", "Угоду з МАЗом підписано.", "МАЗом", "maz", "МАЗ"),
        # Belarusian rules: -скі adjectives.
        ("be", "Супрацоўнікі Мінскага аўтамабільнага завода.", "Мінскага аўтамабільнага завода",
         "maz", "Мінскі аўтамабільны завод"),
        # German rules: a strong adjective takes its weak ending after the article.
        ("de", "Die Prognose des Internationalen Währungsfonds.", "Internationalen Währungsfonds",
         "imf", "Internationaler Währungsfonds"),
    ],
)  # fmt: skip
def test_generated_case_forms_link_to_the_organisation(
    language: str, text: str, surface: str, key: str, normal: str
) -> None:
    """Case forms the declension classes miss are found through the generated file, with the
    nominative as the normal form."""
    found = {e.text: e for e in extract_entities(text, language=language)}
    assert (found[surface].id, found[surface].normal) == (f"org:{key}", normal)


@pytest.mark.parametrize(
    ("language", "text", "surface", "key"),
    [
        ("de", "Minsk (dpa) - Die Regierung hat entschieden.", "dpa", "dpa"),
        ("de", "Bern (sda) - Die Regierung hat entschieden.", "sda", "sda"),
        ("en", "The National Bank of Ukraine cut its rate, Reuters said.", "Reuters", "reuters"),
        ("ru", "Об этом сообщает агентство Интерфакс-Запад.", "Интерфакс-Запад", "interfax-west"),
        ("be", "Пра гэта паведамляе БелТА.", "БелТА", "belta"),
        ("uk", "Національний банк України знизив ставку.", "Національний банк України",
         "national-bank-ukraine"),
        ("de", "Die Deutsche Bundesbank warnt.", "Deutsche Bundesbank", "bundesbank"),
        ("en", "Gomselmash and Belshina exported more.", "Belshina", "belshina"),
        ("ru", "МВФ и ЕБРР выделили кредит.", "ЕБРР", "ebrd"),
        ("be", "Эксперты Еўразійскага банка развіцця.", "Еўразійскага банка развіцця",
         "eurasian-development-bank"),
    ],
)  # fmt: skip
def test_curated_organisations_link_in_every_language(
    language: str, text: str, surface: str, key: str
) -> None:
    assert ids_of(text, language)[surface] == f"org:{key}"


def test_lower_case_agency_names_match_only_as_written() -> None:
    """German agencies sign «(dpa)»; «Dpa» or «DPA» in German text would be another word, and
    the lower-case exception must not let every lower-case word through."""
    assert "org:dpa" not in ids_of("Die Dpa-Regel gilt.", "de").values()
    assert ids_of("Minsk (dpa) - Die Regierung.", "de")["dpa"] == "org:dpa"


# ---- precision: common words are not places, noun phrases are not persons -----------------------


@pytest.mark.parametrize(
    ("language", "text", "word"),
    [
        # Waren (Müritz), 21,000 people; «Waren» are goods.
        ("de", "Die Waren kosten mehr als im Vorjahr.", "Waren"),
        # Berlin-Mitte, 102,000; «in der Mitte des Jahres».
        ("de", "In der Mitte des Jahres stieg die Inflation.", "Mitte"),
        # An old name of Chur; «der Kurs des Rubels».
        ("de", "Der Kurs des Rubels fiel erneut.", "Kurs"),
        # Bau, Malaysia; «der Bau des Werkes».
        ("de", "Der Bau des Werkes beginnt im Herbst.", "Bau"),
        # Onex, Switzerland, is also «One»; a sentence start.
        ("en", "One of the largest exporters is Belaruskali.", "One"),
        # Mai, Kenya: a month is never a place.
        ("de", "Im Mai stieg der Kurs.", "Mai"),
        ("en", "The rate rose in May.", "May"),
    ],
)
def test_a_common_word_or_a_month_is_not_a_place(language: str, text: str, word: str) -> None:
    found = {e.text: e for e in extract_entities(text, language=language)}
    assert word not in found


@pytest.mark.parametrize(
    ("language", "text", "surface", "place"),
    [
        # As common a word as «Mitte» (Zipf 5.1), but a city of 650,000.
        ("de", "Die Messe in Frankfurt beginnt.", "Frankfurt", "geonames:2925533"),
        ("de", "Die Delegation reiste nach Minsk und Gomel.", "Gomel", "geonames:627907"),
        ("en", "The plant in Brest exported more.", "Brest", "geonames:629634"),
    ],
)
def test_real_cities_stay_places(language: str, text: str, surface: str, place: str) -> None:
    assert ids_of(text, language)[surface] == place


@pytest.mark.parametrize(
    ("language", "text", "phrase"),
    [
        # The sentences the issue quotes: «Seinen» keys like a Russian first name.
        ("de", "Seinen Worten zufolge wird der Kurs stabil bleiben.", "Seinen Worten"),
        ("de", "Laut Ihren Angaben wächst der Export.", "Ihren Angaben"),
        # «National» has the consonants of a first name; «Bank» is no surname.
        ("de", "Die National Bank hat den Leitzins gesenkt.", "National Bank"),
        ("en", "Analysts at the National Bank expect growth.", "National Bank"),
    ],
)
def test_a_capitalised_noun_phrase_is_not_a_person(language: str, text: str, phrase: str) -> None:
    found = extract_entities(text, language=language)
    assert [e for e in found if e.type == "PER"] == [], phrase


@pytest.mark.parametrize(
    ("language", "text", "person"),
    [
        ("de", "Alexander Lukaschenko traf Michael Kretschmer.", "Alexander Lukaschenko"),
        ("de", "Alexander Lukaschenko traf Michael Kretschmer.", "Michael Kretschmer"),
        ("en", "Prime Minister Roman Golovchenko said so.", "Roman Golovchenko"),
        ("de", "Bundespräsident Steinmeier und Präsident Olaf Scholz.", "Olaf Scholz"),
    ],
)
def test_first_names_and_titles_still_make_persons(language: str, text: str, person: str) -> None:
    found = extract_entities(text, language=language)
    assert person in [e.text for e in found if e.type == "PER"]


def test_a_curated_organisation_beats_a_rule_person() -> None:
    """Belarusian rules read two capitalised words mid-sentence as a name; «Гродна Азот» is a
    company the file knows."""
    found = {e.text: e for e in extract_entities("Прадпрыемства ААТ «Гродна Азот» працуе.",
                                                 language="be")}  # fmt: skip
    assert (found["Гродна Азот"].type, found["Гродна Азот"].id) == ("ORG", "org:grodno-azot")


@pytest.mark.parametrize(
    ("language", "text", "part"),
    [
        # The benchmark's rule: a name inside a hyphenated word is part of that word.
        ("de", "Die EU-Kommission und eine ARD-Korrespondentin.", "EU"),
        ("de", "Die EU-Kommission und eine ARD-Korrespondentin.", "ARD"),
        ("de", "Der russische Rubel wurde mit 277 Belarus-Rubeln gehandelt.", "Belarus"),
        ("uk", "Про це повідомляє РБК-Україна з посиланням на БЕЛТА.", "Україна"),
        ("uk", "Від імені директора Домініка Стросс-Кана.", "Кана"),
        ("ru", "Об этом сообщил Telegram-канал ведомства.", "Telegram"),
        # A currency's name is not a mention of its country.
        ("ru", "Курс доллара США вырос.", "США"),
        ("en", "The rouble fell against the U.S. dollar.", "U.S"),
        ("en", "The Belarus rouble fell again.", "Belarus"),
        # «Russia» + n: the English adjective, not the country.
        ("en", "It fell against the Russian ruble.", "Russian"),
    ],
)
def test_part_of_a_word_or_a_currency_name_is_not_a_mention(
    language: str, text: str, part: str
) -> None:
    assert part not in [e.text for e in extract_entities(text, language=language)]


def test_a_russian_route_of_two_names_keeps_both() -> None:
    """Russian writes «Минск-Москва» for a route: both halves are places."""
    found = ids_of("Поезд Минск-Москва отправился.", "ru")
    assert found.get("Минск") == "geonames:625144"


@pytest.mark.parametrize(
    ("language", "text", "surface", "key"),
    [
        # Datelines write CamelCase names in capitals.
        ("be", "13 верасня, Мінск /Кар. БЕЛТА/. Стаўка рэфінансавання.", "БЕЛТА", "belta"),
        ("en", "MINSK, 5 May (BELTA) - The plant exported more.", "BELTA", "belta"),
        # Bare «Nationalbank» in Belarusian news is the National Bank of Belarus.
        ("de", "Die Nationalbank Weißrusslands hat die Währung abgewertet.",
         "Nationalbank Weißrusslands", "national-bank-belarus"),
    ],
)  # fmt: skip
def test_capitals_and_short_forms_link(language: str, text: str, surface: str, key: str) -> None:
    assert ids_of(text, language)[surface] == f"org:{key}"


def test_a_title_word_does_not_start_the_name_it_introduces() -> None:
    """«першага намесніка Прэм’ер-міністра Мікалая Снапкова»: «Прэм» is cut from the next
    title at the apostrophe."""
    text = "Ён прыняў першага намесніка Прэм’ер-міністра Мікалая Снапкова."
    persons = [e.text for e in extract_entities(text, language="be") if e.type == "PER"]
    assert "Прэм" not in persons


def test_a_very_common_word_is_not_a_lone_surname() -> None:
    """«Питання» keys like «Путін»; it is the word «question»."""
    text = "Володимир Путін сказав це. Питання тільки в тому, як діяти."
    persons = [e.text for e in extract_entities(text, language="uk") if e.type == "PER"]
    assert "Питання" not in persons


def test_a_two_word_name_beats_a_town_named_like_its_first_word() -> None:
    """Alena is a town in the United States; «Алена Пярмінава» mid-sentence is a person."""
    text = "Пра гэта адзначыла намеснік міністра эканомікі Алена Пярмінава ўчора."
    found = {e.text: e.type for e in extract_entities(text, language="be")}
    assert found.get("Алена Пярмінава") == "PER"
    assert "Алена" not in found


# ---- patterns for organisations the file does not know ------------------------------------------


@pytest.mark.parametrize(
    ("language", "text", "surface"),
    [
        # central banks of a named country
        ("de", "Die Nationalbank von Georgien senkte den Leitzins.", "Nationalbank von Georgien"),
        ("de", "Die Zentralbank der Mongolei griff ein.", "Zentralbank der Mongolei"),
        ("en", "The National Bank of Georgia cut its rate.", "National Bank of Georgia"),
        ("en", "The Central Bank of Armenia held its rate.", "Central Bank of Armenia"),
        ("be", "Нацыянальны банк Грузіі знізіў стаўку.", "Нацыянальны банк Грузіі"),
        ("uk", "Національний банк Грузії знизив ставку.", "Національний банк Грузії"),
        # a legal form before a quoted name
        ("uk", "Договір підписало ТОВ «Агро Плюс» у Києві.", "Агро Плюс"),
        ("uk", "Акції ПАТ \"Турбоатом\" подорожчали.", "Турбоатом"),
        ("be", "Прадукцыю выпускае ААТ «Лідскае піва».", "Лідскае піва"),
        ("de", "Die Fabrik OAO \"Keramin\" in Minsk exportiert.", "Keramin"),
        # capitalised words before a legal form
        ("de", "Die Uralchem GmbH liefert Dünger.", "Uralchem GmbH"),
        ("de", "Die Rheinmetall Waffe Munition GmbH liefert.", "Rheinmetall Waffe Munition GmbH"),
        ("en", "Shares of Ocado plc fell.", "Ocado plc"),
        ("en", "The deal with Acme Widgets Inc. closed.", "Acme Widgets Inc."),
        # a quoted name after a word for an organisation
        ("uk", "Про це повідомляє Telegram-канал \"Пул Першого\".", "Пул Першого"),
        ("uk", "Торгова компанія \"Юнайтед гросеріс\" заплатила.", "Юнайтед гросеріс"),
        ("de", "Das Unternehmen „Keramin\" baut ein Werk.", "Keramin"),
        # works named after their town, and X-завод
        ("be", "Гомельскі хімічны завод павялічыў экспарт.", "Гомельскі хімічны завод"),
        ("uk", "Запорізький титано-магнієвий комбінат зупинився.",
         "Запорізький титано-магнієвий комбінат"),
        ("de", "Das Gomeler Chemiewerk exportiert mehr.", "Gomeler Chemiewerk"),
        ("en", "The Gomel Chemical Plant exported more.", "Gomel Chemical Plant"),
        ("be", "На Кераміка-заводзе выпусцілі плітку.", "Кераміка-заводзе"),
    ],
)  # fmt: skip
def test_organisation_patterns_find_names_the_file_does_not_know(
    language: str, text: str, surface: str
) -> None:
    found = {e.text: e for e in extract_entities(text, language=language)}
    assert found[surface].type == "ORG"
    assert found[surface].id.startswith("org:")


def test_a_central_bank_of_another_country_is_not_the_curated_short_form() -> None:
    """«Nationalbank» alone is the National Bank of Belarus in this news; «Nationalbank von
    Georgien» is another bank, and the places inside it are its words."""
    found = ids_of("Die Nationalbank von Georgien senkte den Leitzins.", "de")
    assert found == {"Nationalbank von Georgien": "org:nationalbank-von-georgien"}


def test_a_pattern_gives_way_to_the_curated_name_it_matches() -> None:
    """«ААТ «Нафтан»» is the curated Naftan, with its id, not a slug."""
    assert ids_of("Прадукцыю выпускае ААТ «Нафтан».", "be")["Нафтан"] == "org:naftan"


def test_ukrainian_gets_natashas_persons_where_the_rules_find_none() -> None:
    """«міністр фінансів Росії Антон Силуанов»: the title is not next to the name, and a
    Ukrainian name after a capitalised country is no rule's; Natasha's NER finds it."""
    text = "Про це заявив міністр фінансів Росії Антон Силуанов у Москві."
    found = {e.text: e.type for e in extract_entities(text, language="uk")}
    assert found.get("Антон Силуанов") == "PER"
    assert found.get("Росії") == "LOC"


def test_a_country_does_not_start_a_name() -> None:
    """«намеснік міністра эканомікі Беларусі Алена Пярмінава» (be013 of the news benchmark's
    dev half): three capitalised words, a country and then a person."""
    text = "Пра гэта адзначыла намеснік міністра эканомікі Беларусі Алена Пярмінава."
    found = {e.text: e.type for e in extract_entities(text, language="be")}
    assert found.get("Беларусі") == "LOC"
    assert found.get("Алена Пярмінава") == "PER"


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        # en017's headline: «New» ends like a Slavic surname and is a common word.
        ("Belarus Hi-Tech Park Will Be Given New Office Spaces In Minsk Centre", "Given New"),
        # en005's headline: «Reveals» has a first name's consonants, «Billions» is a word.
        ("Lukashenko Reveals Billions of Dollars Hidden in Middle East", "Reveals Billions"),
    ],
)
def test_a_headline_in_title_case_is_no_person(text: str, phrase: str) -> None:
    assert phrase not in [e.text for e in extract_entities(text, language="en")]


@pytest.mark.parametrize(
    ("language", "text", "bank", "key", "person"),
    [
        # be019 of the news benchmark's dev half: the short form, then the chairman.
        ("be", "Пра гэта паведаміў старшыня праўлення Нацыянальнага банка Павел Калаур.",
         "Нацыянальнага банка", "national-bank-belarus", "Павел Калаур"),
        # uk009: the bank of a country, then a first name and surname.
        ("uk", "Голова правління Національного банку Білорусі Павло Каллаур заявив.",
         "Національного банку Білорусі", "national-bank-belarus", "Павло Каллаур"),
    ],
)  # fmt: skip
def test_a_central_bank_of_x_ends_at_its_place(
    language: str, text: str, bank: str, key: str, person: str
) -> None:
    found = {e.text: e for e in extract_entities(text, language=language)}
    assert found[bank].id == f"org:{key}"
    assert found[person].type == "PER"


# ---- companies named by a word for a company ----------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text", "surface"),
    [
        # de027, de029 of the news benchmark's dev half (names the knowledge file lacks)
        ("de", "Für 129 Milliarden Dollar übernimmt die Telefongesellschaft MCI Worldcom die "
               "US-Telekommunikationsfirma Sprint im Oktober 1999.", "Sprint"),
        ("de", "Für 129 Milliarden Dollar übernimmt die Telefongesellschaft MCI Worldcom die "
               "US-Telekommunikationsfirma Sprint im Oktober 1999.", "MCI Worldcom"),
        ("de", "Knapp 90 Mrd Dollar zahlt der US-Pharmahersteller Pfizer im Juni 2000 für seinen "
               "Konkurrenten Warner-Lambert.", "Warner-Lambert"),
        ("de", "Für 17 Milliarden Dollar kauft der deutsche Pharma- und Chemie-Konzern Merck im "
               "November 2015 den Laborausrüster Sigma-Aldrich.", "Sigma-Aldrich"),
        # en045: a company named, then said what it is
        ("en", "It combined the rail business with Alstom, the French rolling-stock "
               "manufacturer.", "Alstom"),
        ("en", "Shares of the Adani Group fell.", "Adani Group"),
        ("en", "The deal made drugmaker Acmeva the largest.", "Acmeva"),
        # a Latin name after a Cyrillic word for a company
        ("uk", "Угоду підписала компанія Westinghouse у Києві.", "Westinghouse"),
        ("ru", "Акции концерна Stada подешевели.", "Stada"),
    ],
)  # fmt: skip
def test_a_name_after_a_word_for_a_company_is_an_organisation(
    language: str, text: str, surface: str
) -> None:
    found = {e.text: e.type for e in extract_entities(text, language=language)}
    assert found.get(surface) == "ORG"


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("de", "Er sagte, dass das Unternehmen Anteile verkauft und der Konzern Gewinne macht."),
        ("de", "Der Autohersteller Milliarden investiert."),
        ("en", "The company Monday said profits rose."),
    ],
)
def test_a_common_word_after_a_word_for_a_company_is_no_organisation(
    language: str, text: str
) -> None:
    assert [e.text for e in extract_entities(text, language=language) if e.type == "ORG"] == []


def test_a_place_after_a_word_for_a_company_stays_a_place() -> None:
    text = "Moscow fears its rival Ukraine."
    found = {e.text: e.type for e in extract_entities(text, language="en")}
    assert found.get("Ukraine") == "LOC"


@pytest.mark.parametrize(
    ("language", "text", "surface", "key"),
    [
        # uk049: Nokia is the company, not the Finnish town the gazetteer also knows
        ("uk", "Microsoft купує істотні частки в усіх бізнесах Nokia, пов’язані з пристроями.",
         "Nokia", "org:nokia"),
        # en043: a takeover between companies the file did not know
        ("en", "They struck a preliminary agreement for Veolia to purchase shares.", "Veolia",
         "org:veolia"),
        ("de", "Für 199 Milliarden Dollar verleibt sich Vodafone im April 2000 Mannesmann ein.",
         "Vodafone", "org:vodafone"),
        ("ru", "Компания Монсанто оштрафована.", "Монсанто", "org:monsanto"),
        # en047: Ukrainian bodies by their English names
        ("en", "I believe that DFS, in conjunction with the Antimonopoly Committee needs to act.",
         "Antimonopoly Committee", "org:antimonopoly-committee-ukraine"),
        ("en", "The Cabinet of Ministers approved it.", "Cabinet of Ministers",
         "org:cabinet-of-ministers-ukraine"),
        # entities version 9: bodies the dev half's reports of Belarus's news named
        ("ru", "Бойцы ЧВК Вагнер прибыли в Беларусь.", "ЧВК Вагнер", "org:wagner-group"),
        ("de", "Die ersten Kämpfer der Wagner-Gruppe sind in Belarus.", "Wagner-Gruppe",
         "org:wagner-group"),
        ("en", "The Wagner Group fighters arrived.", "Wagner Group", "org:wagner-group"),
        ("uk", "Нобелівський комітет оголосив лауреатів.", "Нобелівський комітет",
         "org:norwegian-nobel-committee"),
        ("de", "Das Nobelkomitee in Oslo hat entschieden.", "Nobelkomitee",
         "org:norwegian-nobel-committee"),
        ("en", "He founded Viasna in 1996.", "Viasna", "org:viasna"),
        ("de", "Er gründete 1996 Wjasna.", "Wjasna", "org:viasna"),
        ("en", "Litgrid disconnected the Astravyets NPP.", "Astravyets NPP",
         "org:belarusian-npp"),
        ("en", "Litgrid disconnected the plant.", "Litgrid", "org:litgrid"),
        ("de", "Der EU-Rat beschloss neue Sanktionen.", "EU-Rat", "org:council-of-the-eu"),
        ("de", "Die Nationale Bank der Ukraine senkte den Zins.", "Nationale Bank der Ukraine",
         "org:national-bank-ukraine"),
        # entities version 10: Ukraine's anti-corruption prosecutor, beside NABU
        ("uk", "Закон підпорядковує НАБУ і САП генпрокурору.", "САП",
         "org:specialized-anti-corruption-prosecutor-ukraine"),
        ("ru", "Независимость САП восстановлена.", "САП",
         "org:specialized-anti-corruption-prosecutor-ukraine"),
        ("en", "The law strips NABU and SAPO of their independence.", "SAPO",
         "org:specialized-anti-corruption-prosecutor-ukraine"),
        ("en", "It restores the Specialised Anti-Corruption Prosecutor’s Office.",
         "Specialised Anti-Corruption Prosecutor’s Office",
         "org:specialized-anti-corruption-prosecutor-ukraine"),
        ("en", "The National Anti-Corruption Bureau opened a case.",
         "National Anti-Corruption Bureau", "org:nabu"),
    ],
)  # fmt: skip
def test_multinationals_the_news_names_often_are_curated(
    language: str, text: str, surface: str, key: str
) -> None:
    assert ids_of(text, language).get(surface) == key
