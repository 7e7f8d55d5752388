"""Stories: the signature, the vetoes and the streaming assignment, on real-looking reports.

The store behaviours run on the in-memory store and on the Redis store (through fakeredis, which
implements WATCH/MULTI), so the two cannot drift apart. The seeds go through the real enrich
step: 000 (ru) and 001 (de) report one interview and must share a story; 002 is another event
at the same fair and must not.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import fakeredis
import pytest
import structlog

from newsflow.local import local_stores, process_file
from services.enrich.entities import extract_entities
from services.enrich.money import extract_money
from services.enrich.stories import (
    DocumentTime,
    MemoryStories,
    RedisStories,
    StoryAssignment,
    StoryParams,
    StoryStore,
    story_signature,
)
from services.enrich.stories.assign import (
    FRESH_DAYS,
    MAX_MEMBERS,
    POSTINGS_PER_FEATURE,
    StoryRecord,
    add_document,
    match,
    new_record,
    staleness,
    top_candidates,
)
from services.enrich.stories.facts import (
    LEAD_CHARS,
    NamedDate,
    lead_date,
    lead_level,
    named_dates,
    percentages,
    weekday_dates_at,
)
from services.enrich.stories.signature import (
    MAX_AMOUNTS,
    MIN_SHARED,
    W_NAME,
    W_ORG,
    W_PERSON,
    Facts,
    SpanUnion,
    StorySignature,
    amount_feature,
    figure_key,
    lead_match,
    person_feature,
    precision,
    quoted_name,
    similarity,
    unlinked_feature,
    values_match,
    veto,
)
from services.enrich.stories.store import (
    Since,
    TimeOrderedPostings,
    _RedisTransaction,
    _Session,
)
from shared.messages import DatePrecision, Entity, MoneyMention
from shared.settings import Settings

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
PARAMS = StoryParams(threshold=0.25, merge_threshold=0.25, window_days=7)
NOW = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def signature_of(text: str, language: str) -> StorySignature:
    """What enrich computes: entities and money first, then the signature from them."""
    return story_signature(
        text,
        language=language,
        entities=extract_entities(text, language=language),
        money=extract_money(text, language=language, published=None, default_rouble="BYN"),
    )


def when(
    published: date | None = None, received: datetime = NOW, precision: DatePrecision = "day"
) -> DocumentTime:
    return DocumentTime(published=published, received=received, precision=precision)


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@pytest.fixture(params=["memory", "fakeredis"])
def store(request: pytest.FixtureRequest) -> Iterator[StoryStore]:
    if request.param == "memory":
        yield MemoryStories()
        return
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    yield RedisStories(client, "test")
    client.close()


# --- facts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Выставка открылась 29 сентября 2025 года в Минске.", NamedDate(9, 29, 2025)),
        ("MINSK, 29. September (BelTA) - Die Messe", NamedDate(9, 29)),
        ("Выстава адкрылася 29 верасня ў Мінску.", NamedDate(9, 29)),
        ("Виставка відкрилася 29 вересня 2025 року.", NamedDate(9, 29, 2025)),
        ("The fair opened on September 29, 2025 in Minsk.", NamedDate(9, 29, 2025)),
        ("The Bank devalued the currency on the 24th of May.", NamedDate(5, 24)),
        ("The rate rises from the 1st of September 2011.", NamedDate(9, 1, 2011)),
        ("Курс на 12.03.2025 установлен Нацбанком.", NamedDate(3, 12, 2025)),
    ],
)
def test_named_dates_are_read_in_every_language(text: str, expected: NamedDate) -> None:
    """Dates named in the text are what tells two daily reports of one template apart."""
    assert named_dates(text) == {expected}


def test_numbers_that_are_not_dates_are_not_read_as_dates() -> None:
    """A count before a word that is no month, a year alone, an impossible day: no dates."""
    assert named_dates("В технопарке 77 компаний, в 2025 году их станет 31 февраля 100.") == set()


def test_percentages_in_words_and_signs() -> None:
    text = "Ставка снижена на 7,5 % (на 0,5 процента больше ожиданий); Inflation 5 Prozent."
    assert percentages(text) == {7.5, 0.5, 5.0}


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [(4930, 4930.0, True), (7, 7.5, False), (3.2145, 3.2187, False), (1.5e9, 1_500_000_000, True),
     (3.21, 3.2145, True)],
)  # fmt: skip
def test_values_match_at_the_precision_of_the_less_precise(a: float, b: float, match: bool) -> None:
    assert values_match(a, b) is match


def test_precision_counts_significant_digits() -> None:
    assert (precision(4930), precision(3.2145), precision(0.05)) == (3, 5, 1)


# --- the signature and the vetoes ---------------------------------------------------------------


def test_a_country_alone_joins_nothing(store: StoryStore) -> None:
    """«BY» is in nearly every Belarusian report: sharing it (and nothing else) is no evidence,
    however short both reports are (their Dice on it alone is high)."""
    a = signature_of("Беларусь подписала соглашение о поставках молока.", "ru")
    b = signature_of("Беларусь увеличила экспорт мебели.", "ru")
    assert "e:BY" in a.features
    assert "e:BY" in b.features
    _, shared, _ = similarity(
        dict.fromkeys(a.features, 1.0), dict.fromkeys(b.features, 1.0), {**a.features, **b.features}
    )
    assert shared < MIN_SHARED
    first = store.assign("milk", a, when(), PARAMS)
    assert store.assign("furniture", b, when(), PARAMS).story_id != first.story_id


RATE_MONDAY = (
    "Национальный банк Беларуси установил на 10 марта 2025 года официальный курс доллара: "
    "3,2145 белорусского рубля за доллар США."
)
RATE_TUESDAY = (
    "Национальный банк Беларуси установил на 11 марта 2025 года официальный курс доллара: "
    "3,2187 белорусского рубля за доллар США."
)


def test_daily_rate_reports_of_one_template_are_vetoed() -> None:
    """Same bank, same wording, different day and rate: never one story."""
    monday, tuesday = signature_of(RATE_MONDAY, "ru"), signature_of(RATE_TUESDAY, "ru")
    assert veto(tuesday.facts, monday.facts) == "rate"


def test_the_same_rate_report_in_another_language_is_not_vetoed() -> None:
    german = (
        "Die Nationalbank von Belarus hat für den 10. März 2025 den offiziellen Kurs festgelegt: "
        "3,2145 belarussische Rubel pro US-Dollar."
    )
    assert veto(signature_of(german, "de").facts, signature_of(RATE_MONDAY, "ru").facts) is None


def test_a_surname_alone_meets_the_full_name_in_another_language() -> None:
    """«Трамп» alone gets an id without a first name and «Donald Trump» one with it: the
    signature keys persons by surname, so the two reports share the person."""
    ukrainian = signature_of("Відповідно до вказівок президента Трампа США знімають санкції.", "uk")
    english = signature_of("Donald Trump said the United States will lift the sanctions.", "en")
    shared = {key for key in ukrainian.features if key.startswith("s:")} & set(english.features)
    assert shared == {"s:trmp"}


def test_an_unknown_organisation_meets_its_transliteration() -> None:
    """An organisation no gazetteer knows has a slug id in its own script; its phonetic key is
    the same in Russian and Ukrainian (and a legal form of vowels only drops out)."""
    russian = Entity(text="ООО «Юнайтед гросерис»", start=0, end=22, type="ORG",
                     normal="ООО «Юнайтед гросерис»", id="org:ooo-yunayted-groseris")  # fmt: skip
    ukrainian = Entity(text="Юнайтед гросеріс", start=0, end=16, type="ORG",
                       normal="Юнайтед гросеріс", id="org:yunayted-groseris")  # fmt: skip
    assert unlinked_feature(russian, "ru") == unlinked_feature(ukrainian, "uk") == "u:org:ntd-grsrs"
    curated = Entity(text="Belaruskali", start=0, end=11, type="ORG", normal="Belaruskali",
                     id="org:belaruskali")  # fmt: skip
    assert unlinked_feature(curated, "en") is None


def test_a_rate_meets_the_same_price_read_as_a_bare_amount() -> None:
    """One report's «4 930 рублей за доллар» is a rate, another's «4 930 рублей» a bare amount:
    they share the amount, and the amount counts among the rate's values for the veto."""
    rate = signature_of("Нацбанк Беларуси установил курс 4 930 рублей за доллар.", "ru")
    amount = signature_of(
        "Нацбанк Беларуси: доллар по курсу 3 155 рублей за доллар, завтра — 4 930 рублей.", "ru"
    )
    assert "m:BYN:4930" in rate.features
    assert "m:BYN:4930" in amount.features
    assert veto(rate.facts, amount.facts) is None


def test_the_unit_a_rate_is_quoted_per_is_no_amount() -> None:
    """«1 доллар США» and «100 российских рублей» are in every daily rate report and say
    nothing about which day's report it is."""
    report = signature_of(
        "Нацбанк установил курсы: 2,9127 белорусского рубля за 1 доллар США, "
        "3,7094 белорусского рубля за 100 российских рублей.",
        "ru",
    )
    assert set(report.facts.rates) == {"USD/BYN", "RUB/BYN"}
    assert "m:USD:1" not in report.features
    assert "m:RUB:100" not in report.features
    assert amount_feature("BYN", 2.9127) in report.features


CUT_MONDAY = (
    "Центральный банк России в понедельник, 10 марта, снизил ключевую ставку на 7 %, "
    "сообщила Эльвира Набиуллина."
)
CUT_FRIDAY = (
    "Центральный банк России в пятницу, 14 марта, снизил ключевую ставку на 7,5 %, "
    "сообщила Эльвира Набиуллина."
)


def test_a_follow_up_step_with_another_percentage_is_vetoed() -> None:
    monday, friday = signature_of(CUT_MONDAY, "ru"), signature_of(CUT_FRIDAY, "ru")
    assert veto(friday.facts, monday.facts) in {"percentage", "date"}


DEVALUATION_BY_DOLLAR = (
    "Национальный банк Беларуси с 24 мая установил курс 4930 рублей за доллар: "
    "белорусский рубль подешевел на 56 %."
)
DEVALUATION_BY_EXCHANGE = (
    "The National Bank of Belarus set the rate at 4,930 roubles per dollar from 24 May, "
    "54.42% more than on the exchange the day before."
)


def test_percentages_derived_on_other_bases_do_not_veto_the_same_day_and_rate() -> None:
    """One devaluation is +56 % in one report and +54.42 % in another (other bases); the day and
    the rate both name are the event's own, and outweigh the derived numbers."""
    by_dollar = signature_of(DEVALUATION_BY_DOLLAR, "ru")
    by_exchange = signature_of(DEVALUATION_BY_EXCHANGE, "en")
    assert "BYN:4930" in by_dollar.facts.figures & by_exchange.facts.figures
    assert veto(by_exchange.facts, by_dollar.facts) is None


@pytest.mark.parametrize(
    ("dates", "figures"),
    [
        ({NamedDate(5, 24)}, {"BYR:3194"}),  # one day, another sum
        ({NamedDate(5, 25)}, {"BYR:4930"}),  # the sum, but no common day (a date veto anyway)
        (set(), {"BYR:4930"}),  # the sum, no day named
    ],
)
def test_percentages_still_veto_without_both_a_common_day_and_a_common_sum(
    dates: set[NamedDate], figures: set[str]
) -> None:
    story = Facts(
        percentages=frozenset({56.0}),
        dates=frozenset({NamedDate(5, 24)}),
        figures=frozenset({"BYR:4930"}),
    )
    doc = Facts(percentages=frozenset({54.42}), dates=frozenset(dates), figures=frozenset(figures))
    assert veto(doc, story) == "percentage"


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("Belarus Central Bank Lifts Interest Rate 200bps to 16.00%", 16.0),
        ("Нацбанк Беларуси повысит с 1 июня ставку рефинансирования до 16% с 14%", 16.0),
        ("Ад 20 чэрвеня стаўка рэфінансаваньня зьніжаецца да 32% гадавых", 32.0),
        ("Die Nationalbank erhöhte den Leitzins auf 12 Prozent pro Jahr.", 12.0),
        ("Белорусский рубль подешевел на 56 %, до 4930 рублей за доллар.", None),
        ("Weissrussland-Rubel wird über Nacht um über 50% abgewertet!", None),
    ],
)
def test_the_lead_level_is_a_percentage_reached_not_a_change(
    text: str, level: float | None
) -> None:
    """A rate decision names the level it sets («to 16 %»), which every report of it repeats; a
    devaluation's change is derived on bases that differ between sources (56 % and 36 %)."""
    assert lead_level(text) == level


def test_a_level_named_after_the_lead_is_background() -> None:
    """«Inflation has equaled to 25.4 %» at the end of a report is not what it is about."""
    text = "Der Rubel verlor an Wert. " + "x" * LEAD_CHARS + " Die Inflation stieg auf 25 Prozent."
    assert lead_level(text) is None


RATE_RISE_RECALLING_THE_DEVALUATION = (
    "The National Bank of Belarus raised its refinancing rate to 16% from 14% as of 1 June. "
    "It devalued the rouble by 56% on 24 May; inflation was 4.5% in April and 10.9% in four "
    "months."
)
RATE_RISE_IN_RUSSIAN = (
    "Нацбанк Беларуси с 1 июня повышает ставку рефинансирования с 14% до 16% годовых, "
    "сообщил регулятор."
)


def test_a_rate_rise_that_recalls_a_devaluation_is_vetoed_by_its_lead() -> None:
    """A week after the devaluation, a report of the rate rise names its day and its percentage
    and quotes too many percentages for the percentage veto; but it leads with 16 %, which no
    report of the devaluation names."""
    rise = signature_of(RATE_RISE_RECALLING_THE_DEVALUATION, "en")
    devaluation = signature_of(DEVALUATION_BY_DOLLAR, "ru")
    assert len(rise.facts.percentages) > 3
    assert veto(rise.facts, devaluation.facts) == "lead"
    assert veto(devaluation.facts, rise.facts) == "lead"


def test_a_report_naming_the_level_another_leads_with_is_not_vetoed() -> None:
    english = signature_of(RATE_RISE_RECALLING_THE_DEVALUATION, "en")
    russian = signature_of(RATE_RISE_IN_RUSSIAN, "ru")
    assert veto(english.facts, russian.facts) is None


DEVALUATION_BLOG = (
    "Weissrussland-Rubel wird über Nacht um über 50% abgewertet! Die Nationalbank hat die "
    "Währung um 54,4% abgewertet, seit Jahresende um 71,6%. Der Benzinpreis ist am Dienstag "
    "bereits um 20% gestiegen."
)


def test_a_round_percentage_does_not_repeat_a_lead_level() -> None:
    """A blog post on the devaluation quotes four percentages, one the petrol price's «20 %»:
    at one significant digit 20 is also 16, and the rate rise leading with 16 % joined the
    blog's story when the reports streamed in reverse. A level is repeated as it was set."""
    rise = signature_of(RATE_RISE_RECALLING_THE_DEVALUATION, "en")
    blog = signature_of(DEVALUATION_BLOG, "de")
    assert 20.0 in blog.facts.percentages
    assert veto(rise.facts, blog.facts) == "lead"
    assert veto(blog.facts, rise.facts) == "lead"


@pytest.mark.parametrize(("value", "repeats"), [(16.0, True), (16.3, True), (20.0, False)])
def test_a_lead_level_is_matched_within_the_percentage_tolerance(
    value: float, *, repeats: bool
) -> None:
    assert lead_match(16.0, value) is repeats


def test_a_storys_lead_vetoes_a_report_that_does_not_name_it(store: StoryStore) -> None:
    """The story of the devaluation keeps its reports' leads (none) and percentages; the rise
    arriving later is refused for its own lead, and the log line says why."""
    store.assign(
        "deval", signature_of(DEVALUATION_BY_DOLLAR, "ru"), when(date(2011, 5, 24)), PARAMS
    )
    rise = store.assign(
        "rise",
        signature_of(RATE_RISE_RECALLING_THE_DEVALUATION, "en"),
        when(date(2011, 5, 30)),
        PARAMS,
    )
    assert rise.outcome == "new"
    assert "lead" in rise.vetoes


def test_a_sum_rounded_differently_by_two_sources_is_one_feature() -> None:
    """The hryvnia's official rate is «36,5686» in the National Bank's release and «36,57 грн»
    in a bank's report of the same day: the amount features meet, as the rate features do."""
    assert amount_feature("UAH", 36.57) == amount_feature("UAH", 36.5686)
    assert amount_feature("USD", 1.55e9) == amount_feature("USD", 1_548_000_000)
    assert amount_feature("UAH", 36.57) != amount_feature("UAH", 29.25)


def test_a_round_sum_is_no_figure() -> None:
    """«$1 billion» is in many stories of one month; only a precise sum is one day's number."""
    assert figure_key("USD", 1e9) is None
    assert figure_key("BYR", 4930) == "BYR:4930"


# --- streaming assignment -----------------------------------------------------------------------


def test_follow_up_steps_start_separate_stories(store: StoryStore) -> None:
    """-7 % on Monday and -7.5 % on Friday, same bank and governor: two stories."""
    first = store.assign("mon", signature_of(CUT_MONDAY, "ru"), when(date(2025, 3, 10)), PARAMS)
    second = store.assign("fri", signature_of(CUT_FRIDAY, "ru"), when(date(2025, 3, 14)), PARAMS)
    assert first.outcome == second.outcome == "new"
    assert first.story_id != second.story_id


def test_daily_template_reports_start_separate_stories(store: StoryStore) -> None:
    monday = store.assign("mon", signature_of(RATE_MONDAY, "ru"), when(date(2025, 3, 10)), PARAMS)
    tuesday = store.assign("tue", signature_of(RATE_TUESDAY, "ru"), when(date(2025, 3, 11)), PARAMS)
    assert monday.story_id != tuesday.story_id
    assert "rate" in tuesday.vetoes  # the reason the log line gives


def test_the_same_event_in_two_languages_joins(store: StoryStore) -> None:
    russian = (
        "Первый заместитель председателя Мингорисполкома Надежда Лазаревич предложила создать "
        "кластер технопарков на выставке ИННОПРОМ. Беларусь 29 сентября."
    )
    german = (
        "Nadeschda Lasarewitsch, die erste stellvertretende Vorsitzende des Exekutivkomitees der "
        "Stadt Minsk, schlug am 29. September auf der INNOPROM in Belarus einen Cluster vor."
    )
    first = store.assign("ru", signature_of(russian, "ru"), when(date(2025, 9, 29)), PARAMS)
    second = store.assign("de", signature_of(german, "de"), when(None), PARAMS)
    assert second.outcome == "joined"
    assert second.story_id == first.story_id
    assert second.similarity is not None
    assert second.similarity >= PARAMS.threshold


def test_a_redelivered_document_gets_its_first_answer(store: StoryStore) -> None:
    sig = signature_of(CUT_MONDAY, "ru")
    first = store.assign("mon", sig, when(date(2025, 3, 10)), PARAMS)
    assert store.assign("mon", sig, when(date(2025, 3, 10)), PARAMS) == first
    assert store.story_of("mon") == first.story_id


def _sig(*features: str, weight: float = 3.0) -> StorySignature:
    """A signature of persons and organisations only, with no facts that could veto."""
    return StorySignature(features=dict.fromkeys(features, weight), facts=Facts())


def test_a_document_linking_two_stories_merges_them_and_old_ids_resolve(store: StoryStore) -> None:
    """Two reports that share little each start a story; a third that shares much with both
    merges them into the older, and the younger id resolves to it from then on."""
    a = store.assign("a", _sig("e:per:a", "e:per:b", "e:org:x"), when(), PARAMS)
    b = store.assign("b", _sig("e:per:c", "e:per:d", "e:org:y"), when(), PARAMS)
    assert a.story_id != b.story_id
    c = store.assign(
        "c",
        _sig("e:per:a", "e:per:b", "e:org:x", "e:per:c", "e:per:d", "e:org:y"),
        when(),
        PARAMS,
    )
    assert c.story_id == a.story_id
    assert c.merged_from == (b.story_id,)
    assert store.story_of("b") == a.story_id
    assert store.assign("b", _sig("e:per:c"), when(), PARAMS).story_id == a.story_id


def test_a_document_linking_two_stories_weakly_merges_them(store: StoryStore) -> None:
    """A report that would join either story on its own says they are one event: merging needs
    no stronger link than joining, or which reports form a story depends on which came first
    (the later report joins the first story and the second stays apart)."""
    a = store.assign("a", _sig("s:a", "s:b", "s:w", "s:x", "s:y", "s:z"), when(), PARAMS)
    b = store.assign("b", _sig("s:c", "s:d", "s:q", "s:r", "s:t", "s:u"), when(), PARAMS)
    c = store.assign("c", _sig("s:a", "s:b", "s:c", "s:d"), when(), PARAMS)
    assert c.similarity is not None
    assert c.similarity < 0.5  # the former merge threshold: these two stayed apart
    assert c.story_id == a.story_id
    assert c.merged_from == (b.story_id,)


def test_stories_whose_dates_differ_are_not_merged_by_a_report_naming_none(
    store: StoryStore,
) -> None:
    """A report that names no date can match the story of a step on Monday and the one of a step
    on Friday alike; the two stories' own dates still keep them apart."""
    monday = StorySignature(_sig("s:a", "s:b").features, Facts(dates=frozenset({NamedDate(3, 10)})))
    friday = StorySignature(_sig("s:c", "s:d").features, Facts(dates=frozenset({NamedDate(3, 14)})))
    a = store.assign("a", monday, when(), PARAMS)
    b = store.assign("b", friday, when(), PARAMS)
    c = store.assign("c", _sig("s:a", "s:b", "s:c", "s:d"), when(), PARAMS)
    assert c.story_id in {a.story_id, b.story_id}
    assert c.merged_from == ()
    assert store.story_of("a") != store.story_of("b")


def _assign_both(
    store: StoryStore,
    first: tuple[StorySignature, DocumentTime],
    second: tuple[StorySignature, DocumentTime],
) -> tuple[StoryAssignment, StoryAssignment]:
    """Two documents «a» and «b» assigned one after the other, as the table-driven tests do."""
    return store.assign("a", *first, PARAMS), store.assign("b", *second, PARAMS)


def _dated(published: date, *dates: NamedDate) -> tuple[StorySignature, DocumentTime]:
    return (
        StorySignature(_sig("s:a", "s:b").features, Facts(dates=frozenset(dates))),
        when(published, noon(published)),
    )


@pytest.mark.parametrize(
    ("first", "second", "joined"),
    [
        # Two March reports of one step; one recalls a deadline of 20 February, before either's
        # window: background, which says nothing against the other's 9 March.
        (
            _dated(date(2017, 3, 10), NamedDate(3, 9)),
            _dated(date(2017, 3, 10), NamedDate(2, 20, 2017)),
            True,
        ),
        # The same without a year: 20 February is the one nearest the reports.
        (
            _dated(date(2017, 3, 10), NamedDate(3, 9)),
            _dated(date(2017, 3, 10), NamedDate(2, 20)),
            True,
        ),
        # A report of 20 January recalling 10 January (background to it), beside one of 14
        # January naming 12 January: 10 January lies within the earlier report's window, where
        # it could be that report's event's day, so the two days still tell them apart.
        (
            _dated(date(2022, 1, 14), NamedDate(1, 12, 2022)),
            _dated(date(2022, 1, 20), NamedDate(1, 10)),
            False,
        ),
        # Days later than the reports (an effective day) are the event's own and still veto.
        (
            _dated(date(2011, 8, 17), NamedDate(9, 1)),
            _dated(date(2011, 8, 17), NamedDate(10, 12)),
            False,
        ),
    ],
)
def test_only_dates_before_both_reports_windows_are_background(
    store: StoryStore,
    first: tuple[StorySignature, DocumentTime],
    second: tuple[StorySignature, DocumentTime],
    joined: bool,
) -> None:
    a, b = _assign_both(store, first, second)
    assert (a.story_id == b.story_id) is joined


def test_a_report_close_to_one_of_a_storys_documents_joins_it(store: StoryStore) -> None:
    """A story told by many reports holds what only some of them say (one language's names and
    figures) in a small share of its centroid; a new report that matches one of those reports
    closely joins, although it matches the centroid at a third of that."""
    common = ("s:a", "s:b", "s:c", "s:d", "s:e", "s:f")
    first = store.assign("first", _sig(*common), when(), PARAMS)
    assert store.assign("second", _sig(*common, "s:p", "s:q"), when(), PARAMS).story_id == (
        first.story_id
    )
    assert store.assign("third", _sig(*common, "s:r"), when(), PARAMS).story_id == first.story_id
    # Against the centroid: p and q in a third of its documents, 2 * 2.0 / 30 = 0.13.
    late = store.assign("late", _sig("s:p", "s:q", "s:z"), when(), PARAMS)
    assert late.story_id == first.story_id


def test_match_is_the_weighted_dice_with_the_centroid_when_no_document_is_closer() -> None:
    """``match`` computes the centroid's similarity in one pass for speed; it must stay the
    documented weighted Dice (``similarity``) of the document and the centroid."""
    record = new_record("s-0", 1, _sig("s:a", "s:b", "s:c"), when())
    add_document(record, StorySignature({"s:a": 3.0, "e:org:x": 1.5}, Facts()), when())
    record.members = []  # the centroid alone
    weights = {"s:a": 3.0, "s:c": 1.0, "e:BY": 0.2}  # after rarity: «s:c» is common this week
    centroid = {key: count / record.size for key, (count, _) in record.features.items()}
    priors = {key: prior for key, (_, prior) in record.features.items()}
    expected = similarity(dict.fromkeys(weights, 1.0), centroid, {**priors, **weights})
    assert match(weights, sum(weights.values()), record) == pytest.approx(expected)


def test_a_story_keeps_its_latest_documents_bounded() -> None:
    """The record keeps each of its latest documents for the comparison, never more than
    ``MAX_MEMBERS``: a long-running story's record stays small. A story of one document keeps
    no copy (its features are the document's)."""
    record = new_record("s-0", 1, _sig("s:a", "s:x0"), when())
    assert record.members == []
    for number in range(1, MAX_MEMBERS + 3):
        add_document(record, _sig("s:a", f"s:x{number}"), when())
    assert len(record.members) == MAX_MEMBERS
    assert record.members[-1] == {"s:a": 3.0, f"s:x{MAX_MEMBERS + 2}": 3.0}
    assert StoryRecord.from_json(record.to_json()) == record


def test_each_merge_is_logged_once_and_active_stories_count_the_survivor() -> None:
    """Operators follow a story id through merges by the log line; the active-stories gauge
    must not count a merged story twice."""
    store = RedisStories(fakeredis.FakeRedis(server=fakeredis.FakeServer()), "test")
    store.assign("a", _sig("e:per:a", "e:per:b", "e:org:x"), when(), PARAMS)
    store.assign("b", _sig("e:per:c", "e:per:d", "e:org:y"), when(), PARAMS)
    assert store.active_since(0) == 2
    with structlog.testing.capture_logs() as logs:
        merged = store.assign(
            "c",
            _sig("e:per:a", "e:per:b", "e:org:x", "e:per:c", "e:per:d", "e:org:y"),
            when(),
            PARAMS,
        )
    merges = [line for line in logs if line["event"] == "stories merged"]
    assert [(line["story_id"], line["into"]) for line in merges] == [
        (merged.merged_from[0], merged.story_id)
    ]
    assert store.active_since(0) == 1
    assert store.active_since(time.time() + 60) == 0


def test_stories_outside_the_window_are_not_candidates(store: StoryStore) -> None:
    sig = _sig("e:per:a", "e:org:x")
    first = store.assign("one", sig, when(date(2025, 3, 1)), PARAMS)
    late = store.assign("two", sig, when(date(2025, 3, 20)), PARAMS)
    near = store.assign("three", sig, when(date(2025, 3, 5)), PARAMS)
    assert late.story_id != first.story_id
    assert near.story_id == first.story_id


def test_a_story_reaches_forward_to_the_day_its_reports_name_as_due(store: StoryStore) -> None:
    """An announcement of 1 March that the step comes on 11 March, and a report of the step on
    15 March: one event, published two weeks apart. A day named further ahead than ``DUE_DAYS``
    is a plan and stretches nothing."""
    march, may = date(2025, 3, 1), date(2025, 5, 2)
    soon = StorySignature(_sig("s:a", "s:b").features, Facts(dates=frozenset({NamedDate(3, 11)})))
    far = StorySignature(_sig("s:c", "s:d").features, Facts(dates=frozenset({NamedDate(5, 2)})))
    announced = store.assign("soon", soon, when(march, noon(march)), PARAMS)
    planned = store.assign("far", far, when(march, noon(march)), PARAMS)
    step_day = date(2025, 3, 15)
    step = store.assign("step", _sig("s:a", "s:b"), when(step_day, noon(step_day)), PARAMS)
    late = store.assign("late", _sig("s:c", "s:d"), when(may, noon(may)), PARAMS)
    assert step.story_id == announced.story_id
    assert late.story_id != planned.story_id


def test_a_story_lies_at_its_due_day_not_on_every_day_up_to_it(store: StoryStore) -> None:
    """An announcement of 1 March of a step on 25 March: a report of 12 March is 11 days from
    the announcement and 13 from the step, outside the window of both, however much it shares
    with the story; a report of the step's day joins."""
    march = date(2025, 3, 1)
    announcement = StorySignature(
        _sig("s:a", "s:b").features, Facts(dates=frozenset({NamedDate(3, 25)}))
    )
    story = store.assign("announced", announcement, when(march, noon(march)), PARAMS)
    between, step_day = date(2025, 3, 12), date(2025, 3, 25)
    middle = store.assign("between", _sig("s:a", "s:b"), when(between, noon(between)), PARAMS)
    step = store.assign("step", _sig("s:a", "s:b"), when(step_day, noon(step_day)), PARAMS)
    assert middle.story_id != story.story_id
    assert step.story_id == story.story_id


def test_a_report_at_the_windows_edge_needs_more_in_common_than_one_of_the_same_days(
    store: StoryStore,
) -> None:
    """A week after a story, a report that shares what any report of the week's news shares
    (the president, the capital) is more often the next event than the same one: the threshold
    doubles from ``FRESH_DAYS`` to the window's edge. The same report (Dice 0.4) joins within
    ``FRESH_DAYS`` and not seven days later (two such reports, sharing nothing with each other)."""
    story = _sig("s:a", "s:b", "s:c", "s:d")
    first, near, edge = date(2020, 9, 16), date(2020, 9, 19), date(2020, 9, 23)
    start = store.assign("story", story, when(first, noon(first)), PARAMS)
    late_report = _sig("s:a", "s:b", "s:w", "s:x", "s:y", "s:z")
    late = store.assign("late", late_report, when(edge, noon(edge)), PARAMS)
    assert late.story_id != start.story_id
    soon_report = _sig("s:c", "s:d", "s:t", "s:u", "s:v", "s:o")
    soon = store.assign("soon", soon_report, when(near, noon(near)), PARAMS)
    assert soon.story_id == start.story_id
    assert soon.similarity == pytest.approx(0.4, abs=0.01)


def test_staleness_grows_from_fresh_days_to_double_at_the_windows_edge() -> None:
    assert staleness(0, 7) == staleness(FRESH_DAYS, 7) == 1.0
    assert staleness(5, 7) == pytest.approx(1.5)
    assert staleness(7, 7) == pytest.approx(2.0)
    assert staleness(7, FRESH_DAYS) == 1.0  # a window no longer than the fresh days: no decay


def test_two_stories_a_week_apart_merge_only_through_a_report_as_close_as_a_join_there_needs(
    store: StoryStore,
) -> None:
    """Merging two stories a week apart is a join across that week: a report between them that
    matches the later story closely and the earlier one at 0.4 (enough for either alone at its
    four and three days) joins the later and merges nothing."""
    early, late_day, between = date(2020, 9, 16), date(2020, 9, 23), date(2020, 9, 20)
    a = store.assign("a", _sig("s:a", "s:b", "s:c", "s:d"), when(early, noon(early)), PARAMS)
    b = store.assign("b", _sig("s:p", "s:q", "s:r", "s:s"), when(late_day, noon(late_day)), PARAMS)
    c = store.assign(
        "c",
        _sig("s:a", "s:b", "s:p", "s:q", "s:r", "s:s"),
        when(between, noon(between)),
        PARAMS,
    )
    assert c.story_id == b.story_id
    assert c.merged_from == ()
    assert store.story_of("a") == a.story_id != store.story_of("b")


def test_dateless_documents_compare_by_time_received(store: StoryStore) -> None:
    sig = _sig("e:per:a", "e:org:x")
    first = store.assign("one", sig, when(None, NOW), PARAMS)
    later = store.assign("two", sig, when(None, NOW + timedelta(days=30)), PARAMS)
    assert later.story_id != first.story_id


@pytest.mark.parametrize(
    ("first", "precision", "days"),
    [
        (date(2011, 10, 20), "day", (date(2011, 10, 20), date(2011, 10, 20))),
        (date(2011, 10, 1), "month", (date(2011, 10, 1), date(2011, 10, 31))),
        (date(2011, 12, 1), "month", (date(2011, 12, 1), date(2011, 12, 31))),
        (date(2024, 2, 1), "month", (date(2024, 2, 1), date(2024, 2, 29))),
    ],
)
def test_a_published_date_is_the_days_it_may_be(
    first: date, precision: DatePrecision, days: tuple[date, date]
) -> None:
    placed = when(first, precision=precision).published_days
    assert placed == (days[0].toordinal(), days[1].toordinal())


def test_a_date_known_only_to_the_year_places_nothing() -> None:
    """A year is 52 windows: it would let a report join any story of its year."""
    assert when(date(2011, 1, 1), precision="year").published_days is None


def test_a_document_known_only_to_the_month_joins_a_story_of_any_day_of_it(
    store: StoryStore,
) -> None:
    """A scraper that knows only /2011/10/ brings the report late in the month (or after it):
    the devaluation of 20 October is its story, though the 1st is 19 days away."""
    sig = _sig("e:per:a", "e:org:x")
    event = store.assign("day", sig, when(date(2011, 10, 20), noon(date(2011, 10, 20))), PARAMS)
    month = store.assign(
        "month", sig, when(date(2011, 10, 1), noon(date(2011, 11, 2)), "month"), PARAMS
    )
    assert month.story_id == event.story_id
    outside = store.assign(
        "later", sig, when(date(2011, 12, 1), noon(date(2011, 12, 31)), "month"), PARAMS
    )
    assert outside.story_id != event.story_id


def test_a_report_known_only_to_its_month_does_not_merge_stories_weeks_apart(
    store: StoryStore,
) -> None:
    """A June report that names the people of a landing on 23 May and the subject of sanctions
    on 21 June lies within the window of both stories, which are four weeks apart: it cannot say
    they are one event. It joins the one inside its month."""
    landing = store.assign(
        "landing",
        _sig("s:a", "s:b", "s:c"),
        when(date(2021, 5, 27), noon(date(2021, 5, 27))),
        PARAMS,
    )
    sanctions = store.assign(
        "sanctions",
        _sig("s:x", "s:y", "s:z"),
        when(date(2021, 6, 21), noon(date(2021, 6, 21))),
        PARAMS,
    )
    june = store.assign(
        "june",
        # More in common with the landing's story, so only the month makes it the sanctions'.
        _sig("s:a", "s:b", "s:c", "s:x", "s:y"),
        when(date(2021, 6, 1), noon(date(2021, 6, 30)), "month"),
        PARAMS,
    )
    assert june.story_id == sanctions.story_id
    assert june.merged_from == ()
    assert store.story_of("landing") == landing.story_id != sanctions.story_id


def test_stories_within_a_week_of_each_other_still_merge_through_a_month_report(
    store: StoryStore,
) -> None:
    """The time check is the window's: two stories of one week, both inside the report's month,
    merge as before."""
    a = store.assign(
        "a", _sig("s:a", "s:b", "s:c"), when(date(2021, 6, 18), noon(date(2021, 6, 18))), PARAMS
    )
    b = store.assign(
        "b", _sig("s:x", "s:y", "s:z"), when(date(2021, 6, 21), noon(date(2021, 6, 21))), PARAMS
    )
    c = store.assign(
        "c",
        _sig("s:a", "s:b", "s:c", "s:x", "s:y", "s:z"),
        when(date(2021, 6, 1), noon(date(2021, 6, 30)), "month"),
        PARAMS,
    )
    assert c.story_id == a.story_id
    assert c.merged_from == (b.story_id,)


def test_a_month_precise_date_does_not_stretch_its_story_over_the_month(
    store: StoryStore,
) -> None:
    """The story of 1 March stays the story of 1 March when a «March» report joins it, so the
    same people on 25 March are another story."""
    sig = _sig("e:per:a", "e:org:x")
    first = store.assign("one", sig, when(date(2025, 3, 1)), PARAMS)
    month = store.assign("two", sig, when(date(2025, 3, 1), precision="month"), PARAMS)
    late = store.assign("three", sig, when(date(2025, 3, 25)), PARAMS)
    assert month.story_id == first.story_id
    assert late.story_id != first.story_id


def test_a_story_of_month_precise_reports_is_placed_by_their_month(store: StoryStore) -> None:
    sig = _sig("e:per:a", "e:org:x")
    month = store.assign("one", sig, when(date(2025, 3, 1), precision="month"), PARAMS)
    early_april = store.assign("two", sig, when(date(2025, 4, 5)), PARAMS)
    assert early_april.story_id == month.story_id
    other = _sig("e:per:b", "e:org:y")
    month_b = store.assign("three", other, when(date(2025, 3, 1), precision="month"), PARAMS)
    late_april = store.assign("four", other, when(date(2025, 4, 20)), PARAMS)
    assert late_april.story_id != month_b.story_id


def test_a_document_known_only_to_the_year_compares_by_time_received(store: StoryStore) -> None:
    sig = _sig("e:per:a", "e:org:x")
    first = store.assign("one", sig, when(date(2025, 3, 1), NOW), PARAMS)
    same_week = store.assign("two", sig, when(date(2025, 1, 1), NOW, "year"), PARAMS)
    assert same_week.story_id == first.story_id
    later = store.assign(
        "three", sig, when(date(2025, 1, 1), NOW + timedelta(days=30), "year"), PARAMS
    )
    assert later.story_id != first.story_id


def test_a_story_record_written_before_dates_had_precision_still_reads() -> None:
    """Redis keeps story records across an upgrade: one without ``periods`` or ``figures`` must
    load, and a record with them must keep them."""
    record = StoryRecord(id="s-a", seq=1, size=1, features={}, published=(1, 2))
    data = record.to_json()
    del data["periods"], data["figures"], data["members"], data["leads"], data["lead_days"]
    assert StoryRecord.from_json(data) == record
    full = StoryRecord(
        id="s-b",
        seq=2,
        size=1,
        features={},
        figures=["BYR:4930"],
        leads=[16.0],
        lead_days=[738042],
        periods=(3, 33),
    )
    assert StoryRecord.from_json(full.to_json()) == full


def test_a_near_duplicate_shares_its_originals_story_unless_a_fact_vetoes(
    store: StoryStore,
) -> None:
    original = store.assign("orig", signature_of(RATE_MONDAY, "ru"), when(), PARAMS)
    reprint = store.assign("copy", _sig("e:org:other"), when(), PARAMS, near_duplicate_of="orig")
    assert reprint.story_id == original.story_id
    next_day = store.assign(
        "next", signature_of(RATE_TUESDAY, "ru"), when(), PARAMS, near_duplicate_of="orig"
    )
    assert next_day.story_id != original.story_id


def test_seeds_000_and_001_share_a_story_and_002_does_not() -> None:
    """The issue's own example through the real enrich step: ru and de reports of one
    interview join; another event at the same fair (002) stays apart."""
    settings = Settings(index_url=":memory:")
    stores = local_stores()
    docs = {
        path.name[:3]: process_file(path, settings, stores, None).document
        for path in sorted(SEEDS.glob("00[012]_*.txt"))
    }
    stories = {name: doc.story_id for name, doc in docs.items() if doc is not None}
    assert stories["000"] is not None
    assert stories["000"] == stories["001"]
    assert stories["002"] != stories["000"]


def test_common_capitalised_words_are_no_unlinked_names() -> None:
    """English capitalises titles, weekdays and nationalities; as names they would only make a
    long English report look unlike its short Russian twin."""
    signature = signature_of(
        "On Monday the Russian President met the staff of Zhlobinmyaso in the city.", "en"
    )
    names = [key for key in signature.features if key.startswith("s:")]
    assert names == ["s:slbnm"]


def test_a_hyphenated_compound_is_keyed_by_the_name_before_the_hyphen() -> None:
    """German joins a short name to a noun with a hyphen («Wagner-Kämpfer», «Wagner-Söldner»);
    keyed whole, each compound ran on into the noun and got a key of its own that an English
    report naming «Wagner» alone never shares (stories version 13)."""
    german = signature_of("Am Samstag zogen die Wagner-Kämpfer und die Wagner-Söldner ab.", "de")
    english = signature_of("On Saturday the fighters of Wagner crossed the border.", "en")
    assert [key for key in german.features if key.startswith("s:")] == ["s:vgnr"]
    assert "s:vgnr" in english.features


def test_nationalities_are_no_unlinked_names() -> None:
    """«Belarusian» is in no English word list, so its rarity would pass it for a name; it is a
    language's name and a nationality, in every English report of Belarus news."""
    signature = signature_of(
        "The Belarusian rouble fell as Belarusians and Lithuanian traders met Zhlobinmyaso.", "en"
    )
    names = [key for key in signature.features if key.startswith("s:")]
    assert names == ["s:slbnm"]


def test_an_unlinked_name_meets_the_surname_of_a_person_named_in_full() -> None:
    """A report that names a person by surname alone, which the entity step does not take for a
    person («Bialiatski» with no first name), and a report naming them in full («Ales Bjaljazki»)
    share the surname: an English and a German report of one Nobel prize shared nothing else but
    «Lukashenko» (stories version 12)."""
    english = story_signature(
        "Nobel organizers called on Minsk to release Bialiatski.",
        language="en",
        entities=[],
        money=[],
    )
    person = Entity(
        text="Ales Bjaljazki",
        start=0,
        end=14,
        type="PER",
        normal="Ales Bjaljazki",
        id="per:ls-blck",
    )
    german = story_signature(
        "Ales Bjaljazki erhält den Friedensnobelpreis.", language="de", entities=[person], money=[]
    )
    assert english.features["s:blck"] == W_NAME
    assert german.features["s:blck"] == W_PERSON


def test_a_surname_keeps_its_key_under_a_case_ending() -> None:
    """Belarusian «Акрамя Ціханоўскага» (a genitive the entity step did not bring back to the
    nominative) and Russian «Сергея Тихановского» (brought back: «Тихановский») are one man, who
    was the only person besides the US envoy that a Belarusian and a Russian report of his
    release named alike."""
    assert person_feature("per:krm-tknvskg") == person_feature("per:srg-tknvsk")
    assert person_feature("per:dnld-trmp") == "s:trmp"


def test_a_long_list_of_sums_keeps_only_the_first_as_features() -> None:
    """A report listing twelve banks' rates must not outweigh what it shares with a short report
    of the same event: its first ``MAX_AMOUNTS`` sums (its lead's) are features, the rest only
    facts (which can still veto and corroborate)."""
    values = [36.57, 29.25, 37.4, 37.7, 38.5, 39.1, 40.2, 41.3]
    text = " ".join(f"{value} гривні." for value in values)
    money = []
    for value in values:
        start = text.index(f"{value} ")
        money.append(
            MoneyMention(
                text=f"{value} гривні", start=start, end=start + 10, amount=value, currency="UAH"
            )
        )
    signature = story_signature(text, language="uk", entities=[], money=list(reversed(money)))
    amounts = [key for key in signature.features if key.startswith("m:")]
    assert sorted(amounts) == sorted(amount_feature("UAH", value) for value in values[:MAX_AMOUNTS])
    assert "UAH:41.3" in signature.facts.figures


# --- the fast paths' data structures against their plain definitions -------------------------


def test_spans_cover_exactly_the_union_of_the_entities() -> None:
    """``unlinked_names`` asks by bisection whether an entity covers a word; overlapping,
    nested, touching and empty spans must give what testing every span gives."""
    rng = random.Random(7)
    for _ in range(500):
        spans = [
            (start, start + rng.randrange(0, 6))
            for start in (rng.randrange(0, 40) for _ in range(rng.randrange(0, 8)))
        ]
        covered = SpanUnion(spans)
        for position in range(-1, 50):
            assert covered.cover(position) == any(lo <= position < hi for lo, hi in spans)


def test_memory_postings_count_and_rank_recent_stories_as_a_scan_would() -> None:
    """The in-memory store's postings keep time order for bisection; after puts, moves and
    removals, each lookup must count and rank what a scan of every story gives (newest first,
    ties by story id, descending)."""
    rng = random.Random(11)
    postings, plain = TimeOrderedPostings(), dict[str, float]()
    for _ in range(3000):
        story = f"s{rng.randrange(60)}"
        if rng.random() < 0.2:
            postings.remove(story)
            plain.pop(story, None)
        else:
            seconds = float(rng.randrange(100))
            postings.put(story, seconds)
            plain[story] = seconds
        since = float(rng.randrange(110))
        recent = sorted(((t, s) for s, t in plain.items() if t >= since), reverse=True)
        expected = [s for _, s in recent[:POSTINGS_PER_FEATURE]]
        assert postings.count(since) == len(recent)
        assert postings.newest(since) == expected


def test_rarity_counts_the_window_while_candidates_reach_further_back() -> None:
    """A story 20 days old is still a candidate (a story reaches forward to a day its reports
    name as due), but it does not make its features common: rarity counts the window's stories
    only. Both stores read the same way."""
    old = noon(NOW.date() - timedelta(days=20))
    since = Since(
        counted=NOW.timestamp() - PARAMS.window_days * 86_400,
        candidates=old.timestamp() - 86_400,
    )
    memory = MemoryStories()
    redis_store = RedisStories(fakeredis.FakeRedis(server=fakeredis.FakeServer()), "test")
    for store in (memory, redis_store):
        first = store.assign("old", _sig("e:per:a", "e:org:x"), when(received=old), PARAMS)
    assert first.outcome == "new"
    lookups = [memory.begin("new", ["e:per:a", "e:org:x"], ["e:per:a"], since)]
    with _Session(redis_store.client) as session:
        txn = _RedisTransaction(redis_store, session, PARAMS.window_days)
        lookups.append(txn.begin("new", ["e:per:a", "e:org:x"], ["e:per:a"], since))
    for lookup in lookups:
        assert lookup.postings == {"e:per:a": [first.story_id]}
        assert lookup.counts == {}


def test_candidates_are_the_stories_whose_shared_features_weigh_most() -> None:
    """A story sharing the document's person outranks one sharing two of its subjects, however
    the lists are ordered: with room for one candidate, the person's story is it."""
    postings = {"s:lksnk": ["s-person"], "t:sanctions": ["s-subjects"], "t:oil": ["s-subjects"]}
    weights = {"s:lksnk": W_PERSON, "t:sanctions": 1.0, "t:oil": 1.0}
    assert top_candidates(postings, weights, limit=1) == ["s-person"]
    assert top_candidates(postings, weights) == ["s-person", "s-subjects"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Tuesday 23 September 2025: Thursday is two days ahead, Monday one day back.
        ("Die Übergänge könnten ab Donnerstag früh wieder passiert werden", NamedDate(9, 25, 2025)),
        ("Tusk said on Monday's cabinet meeting", NamedDate(9, 22, 2025)),
        ("Туск заявил в среду", NamedDate(9, 24, 2025)),
        ("Кордон відкриють у пʼятницю", NamedDate(9, 26, 2025)),
        ("Мяжу зачынілі ў нядзелю", NamedDate(9, 21, 2025)),
        ("Am Sonntagabend protestierten Tausende", NamedDate(9, 21, 2025)),
    ],
)
def test_weekdays_are_placed_by_the_published_day(text: str, expected: NamedDate) -> None:
    """News names the days of the week it reports by weekday; placed by the day the report was
    published, a German report of the border reopening «ab Donnerstag» names the 25 September
    an English one names as a date (dev de203, en203)."""
    assert [named for _, named in weekday_dates_at(text.lower(), date(2025, 9, 23))] == [expected]


def test_words_that_are_no_weekdays_name_no_day() -> None:
    """Russian «среда» is also the environment and «среде» the company one keeps; Ukrainian
    «серед» is «among»: none of them is Wednesday."""
    text = "Окружающую среду, в среде экспертов, среди них; серед них четверо".lower()
    assert weekday_dates_at(text, date(2025, 9, 23)) == []


def test_weekdays_are_dates_only_with_a_published_day() -> None:
    """Without the day a report was published a weekday places nothing."""
    assert named_dates("Польша откроет границу в четверг") == set()
    published = date(2025, 9, 23)
    assert named_dates("Польша откроет границу в четверг", published) == {NamedDate(9, 25, 2025)}
    assert lead_date("Polen öffnet am Donnerstag die Grenze", published) == NamedDate(9, 25, 2025)


def test_a_quoted_word_is_a_name_even_after_the_opening_quote() -> None:
    """A word alone between quotation marks is a name (a drill's, «Запад-2025»), not a quoted
    sentence's first word; German quotes a noun to name something by it («"Sapad"-Manöver»)."""
    text = "Учения «Запад-2025» начнутся. «Мы закроем границу», сказал он."
    drill = text.index("Запад")
    assert quoted_name(text, drill, drill + len("Запад-2025"))
    speech = text.index("Мы")
    assert not quoted_name(text, speech, speech + len("Мы"))
    german = signature_of('Wegen der "Sapad"-Manöver schließt Polen die Grenze.', "de")
    english = signature_of("Poland closed the border over the “Zapad” drills.", "en")
    assert "s:spd" in german.features.keys() & english.features.keys()


def test_the_lead_date_is_the_first_date_the_lead_names() -> None:
    """The report's own day comes first; the earlier event it follows up may come after it, in
    the lead too, and a date past the lead is background."""
    text = (
        "Путин и Лукашенко обсудили взаимодействие\n\nПрезиденты 14 сентября в ходе телефонных "
        "переговоров, в продолжение состоявшихся 9 сентября в Москве переговоров, обсудили ряд "
        "вопросов."
    )
    assert lead_date(text) == NamedDate(9, 14)
    assert lead_date("Без даты. " + "x" * LEAD_CHARS + " 9 сентября") is None


def _led(published: date, lead: NamedDate | None, *dates: NamedDate) -> tuple[
    StorySignature, DocumentTime
]:
    named = frozenset({*dates, *([lead] if lead else [])})
    return (
        StorySignature(_sig("s:a", "s:b").features, Facts(dates=named, lead_date=lead)),
        when(published, noon(published)),
    )


@pytest.mark.parametrize(
    ("first", "second", "joined"),
    [
        # A call on 14 September recalling the talks of the 9th: another event, four days on.
        (
            _led(date(2021, 9, 9), NamedDate(9, 9)),
            _led(date(2021, 9, 14), NamedDate(9, 14), NamedDate(9, 9)),
            False,
        ),
        # A report of the evening's talks published the next morning, leading with that day.
        (
            _led(date(2021, 9, 9), NamedDate(9, 9)),
            _led(date(2021, 9, 10), NamedDate(9, 10), NamedDate(9, 9)),
            True,
        ),
        # A later report leading with the event's own day, which the story did not name.
        (
            _led(date(2021, 9, 10), None),
            _led(date(2021, 9, 12), NamedDate(9, 9)),
            True,
        ),
        # A lead day after the report's own is a step planned («с 4 октября»), not its event.
        (
            _led(date(2023, 10, 2), NamedDate(10, 3)),
            _led(date(2023, 10, 3), NamedDate(10, 4), NamedDate(10, 3)),
            True,
        ),
        # The same two streamed the other way round: the story's report leads with the 14th,
        # after the talks' day, which the report of the talks does not name.
        (
            _led(date(2021, 9, 14), NamedDate(9, 14), NamedDate(9, 9)),
            _led(date(2021, 9, 9), NamedDate(9, 9)),
            False,
        ),
        # A day the story names is the story's, however late.
        (
            _led(date(2021, 9, 9), NamedDate(9, 9), NamedDate(9, 14)),
            _led(date(2021, 9, 14), NamedDate(9, 14), NamedDate(9, 9)),
            True,
        ),
    ],
)
def test_a_report_leading_with_a_day_after_its_story_starts_another(
    store: StoryStore,
    first: tuple[StorySignature, DocumentTime],
    second: tuple[StorySignature, DocumentTime],
    joined: bool,
) -> None:
    a, b = _assign_both(store, first, second)
    assert (b.story_id == a.story_id) is joined
    if not joined:
        assert "lead date" in b.vetoes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Документ підписали в ніч на 1 травня.", {(4, 30, None), (5, 1, None)}),
        ("Удар нанесли в ночь на 1 марта 2022 года.", {(2, 28, 2022), (3, 1, 2022)}),
        ("In der Nacht zum 12. September schloss Polen.", {(9, 11, None), (9, 12, None)}),
        ("In der Nacht auf den 1. Januar 2024.", {(12, 31, 2023), (1, 1, 2024)}),
        ("Подписали 1 мая, технічна нарада 2 мая.", {(5, 1, None), (5, 2, None)}),
    ],
)
def test_a_night_named_by_the_day_it_ends_on_names_the_day_before_too(
    text: str, expected: set[tuple[int, int, int | None]]
) -> None:
    """A signing late on 30 April in Washington is «в ніч на 1 травня» in Kyiv: a report that says
    so must share a day with one that says 30 April, or the date veto keeps them apart."""
    assert {(d.month, d.day, d.year) for d in named_dates(text)} == expected


def test_an_implied_institution_counts_as_an_organisation_named() -> None:
    """``implied`` ids (``country.implied_institutions``) are features as an organisation the
    text named would be."""
    signature = story_signature(
        "Die Notenbank wertet die Hrywnja ab.",
        language="de",
        entities=[],
        money=[],
        implied=["org:national-bank-ukraine"],
    )
    assert signature.features["e:org:national-bank-ukraine"] == W_ORG
