"""Stories: the subjects a text is about, read alike in the five languages."""

from __future__ import annotations

import pytest

from services.enrich.stories.subjects import MAX_SUBJECTS, subjects


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Евросоюз ввел санкции против экспорта калия и нефтепродуктов.", "ru"),
        ("Еўрасаюз увёў санкцыі супраць экспарту калію і нафтапрадуктаў.", "be"),
        ("Євросоюз запровадив санкції проти експорту калію та нафтопродуктів.", "uk"),
        ("Die EU verhängt Wirtschaftssanktionen gegen Kaliausfuhren und Ölprodukte.", "de"),
        ("The EU imposes sanctions on exports of potash and petroleum products.", "en"),
    ],
)
def test_one_sentence_names_the_same_subjects_in_every_language(text: str, language: str) -> None:
    assert set(subjects(text, language)) == {"sanctions", "fertiliser", "oil", "exports"}


def test_short_stems_do_not_match_inside_other_words() -> None:
    # «Völker», «Radikalisierung», «долго» and «gasket»-like words hold a stem's letters only.
    assert subjects("Die Völker lehnen die Radikalisierung ab.", "de") == []
    assert subjects("Die Konkurrenten wurden akkreditiert.", "de") == []
    assert subjects("Встреча шла долго и долгосрочно.", "ru") == []
    assert subjects("The oilseed harvest.", "en") == []


def test_the_most_mentioned_subjects_are_kept_first() -> None:
    text = "sanctions sanctions sanctions inflation inflation budget loan pension tractor potash"
    found = subjects(text, "en")
    assert len(found) == MAX_SUBJECTS
    assert found[:2] == ["sanctions", "inflation"]


def test_german_compounds_are_read_by_their_chosen_stems() -> None:
    text = "Devisenreserven schmelzen, Einkommensteuern steigen, Kalidünger wird teurer."
    assert set(subjects(text, "de")) == {"reserves", "taxes", "fertiliser"}


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Нацбанк переходит к режиму плавающего курса.", "ru"),
        ("Нацбанк пераходзіць да плаваючага курсу.", "be"),
        ("НБУ переходить до режиму керованої гнучкості курсу.", "uk"),
        ("Die Notenbank kündigt den Übergang zu einem flexiblen Wechselkurs an.", "de"),
        ("Die Regierung lehnt eine Kursfreigabe ab.", "de"),
        ("The central bank will let the currency float.", "en"),
    ],
)
def test_a_currency_float_is_one_subject_in_every_language(text: str, language: str) -> None:
    """A move to a floating or flexible rate is its own subject, not a devaluation: the issue's
    «a devaluation in May and a float in September» are two events."""
    assert "float" in subjects(text, language)
    assert "devaluation" not in subjects(text, language)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Во время войны безработные вышли на протесты, гривна падает.", "ru"),
        ("Падчас вайны беспрацоўныя выйшлі на пратэсты, грыўня падае.", "be"),
        ("Під час війни безробітні вийшли на протести, гривня падає.", "uk"),
        ("In Kriegszeiten protestieren Arbeitslose, die Hrywnja fällt.", "de"),
        ("In wartime the jobless protest while the hryvnia falls.", "en"),
    ],
)
def test_war_protests_unemployment_and_the_hryvnia_are_read_in_every_language(
    text: str, language: str
) -> None:
    assert set(subjects(text, language)) == {"war", "protests", "unemployment", "hryvnia"}


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Белорусский рубль подешевел.", "ru"),
        ("Беларускі рубель патаннеў.", "be"),
        ("Білоруський рубль подешевшав.", "uk"),
        ("Der Belarus-Rubel verliert.", "de"),
        ("The Belarusian rouble weakens.", "en"),
        ("The Russian ruble weakens.", "en"),
    ],
)
def test_the_rouble_is_a_subject_by_its_name(text: str, language: str) -> None:
    assert subjects(text, language) == ["rouble"]


def test_war_and_rallies_are_whole_words_in_english() -> None:
    # «warrant», «award» and «rallied» hold the letters only.
    found = subjects("The court issued a warrant and an award; shares rallied.", "en")
    assert not {"war", "protests"} & set(found)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Первый энергоблок Белорусской АЭС подключен к сети.", "ru"),
        ("Першы энергаблок Беларускай АЭС падключаны да сеткі.", "be"),
        ("Перший енергоблок Білоруської АЕС підключено до мережі.", "uk"),
        ("Das erste Atomkraftwerk des Landes ist ans Netz gegangen.", "de"),
        ("The Astravets nuclear power plant began to generate electricity.", "en"),
    ],
)
def test_nuclear_power_is_one_subject_in_every_language(text: str, language: str) -> None:
    """A German report of a nuclear plant going on the grid shared with an English one only a
    country, a neighbour and the capital among its entities; the plant is what both are about."""
    assert "nuclear-power" in subjects(text, language)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Инаугурация президента прошла без объявления.", "ru"),
        ("Інаўгурацыя прэзідэнта прайшла без абвяшчэння.", "be"),
        ("Церемонія інавгурації відбувається в Палаці Незалежності.", "uk"),
        ("Die Amtseinführung fand ohne Ankündigung statt.", "de"),
        ("He was sworn in at an unannounced inauguration.", "en"),
    ],
)
def test_an_inauguration_is_one_subject_in_every_language(text: str, language: str) -> None:
    """Reports of an unannounced inauguration share with a head of state's other stories of the
    week only his name and the capital: taking office is what they tell alike."""
    assert "inauguration" in subjects(text, language)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Переговоры делегаций прошли в Гомельской области.", "ru", "talks"),
        ("Перамовы дэлегацый прайшлі на Гомельшчыне.", "be", "talks"),
        ("Перемовини делегацій відбулися на Гомельщині.", "uk", "talks"),
        ("Die Friedensverhandlungen begannen an der Grenze.", "de", "talks"),
        ("The delegations began negotiations near the border.", "en", "talks"),
        ("ЦИК объявил предварительные итоги выборов.", "ru", "election"),
        ("ЦВК абвясціў папярэднія вынікі выбараў.", "be", "election"),
        ("ЦВК оголосила попередні підсумки виборів.", "uk", "election"),
        ("Die Wahlkommission meldet das Ergebnis der Präsidentschaftswahlen.", "de", "election"),
        ("The electoral commission announced the election result.", "en", "election"),
        ("Самолет авиакомпании посадили в аэропорту Минска.", "ru", "aviation"),
        ("Самалёт авіякампаніі пасадзілі ў аэрапорце Мінска.", "be", "aviation"),
        ("Літак авіакомпанії посадили в аеропорту Мінська.", "uk", "aviation"),
        ("Das Passagierflugzeug musste auf dem Flughafen Minsk landen.", "de", "aviation"),
        ("The airline's plane was forced to land at Minsk airport.", "en", "aviation"),
    ],
)
def test_talks_an_election_and_air_travel_are_subjects_in_every_language(
    text: str, language: str, expected: str
) -> None:
    """Reports of talks, of an election commission's result or of a forced landing share few
    entities across languages beyond the country and its capital; what they are about is what
    they tell alike (stories version 18)."""
    assert expected in subjects(text, language)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("У него не было выбора: рейсовый автобус ушёл.", "ru"),
        ("Bei der Auswahl half ein wahlloser Ausflug nicht.", "de"),
        ("He talked about a selective choice of wording.", "en"),
        ("Авіаудар зруйнував склад.", "uk"),
    ],
)
def test_choice_outings_and_airstrikes_are_no_election_or_air_travel(
    text: str, language: str
) -> None:
    """«выбор» is a choice and «Auswahl» a selection, not an election; «авіаудар» is an
    airstrike, which is war news, not air travel: only the stems chosen for the subject match."""
    found = subjects(text, language)
    assert "election" not in found
    assert "aviation" not in found
    assert "talks" not in found


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Украина и США подписали соглашение о недрах.", "ru", "minerals"),
        ("Україна та США уклали угоду про надра.", "uk", "minerals"),
        ("Die USA und die Ukraine unterzeichnen das Rohstoffabkommen.", "de", "minerals"),
        ("The US and Ukraine signed the minerals deal.", "en", "minerals"),
        ("Суд вынес приговор журналисту.", "ru", "court"),
        ("Суд вынес прысуд журналісту.", "be", "court"),
        ("Суд виніс вирок журналістові.", "uk", "court"),
        ("Das Gericht verurteilte den Journalisten.", "de", "court"),
        ("The court sentenced the journalist.", "en", "court"),
        ("Мигранты пытаются пересечь границу.", "ru", "migrants"),
        ("Migranten versuchen, die Grenze zu überqueren.", "de", "migrants"),
        ("Беларусь запретила импорт продуктов.", "ru", "imports"),
        ("Belarus bans food imports from the EU.", "en", "imports"),
        ("Belarus verbietet die Einfuhr von Lebensmitteln.", "de", "imports"),
    ],
)
def test_minerals_a_court_migrants_and_imports_are_subjects(
    text: str, language: str, expected: str
) -> None:
    """Stories version 19: a subsoil deal, a verdict, migrants at a border and an import ban are
    what reports of one event tell alike across languages."""
    assert expected in subjects(text, language)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("It is important to say so.", "en"),
        ("МИД осуждает это решение.", "ru"),
        ("МЗС засуджує це рішення.", "uk"),
        ("Der Blick ist auf die Zukunft gerichtet; er beurteilt die Lage.", "de"),
        ("Das Mineralöl wird teurer.", "de"),
    ],
)
def test_condemning_directing_and_importance_are_no_court_or_imports(
    text: str, language: str
) -> None:
    """«осуждает» and «засуджує» condemn, «gerichtet» is directed, «beurteilt» assesses,
    «important» is no import and «Mineralöl» is oil, not minerals."""
    found = subjects(text, language)
    assert not {"court", "imports", "minerals"} & set(found)
