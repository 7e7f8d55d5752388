"""One search suite, run on both index backends: the embedded SQLite file and PostgreSQL.

Every test here takes the ``index`` fixture, which is parametrised over the two backends, so a
query, filter or facet means the same on either, or a test says which one differs. SQLite runs in
a temporary file; PostgreSQL in a schema of its own, created for this test run and dropped after
it (``NEWSFLOW_TEST_POSTGRES_URL``, by default the local server's ``test`` database). In CI
(``CI=true``) an unreachable PostgreSQL is a failure, elsewhere a skip.

Documents are built here with their languages, entities and money set explicitly, so the suite
tests the index, not the enrichers.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from services.index.backend import (
    IndexBackend,
    IndexSchemaError,
    SearchQuery,
    SearchResult,
    open_backend,
)
from services.index.postgres import _MIGRATIONS, SCHEMA_VERSION, PostgresIndex, parse_index_url
from services.index.query import parse, to_tsquery_text
from services.index.sqlite import SqliteIndex
from services.index.stemming import tokenize
from services.index.stories import StoriesQuery
from shared.errors import TransientError
from shared.messages import CurrencyRate, EnrichedDocument, Entity, EntityType, MoneyMention
from tests.conftest import TEST_POSTGRES_URL, with_schema

pytestmark = pytest.mark.integration

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
SEED_LANGUAGES = {"000": "ru", "001": "de", "002": "ru", "003": "ru", "004": "ru"}
BACKENDS = ["sqlite", "postgres"]


# --- documents ----------------------------------------------------------------------------------

# (text, type, normal form, id), as make_doc takes them.
NamedEntity = tuple[str, EntityType, str, str]


def make_doc(
    doc_id: str,
    title: str,
    paragraphs: list[str],
    language: str,
    *,
    published: date | None = None,
    entities: Sequence[NamedEntity] = (),
    money: Sequence[tuple[str, float, str]] = (),
    cluster_id: str | None = None,
    receipt: str = "receipt-1",
    enrichers: dict[str, str] | None = None,
) -> EnrichedDocument:
    """A document as enrich would hand it over; ``entities`` are (text, type, normal, id) and
    ``money`` (text, amount, currency), each located in the document text by its first match."""
    text = "\n\n".join([title, *paragraphs])

    def span(surface: str) -> tuple[int, int]:
        start = text.find(surface)
        assert start >= 0, f"{surface!r} is not in {doc_id}"
        return start, start + len(surface)

    return EnrichedDocument(
        receipt=receipt,
        source="cli",
        filename=f"{doc_id}.txt",
        received_at=datetime(2025, 10, 1, 12, 0, tzinfo=UTC),
        size=len(text),
        encoding="utf-8",
        id=doc_id,
        title=title,
        paragraphs=paragraphs,
        published=published,
        language=language,
        language_confidence=0.99,
        cluster_id=cluster_id if cluster_id is not None else doc_id,
        entities=[
            Entity(
                text=surface,
                start=span(surface)[0],
                end=span(surface)[1],
                type=kind,
                normal=normal,
                id=entity_id,
            )
            for surface, kind, normal, entity_id in entities
        ],
        money=[
            MoneyMention(
                text=surface,
                start=span(surface)[0],
                end=span(surface)[1],
                amount=amount,
                currency=currency,
            )
            for surface, amount, currency in money
        ],
        enrichers=enrichers or {"language": "1.0", "entities": "1.0"},
    )


def seed_doc(prefix: str) -> EnrichedDocument:
    """Read a seed file as a document: header line dropped, first line title, rest paragraphs."""
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line and not line.startswith("date ")]
    return make_doc(f"seed-{prefix}", lines[0], lines[1:], SEED_LANGUAGES[prefix])


LUKASHENKO_RU: NamedEntity = ("Лукашенко", "PER", "Александр Лукашенко", "per:lukashenko")
PUTIN_RU: NamedEntity = ("Путиным", "PER", "Владимир Путин", "per:putin")
MINSK_RU: NamedEntity = ("Минске", "LOC", "Минск", "geonames:625144")
BELARUS_RU: NamedEntity = ("Беларуси", "LOC", "Беларусь", "BY")


def news() -> list[EnrichedDocument]:
    """Six short articles in four languages; ru-talks-2 is a near-duplicate of ru-talks-1."""
    return [
        make_doc(
            "ru-talks-1",
            "Лукашенко провёл переговоры с Путиным в Минске",
            ["Стороны обсудили кредит Беларуси на 1,5 млрд долларов и поставки газа."],
            "ru",
            published=date(2025, 10, 1),
            entities=[LUKASHENKO_RU, PUTIN_RU, MINSK_RU, BELARUS_RU],
            money=[("1,5 млрд долларов", 1.5e9, "USD")],
        ),
        make_doc(
            "ru-talks-2",
            "Лукашенко и Путин провели переговоры в Минске",
            ["Стороны обсудили кредит Беларуси на 1,5 млрд долларов и поставки газа. Подробнее."],
            "ru",
            published=date(2025, 10, 2),
            entities=[
                ("Лукашенко", "PER", "Александр Лукашенко", "per:lukashenko"),
                ("Путин", "PER", "Владимир Путин", "per:putin"),
                MINSK_RU,
                BELARUS_RU,
            ],
            money=[("1,5 млрд долларов", 1.5e9, "USD")],
            cluster_id="ru-talks-1",
        ),
        make_doc(
            "de-park",
            "Neuer Technologiepark in Minsk eröffnet",
            ["Der Hightech-Park investiert 20 Millionen Euro in neue Labore."],
            "de",
            published=date(2025, 9, 29),
            entities=[
                ("Minsk", "LOC", "Minsk", "geonames:625144"),
                ("Hightech-Park", "ORG", "Hightech-Park", "org:htp"),
            ],
            money=[("20 Millionen Euro", 2e7, "EUR")],
        ),
        make_doc(
            "en-trade",
            "Belarus and Russia sign a trade deal",
            ["Alexander Lukashenko said the deal is worth $2 billion over five years."],
            "en",
            published=date(2025, 9, 15),
            entities=[
                ("Belarus", "LOC", "Belarus", "BY"),
                ("Russia", "LOC", "Russia", "RU"),
                ("Alexander Lukashenko", "PER", "Alexander Lukashenko", "per:lukashenko"),
            ],
            money=[("$2 billion", 2e9, "USD")],
        ),
        make_doc(
            "ru-rate",
            "Нацбанк установил курс рубля",
            [
                "Нацбанк Беларуси установил курс: 100 российских рублей"
                " стоят 3,6 белорусского рубля."
            ],
            "ru",
            entities=[("Нацбанк", "ORG", "Национальный банк", "org:nbrb")],
            money=[("100 российских рублей", 100.0, "RUB"), ("3,6 белорусского рубля", 3.6, "BYN")],
        ),
        make_doc(
            "fr-parc",
            "Le parc technologique de Minsk",
            ["Un nouveau parc ouvre ses portes."],
            "fr",
            published=date(2025, 8, 1),
        ),
    ]


# --- backends -----------------------------------------------------------------------------------


def _empty_postgres(url: str) -> None:
    conninfo, schema = parse_index_url(url)
    assert schema is not None
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            sql.SQL("TRUNCATE {}.documents, {}.story_aliases").format(
                sql.Identifier(schema), sql.Identifier(schema)
            )
        )


@pytest.fixture(params=BACKENDS)
def index_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty index on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'index.db'}"
    url: str = request.getfixturevalue("postgres_url")
    PostgresIndex(url).close()  # creates the schema on first use
    _empty_postgres(url)
    return url


@pytest.fixture
def index(index_url: str) -> Iterator[IndexBackend]:
    backend = open_backend(index_url)
    with backend:
        yield backend


@pytest.fixture
def newsroom(index: IndexBackend) -> IndexBackend:
    assert index.upsert_many(news()) == 6
    return index


@pytest.fixture
def seeded(index: IndexBackend) -> IndexBackend:
    for prefix in SEED_LANGUAGES:
        index.upsert(seed_doc(prefix))
    return index


def find(index: IndexBackend, q: str = "", **filters: Any) -> list[str]:
    """The ids a search returns, in order."""
    return [hit.id for hit in index.search(SearchQuery(q=q, **filters)).hits]


def found(index: IndexBackend, q: str = "", **filters: Any) -> set[str]:
    return set(find(index, q, limit=100, **filters))


# --- stemming on the real seeds -----------------------------------------------------------------


def test_russian_query_finds_seeds_with_other_inflections(seeded: IndexBackend) -> None:
    """«технопарк» must find seed 000, which only has other forms («технопарков», «технопарки»)."""
    assert "технопарк" not in tokenize(seed_doc("000").text)
    assert found(seeded, "технопарк") == {"seed-000", "seed-003"}


def test_russian_inflected_query_finds_seed_with_the_base_form(seeded: IndexBackend) -> None:
    """«технопарков» must find seed 003, which only contains «Технопарк»."""
    words = tokenize(seed_doc("003").text)
    assert "технопарк" in words
    assert "технопарков" not in words
    assert found(seeded, "технопарков") == {"seed-000", "seed-003"}


def test_german_query_finds_german_seed_with_plural_form(seeded: IndexBackend) -> None:
    """«Technologiepark» must find the German seed, which only says «Technologieparks»."""
    assert find(seeded, "Technologiepark") == ["seed-001"]


def test_german_plural_query_finds_document_with_singular(seeded: IndexBackend) -> None:
    """«Technologieparks» must find a German document that only says «Technologiepark»."""
    seeded.upsert(make_doc("de-singular", "Neuer Technologiepark", ["Er wächst."], "de"))
    assert found(seeded, "Technologieparks") == {"seed-001", "de-singular"}


def test_seed_hit_snippet_highlights_the_original_words(seeded: IndexBackend) -> None:
    """The snippet must show the article's own word forms, bracketed, not the stored stems."""
    (hit,) = [hit for hit in seeded.search(SearchQuery(q="технопарк")).hits if hit.id == "seed-000"]
    assert "[технопарков]" in hit.snippet
    assert hit.title.startswith('"За этим будущее"')
    assert hit.language == "ru"


def test_english_documents_are_found_by_other_inflections(index: IndexBackend) -> None:
    """English documents are stemmed as English: "park running" finds "parks ... runs"."""
    index.upsert(make_doc("en-1", "City parks", ["The tram runs past three parks."], "en"))
    assert find(index, "park running") == ["en-1"]


def test_yo_and_ie_spellings_find_each_other(index: IndexBackend) -> None:
    """Russian writers drop the dots on ё at will; both spellings must find the document."""
    index.upsert(make_doc("yo", "Ёлка на площади", ["Установлена ёлка."], "ru"))
    assert find(index, "елка") == ["yo"]
    assert find(index, "Ёлки") == ["yo"]


def test_belarusian_word_forms_find_each_other(index: IndexBackend) -> None:
    """Belarusian has no Snowball stemmer: «тэхнапарк» must still find «тэхнапаркаў»."""
    index.upsert(
        make_doc("be-1", "Рэзідэнты тэхнапаркаў", ["Экспарт паслуг рэзідэнтаў вырас."], "be")
    )
    index.upsert(make_doc("be-2", "Новы тэхнапарк", ["У Мінску адкрыўся тэхнапарк."], "be"))
    assert find(index, "тэхнапарк", collapse=False) == ["be-2", "be-1"]
    assert found(index, "ТЭХНАПАРКАМІ") == {"be-1", "be-2"}
    assert found(index, '"рэзідэнты тэхнапарка"') == {"be-1"}
    (hit,) = index.search(SearchQuery(q="тэхнапарк", lang="be", limit=1)).hits
    assert "[тэхнапарк]" in hit.snippet


def test_ukrainian_word_forms_find_each_other(index: IndexBackend) -> None:
    """«Київ» must find «Києві» (pymorphy3 reads it first as a form of «кий»), and back."""
    index.upsert(make_doc("uk-1", "Форум у Києві", ["Учасники зібралися в Києві."], "uk"))
    index.upsert(make_doc("uk-2", "Курс гривні", ["Курс гривні до долара зріс."], "uk"))
    assert find(index, "Київ") == ["uk-1"]
    assert find(index, "києва") == ["uk-1"]
    assert find(index, "гривня") == ["uk-2"]
    assert find(index, "гривень -Київ") == ["uk-2"]
    assert found(index, '"у Києві"') == {"uk-1"}
    (hit,) = index.search(SearchQuery(q="Київ")).hits
    assert "[Києві]" in hit.snippet


def test_unstemmed_languages_match_the_word_in_any_case(index: IndexBackend) -> None:
    """Documents in languages without a stemmer must still be found by their words."""
    index.upsert(make_doc("fr", "Les parcs technologiques", ["Un nouveau parc."], "fr"))
    assert find(index, "TECHNOLOGIQUES") == ["fr"]


# --- the query language -------------------------------------------------------------------------


def test_all_words_must_match(newsroom: IndexBackend) -> None:
    """Words are ANDed: adding a word narrows the results."""
    assert found(newsroom, "Minsk", collapse=False) == {"de-park", "fr-parc"}
    assert found(newsroom, "Minsk Technologiepark") == {"de-park"}
    assert found(newsroom, "Minsk Berlin") == set()


def test_quoted_phrase_needs_the_words_together_and_in_order(index: IndexBackend) -> None:
    """ "кластер технопарков" is a phrase: both words in a row, in any inflection."""
    index.upsert(make_doc("together", "Кластер", ["Создадут кластер технопарков."], "ru"))
    index.upsert(make_doc("apart", "Технопарки", ["Технопарки войдут в кластер."], "ru"))
    assert found(index, "кластер технопарков") == {"together", "apart"}
    assert found(index, '"кластер технопарков"') == {"together"}
    assert found(index, '"кластера технопарка"') == {"together"}
    assert found(index, '"технопарков кластер"') == set()


def test_minus_excludes_a_word(newsroom: IndexBackend) -> None:
    """-word drops the documents that contain it, in any inflection."""
    assert found(newsroom, "переговоры", collapse=False) == {"ru-talks-1", "ru-talks-2"}
    assert found(newsroom, "переговоры -подробнее", collapse=False) == {"ru-talks-1"}
    assert found(newsroom, "переговоры -Путин", collapse=False) == set()


def test_minus_excludes_a_phrase(newsroom: IndexBackend) -> None:
    """-"a phrase" drops only documents with the words together."""
    assert found(newsroom, 'Minsk -"parc technologique"') == {"de-park"}
    assert found(newsroom, 'Minsk -"technologique parc"') == {"de-park", "fr-parc"}


def test_or_takes_either_alternative(newsroom: IndexBackend) -> None:
    """OR between two words finds documents with either."""
    assert found(newsroom, "Technologiepark OR Нацбанк") == {"de-park", "ru-rate"}
    assert found(newsroom, "technologiepark or нацбанк") == {"de-park", "ru-rate"}


def test_and_binds_tighter_than_or(newsroom: IndexBackend) -> None:
    """ "a b OR c" is (a AND b) OR c, as in PostgreSQL's websearch_to_tsquery."""
    assert found(newsroom, "Minsk parc OR Нацбанк") == {"fr-parc", "ru-rate"}
    assert found(newsroom, "Нацбанк OR Minsk parc") == {"fr-parc", "ru-rate"}


def test_only_excluding_lists_everything_else(newsroom: IndexBackend) -> None:
    """ "-word" alone is every document without the word, newest first."""
    assert find(newsroom, "-Minsk -Минске") == ["en-trade", "ru-rate"]


def test_or_with_an_excluded_alternative(newsroom: IndexBackend) -> None:
    """ "a OR -b": documents with a, and every document without b."""
    assert found(newsroom, "Нацбанк OR -Minsk") == {"ru-talks-2", "en-trade", "ru-rate"}


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "AND",
        "OR",
        "NOT",
        "*",
        "NEAR(",
        "NEAR(a b, 2)",
        "-",
        "(",
        ")",
        "^",
        "'",
        ":",
        "title:x",
        '"unbalanced',
        "a OR",
        "AND AND",
        "{title body}: x",
        'технопарк"',
        "-технопарк",
        "a:*",
        "!!",
        "a & b | !c <-> d",
        "\\",
        "''",
        "x OR -",
        '-""',
        "OR OR OR",
        "a:A:B",
        "\x01",
        "ü" * 500,
        "слово " * 200,
    ],
)
def test_hostile_queries_never_raise(seeded: IndexBackend, query: str) -> None:
    """User input goes straight into the search box; syntax in it must never be an error."""
    result = seeded.search(SearchQuery(q=query))
    assert result.total >= len(result.hits)


def test_operators_around_real_words_are_ignored(seeded: IndexBackend) -> None:
    """Parentheses, stars and stray quotes around a word must not stop it from being found."""
    assert found(seeded, "(технопарк*) !") == {"seed-000", "seed-003"}


@pytest.mark.parametrize("query", ['"', "*", "()", "^", ":", '""', "- -", "-!"])
def test_queries_without_words_find_nothing(seeded: IndexBackend, query: str) -> None:
    """A query of punctuation alone is not a blank query: it matches nothing, it lists nothing."""
    assert seeded.search(SearchQuery(q=query)) == SearchResult(total=0, hits=[])


# --- ranking, paging, hits ----------------------------------------------------------------------


def test_title_hit_ranks_above_body_only_hit(index: IndexBackend) -> None:
    """A headline about the topic says more than a passing mention in the body."""
    body = make_doc(
        "body", "Wirtschaftsnachrichten", ["Es ging um den Technopark von Minsk."], "de"
    )
    title = make_doc("title", "Technopark eröffnet", ["Heute wurde eine Anlage eröffnet."], "de")
    index.upsert(body)
    index.upsert(title)
    hits = index.search(SearchQuery(q="Technopark")).hits
    assert [hit.id for hit in hits] == ["title", "body"]
    assert hits[0].score > hits[1].score


def test_hits_are_sorted_by_descending_score(seeded: IndexBackend) -> None:
    """Score is higher-is-better, and the list comes best first."""
    hits = seeded.search(SearchQuery(q="Беларусь")).hits
    assert len(hits) >= 2
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)


def test_limit_and_offset_page_through_a_stable_order_with_the_total(
    newsroom: IndexBackend,
) -> None:
    """Pages must neither repeat nor skip a hit, and every page must tell the full count."""
    everything = find(newsroom, collapse=False, limit=100)
    assert len(everything) == 6
    pages = [
        newsroom.search(SearchQuery(collapse=False, limit=4, offset=offset)) for offset in (0, 4, 8)
    ]
    assert [page.total for page in pages] == [6, 6, 6]
    assert [hit.id for page in pages for hit in page.hits] == everything
    assert pages[2].hits == []


def test_blank_query_lists_documents_newest_first_undated_last(newsroom: IndexBackend) -> None:
    """An empty search box with filters is a listing: newest first, undated at the end."""
    assert find(newsroom, collapse=False, limit=100) == [
        "ru-talks-2",
        "ru-talks-1",
        "de-park",
        "en-trade",
        "fr-parc",
        "ru-rate",
    ]


def test_hit_carries_what_a_result_list_shows(newsroom: IndexBackend) -> None:
    """Title, date, language, highlighted snippet, entities, money and cluster, all intact."""
    (hit,) = newsroom.search(SearchQuery(q="Technologieparks")).hits
    expected = next(doc for doc in news() if doc.id == "de-park")
    assert hit.id == "de-park"
    assert hit.title == expected.title
    assert hit.published == date(2025, 9, 29)
    assert hit.language == "de"
    assert hit.snippet == "Neuer [Technologiepark] in Minsk eröffnet"
    assert hit.entities == expected.entities
    assert hit.money == expected.money
    assert hit.cluster_id == "de-park"
    assert hit.score > 0


def test_snippet_does_not_mark_excluded_words(newsroom: IndexBackend) -> None:
    """Brackets say why a document matched; an excluded word never is the reason."""
    (hit,) = [
        hit
        for hit in newsroom.search(SearchQuery(q="Labore OR -Minsk")).hits
        if hit.id == "de-park"
    ]
    assert "[Labore]" in hit.snippet
    assert "[Minsk]" not in hit.snippet


# --- filters ------------------------------------------------------------------------------------


def test_language_filter_keeps_only_that_language(index: IndexBackend) -> None:
    """A reader who asks for German results must not get Russian ones that share a Latin word."""
    index.upsert(make_doc("de", "INNOPROM in Minsk", ["Die Messe INNOPROM."], "de"))
    index.upsert(make_doc("ru", "ИННОПРОМ", ["Выставка INNOPROM в Минске."], "ru"))
    assert found(index, "innoprom") == {"de", "ru"}
    assert find(index, "innoprom", lang="de") == ["de"]
    assert find(index, "innoprom", lang="RU") == ["ru"]
    assert find(index, "innoprom", lang="en") == []


def test_published_range_is_inclusive_and_drops_undated(newsroom: IndexBackend) -> None:
    """since/until are whole days, both ends included; an undated document is in no range."""
    assert found(newsroom, since=date(2025, 9, 29), until=date(2025, 10, 1), collapse=False) == {
        "de-park",
        "ru-talks-1",
    }
    assert found(newsroom, since=date(2025, 10, 2)) == {"ru-talks-2"}
    assert found(newsroom, until=date(2025, 8, 1)) == {"fr-parc"}


def test_entity_filter_by_id_crosses_languages(newsroom: IndexBackend) -> None:
    """An entity id is the same in every language: BY finds Russian and English articles."""
    assert found(newsroom, entity="BY", collapse=False) == {"ru-talks-1", "ru-talks-2", "en-trade"}
    assert found(newsroom, entity="per:lukashenko") == {"ru-talks-2", "en-trade"}


def test_entity_filter_by_name_matches_normal_form_and_text_in_any_case(
    newsroom: IndexBackend,
) -> None:
    """People type names: the normal form or the form in the text, in any case and in any
    script, all work («минск» finds the German «Minsk», «Lukashenko» the Russian articles)."""
    minsk = {"ru-talks-1", "ru-talks-2", "de-park"}
    assert found(newsroom, entity="минск", collapse=False) == minsk
    assert found(newsroom, entity="МИНСКЕ", collapse=False) == minsk
    assert found(newsroom, entity="Minsk", collapse=False) == minsk
    assert found(newsroom, entity="alexander  LUKASHENKO", collapse=False) == {
        "ru-talks-1", "ru-talks-2", "en-trade",
    }  # fmt: skip
    assert found(newsroom, entity="Александр Лукашенко") == {"ru-talks-2", "en-trade"}
    assert found(newsroom, entity="Берлин") == set()


def test_entity_name_in_another_language_finds_the_person_everywhere(index: IndexBackend) -> None:
    """«Лазаревич», «Lasarewitsch» and the Belarusian «Лазарэвіч», in any case, each find every
    article that names her, whatever language the article is in."""
    index.upsert_many(
        [
            make_doc("ru", "Лазаревич о технопарке", ["Надежда Лазаревич рассказала."], "ru",
                     entities=[("Надежда Лазаревич", "PER", "Надежда Лазаревич",
                                "per:ndsd-lsrvc")]),
            make_doc("de", "Technopark", ["Nadeschda Lasarewitsch sagte."], "de",
                     entities=[("Nadeschda Lasarewitsch", "PER", "Nadeschda Lasarewitsch",
                                "per:ndsd-lsrvc")]),
            make_doc("ru-other", "Лукашенко", ["Александр Лукашенко сказал."], "ru",
                     entities=[("Александр Лукашенко", "PER", "Александр Лукашенко",
                                "per:lksndr-lksnk")]),
        ]
    )  # fmt: skip
    for name in ("Лазаревич", "лазаревича", "Lasarewitsch", "LAZAREVICH", "Лазарэвіч"):
        assert found(index, entity=name) == {"ru", "de"}, name
        assert found(index, entity=name, type="PER") == {"ru", "de"}, name
        assert found(index, entity=name, type="ORG") == set(), name
    # Every word must meet: the first name too, in the Russian form the id is built from.
    assert found(index, entity="Надежда Лазарэвіч") == {"ru", "de"}
    assert found(index, entity="Александр Лазаревич") == set()


def test_entity_name_resolves_to_its_id_and_finds_articles_naming_it_otherwise(
    index: IndexBackend,
) -> None:
    """«Нацбанк» shares no letter with «National Bank»: the name resolves to the id the
    Russian article gives it, and the id finds the English article too; «National Bank» finds
    the Russian one the same way. A name of another type resolves to nothing of this one."""
    index.upsert_many(
        [
            make_doc("ru", "Нацбанк снизил ставку", ["Решение принял Нацбанк."], "ru",
                     entities=[("Нацбанк", "ORG", "Национальный банк", "org:nbrb")]),
            make_doc("en", "Rate cut", ["The National Bank of Belarus cut its rate."], "en",
                     entities=[("National Bank of Belarus", "ORG", "National Bank of Belarus",
                                "org:nbrb")]),
            make_doc("other", "Банк", ["Другой банк."], "ru",
                     entities=[("банк", "ORG", "Банк", "org:other-bank")]),
        ]
    )  # fmt: skip
    assert found(index, entity="нацбанк") == {"ru", "en"}
    assert found(index, entity="National Bank of Belarus", type="ORG") == {"ru", "en"}
    assert found(index, entity="Нацбанк", type="PER") == set()
    assert index.entity_ids(SearchQuery(entity="НАЦБАНКА")) == ["org:nbrb"]


def test_entity_filter_with_a_type_needs_that_entity_with_that_type(
    newsroom: IndexBackend,
) -> None:
    """entity=Minsk type=ORG must not match the place Minsk."""
    assert found(newsroom, entity="Minsk", type="LOC", lang="de") == {"de-park"}
    assert found(newsroom, entity="Minsk", type="LOC", collapse=False) == {
        "de-park", "ru-talks-1", "ru-talks-2",
    }  # fmt: skip
    assert found(newsroom, entity="Minsk", type="ORG") == set()
    assert found(newsroom, entity="org:htp", type="ORG") == {"de-park"}


def test_type_filter_keeps_documents_with_such_an_entity(newsroom: IndexBackend) -> None:
    """type=ORG lists the articles that name an organisation."""
    assert found(newsroom, type="ORG") == {"de-park", "ru-rate"}


def test_currency_and_money_filters(newsroom: IndexBackend) -> None:
    """currency needs a mention in that currency; has_money any mention (or none)."""
    assert found(newsroom, currency="usd", collapse=False) == {
        "ru-talks-1",
        "ru-talks-2",
        "en-trade",
    }
    assert found(newsroom, currency="BYN") == {"ru-rate"}
    assert found(newsroom, currency="JPY") == set()
    assert found(newsroom, has_money=True) == {"ru-talks-2", "de-park", "en-trade", "ru-rate"}
    assert found(newsroom, has_money=False) == {"fr-parc"}


def _with_rates(doc: EnrichedDocument, *rates: tuple[str | None, str, str]) -> EnrichedDocument:
    """``doc`` quoting ``rates`` (base, quote, text), each located by its first match."""
    text = doc.text
    return doc.model_copy(
        update={
            "rates": [
                CurrencyRate(
                    base=base,
                    quote=quote,
                    value=1.0,
                    text=surface,
                    start=text.find(surface) if base else None,
                    end=text.find(surface) + len(surface) if base else None,
                )
                for base, quote, surface in rates
            ]
        }
    )


def test_rate_filter_finds_documents_quoting_the_pair(index: IndexBackend) -> None:
    """--rate USD/BYN: documents quoting that rate, whichever way it was written; /BYN is a
    rate whose base is not written (the header line's); a document re-stored without the rate
    no longer matches."""
    docs = {doc.id: doc for doc in news()}
    rated = _with_rates(
        docs["ru-rate"], ("RUB", "BYN", "100 российских рублей стоят 3,6 белорусского рубля")
    )
    headed = _with_rates(docs["ru-talks-1"], (None, "BYN", "3.69 BYN"), ("USD", "BYN", "кредит"))
    index.upsert_many([rated, headed, docs["en-trade"]])
    assert found(index, rate="RUB/BYN") == {"ru-rate"}
    assert found(index, rate="usd/byn") == {"ru-talks-1"}
    assert found(index, rate="/BYN") == {"ru-talks-1"}
    assert found(index, rate="EUR/BYN") == set()
    assert found(index, "кредит", rate="USD/BYN", lang="ru") == {"ru-talks-1"}
    index.upsert(docs["ru-talks-1"])
    assert found(index, rate="USD/BYN") == set()


@pytest.mark.parametrize("rate", ["USD", "USD/", "US/BYN", "USD-BYN", "USD/BYN/EUR"])
def test_a_rate_filter_is_a_pair_of_codes(rate: str) -> None:
    """Anything but BASE/QUOTE is refused before it reaches a backend."""
    with pytest.raises(ValueError, match="BASE/QUOTE"):
        SearchQuery(rate=rate)


def test_filters_combine_with_the_query(newsroom: IndexBackend) -> None:
    """Text, language, dates, entity and money narrow together."""
    assert found(
        newsroom,
        "кредит",
        lang="ru",
        entity="BY",
        currency="USD",
        since=date(2025, 10, 1),
        collapse=False,
    ) == {"ru-talks-2", "ru-talks-1"}
    assert find(newsroom, "кредит", until=date(2025, 10, 1)) == ["ru-talks-1"]


# --- near-duplicates ----------------------------------------------------------------------------


def test_near_duplicates_collapse_to_the_best_ranked_one(newsroom: IndexBackend) -> None:
    """One story reported twice is one hit: the copy that ranks best, and total counts it once."""
    collapsed = newsroom.search(SearchQuery(q="переговоры Путиным"))
    assert collapsed.total == 1
    (hit,) = collapsed.hits
    everything = newsroom.search(SearchQuery(q="переговоры Путиным", collapse=False))
    assert everything.total == 2
    assert hit == everything.hits[0]
    assert hit.cluster_id == "ru-talks-1"


def test_collapsing_keeps_the_member_that_passes_the_filters(newsroom: IndexBackend) -> None:
    """Filters apply before collapsing: a filter that excludes one copy shows the other."""
    assert find(newsroom, "переговоры", since=date(2025, 10, 2)) == ["ru-talks-2"]
    assert find(newsroom, "переговоры", until=date(2025, 10, 1)) == ["ru-talks-1"]


# --- stories ------------------------------------------------------------------------------------


def in_story(
    doc: EnrichedDocument,
    story_id: str,
    *,
    similarity: float | None = None,
    merged_from: Sequence[str] = (),
    version: str = "1",
) -> EnrichedDocument:
    """``doc`` as enrich hands it over once it has been assigned to ``story_id``."""
    return doc.model_copy(
        update={
            "story_id": story_id,
            "story_similarity": similarity,
            "story_merged_from": list(merged_from),
            "enrichers": {**doc.enrichers, "stories": version},
        }
    )


def story_news() -> list[EnrichedDocument]:
    """Three stories: the talks (ru, its ru copy, en), the Minsk park in German and in French
    (not yet joined); the rate report was indexed before stories existed and has none."""
    docs = {doc.id: doc for doc in news()}
    return [
        in_story(docs["ru-talks-1"], "s-talks"),
        in_story(docs["ru-talks-2"], "s-talks", similarity=0.9),
        in_story(docs["en-trade"], "s-talks", similarity=0.4),
        in_story(docs["de-park"], "s-park"),
        in_story(docs["fr-parc"], "s-parc"),
        docs["ru-rate"],
    ]


def test_story_filter_and_one_hit_per_story(index: IndexBackend) -> None:
    """--story keeps one story's documents; --collapse story shows each story once."""
    index.upsert_many(story_news())
    assert found(index, story="s-talks", collapse=False) == {"ru-talks-1", "ru-talks-2", "en-trade"}
    assert found(index, story="s-none") == set()
    per_story = index.search(SearchQuery(collapse_story=True, limit=100))
    assert per_story.total == 4  # three stories, and the rate report on its own
    # The best-ranked report of the story stands for it (ranking is each backend's own).
    (hit,) = find(index, "переговоры", collapse_story=True)
    assert hit in {"ru-talks-1", "ru-talks-2"}


def test_a_merged_story_id_resolves_to_the_survivor_everywhere(index: IndexBackend) -> None:
    """A document that merged s-parc into s-park: the filter, the views and resolve take the old
    id to the story it is now part of, and its documents (still carrying s-parc) are in it."""
    index.upsert_many(story_news())
    merger = make_doc("de-merger", "Der Park in Minsk", ["Der Park öffnet."], "de")
    index.upsert(in_story(merger, "s-park", similarity=0.7, merged_from=["s-parc"]))
    assert index.resolve_story("s-parc") == "s-park"
    assert found(index, story="s-parc") == found(index, story="s-park") != set()
    assert "fr-parc" in found(index, story="s-park")
    detail = index.story("s-parc")
    assert detail is not None
    assert detail.id == "s-park"
    assert detail.merged_ids == ["s-parc"]
    assert {doc.id for doc in detail.documents} >= {"de-park", "fr-parc", "de-merger"}
    assert index.search(SearchQuery(collapse_story=True, q="parc")).total == 1


def test_alias_chains_resolve_to_the_final_survivor(index: IndexBackend) -> None:
    index.upsert(in_story(make_doc("a", "Alpha", ["Alpha."], "en"), "s-a"))
    index.upsert(in_story(make_doc("b", "Beta", ["Beta."], "en"), "s-b", merged_from=["s-a"]))
    index.upsert(in_story(make_doc("c", "Gamma", ["Gamma."], "en"), "s-c", merged_from=["s-b"]))
    assert index.resolve_story("s-a") == "s-c"
    assert found(index, story="s-a") == {"a", "b", "c"}


def test_a_new_stories_version_keeps_the_old_id_resolving(index: IndexBackend) -> None:
    """Re-enrichment under a new stories version gives new ids; the ids users saw resolve."""
    old = in_story(make_doc("x", "Xenon", ["Xenon."], "en"), "s-old", version="1")
    index.upsert(old)
    index.upsert(in_story(old, "s-new", version="2"))
    assert index.resolve_story("s-old") == "s-new"
    assert found(index, story="s-old") == {"x"}
    # A rolled-back version: the id it gives is live again, and the other one resolves to it.
    index.upsert(in_story(old, "s-old", version="1"))
    assert index.resolve_story("s-old") == "s-old"
    assert index.resolve_story("s-new") == "s-old"
    # The same version giving another id is not a re-assignment and records nothing.
    index.upsert(in_story(make_doc("y", "Yttrium", ["Y."], "en"), "s-y1", version="2"))
    index.upsert(in_story(make_doc("y", "Yttrium", ["Y."], "en"), "s-y2", version="2"))
    assert index.resolve_story("s-y1") == "s-y1"


def test_stories_list_sizes_languages_span_entities_and_titles(index: IndexBackend) -> None:
    index.upsert_many(story_news())
    listed = {story.id: story for story in index.stories(StoriesQuery())}
    talks = listed["s-talks"]
    assert talks.size == 3
    assert talks.languages == {"ru": 2, "en": 1}
    assert talks.titles["ru"] == "Лукашенко провёл переговоры с Путиным в Минске"
    assert talks.entities[0].type == "PER"
    assert {entity.id for entity in talks.entities} >= {"per:lukashenko", "per:putin"}
    assert talks.first_seen is not None
    assert talks.last_seen is not None
    assert talks.first_seen <= talks.last_seen
    assert [story.id for story in index.stories(StoriesQuery(min_size=2))] == sorted(
        (sid for sid, story in listed.items() if story.size >= 2),
        key=lambda sid: (-(listed[sid].last_seen or date.min).toordinal(), -listed[sid].size, sid),
    )
    assert {story.id for story in index.stories(StoriesQuery(lang="fr"))} == {"s-parc"}
    assert set(listed) == {"s-talks", "s-park", "s-parc"}
    assert len(index.stories(StoriesQuery(limit=1))) == 1
    latest = max(story.last_seen for story in listed.values() if story.last_seen)
    assert {story.id for story in index.stories(StoriesQuery(since=latest))} == {
        sid for sid, story in listed.items() if story.last_seen == latest
    }
    assert index.story("s-none") is None


# --- facets -------------------------------------------------------------------------------------


def test_facets_count_the_filtered_results_before_the_limit(newsroom: IndexBackend) -> None:
    """Facets describe everything the query found, not just the page shown."""
    result = newsroom.search(SearchQuery(facets=True, collapse=False, limit=1))
    assert result.total == 6
    assert len(result.hits) == 1
    facets = result.facets
    assert facets is not None
    assert [(f.value, f.count) for f in facets.language] == [
        ("ru", 3),
        ("de", 1),
        ("en", 1),
        ("fr", 1),
    ]
    assert [(f.value, f.count) for f in facets.currency] == [
        ("USD", 3),
        ("BYN", 1),
        ("EUR", 1),
        ("RUB", 1),
    ]
    # Labels in English (the default display language), whatever language named them.
    assert [(f.value, f.count, f.label) for f in facets.entities["PER"]] == [
        ("per:lukashenko", 3, "Alexander Lukashenko"),
        ("per:putin", 2, "Vladimir Putin"),
    ]
    assert [(f.value, f.count, f.label) for f in facets.entities["LOC"]] == [
        ("BY", 3, "Belarus"),
        ("geonames:625144", 3, "Minsk"),
        ("RU", 1, "Russia"),
    ]
    assert [(f.value, f.count, f.label) for f in facets.entities["ORG"]] == [
        ("org:htp", 1, "Hightech-Park"),
        ("org:nbrb", 1, "Natsionalnyy bank"),
    ]
    russian = newsroom.search(SearchQuery(facets=True, collapse=False, label_language="ru"))
    assert russian.facets is not None
    assert [(f.value, f.label) for f in russian.facets.entities["LOC"]] == [
        ("BY", "Беларусь"), ("geonames:625144", "Минск"), ("RU", "Российская Федерация"),
    ]  # fmt: skip


def test_facets_follow_the_query_filters_and_collapsing(newsroom: IndexBackend) -> None:
    """The counts are of the hits' documents: after filters and near-duplicate collapsing."""
    result = newsroom.search(SearchQuery(entity="BY", facets=True))
    assert result.total == 2
    assert result.facets is not None
    assert [(f.value, f.count) for f in result.facets.language] == [("en", 1), ("ru", 1)]
    assert [(f.value, f.count) for f in result.facets.currency] == [("USD", 2)]
    # BY is "Беларусь" once and "Belarus" once: the tie goes to the smaller label.
    (belarus, *_) = result.facets.entities["LOC"]
    assert (belarus.value, belarus.count, belarus.label) == ("BY", 2, "Belarus")


def test_facets_list_at_most_ten_entities_per_type(index: IndexBackend) -> None:
    """A facet is a short list: the ten most frequent, most frequent first."""
    docs = [
        make_doc(
            f"d{n}",
            f"Bericht {n}",
            ["Personen: " + " ".join(f"P{k}" for k in range(n))],
            "de",
            entities=[(f"P{k}", "PER", f"Person {k}", f"per:{k:02d}") for k in range(n)],
        )
        for n in range(1, 14)
    ]
    index.upsert_many(docs)
    facets = index.search(SearchQuery(facets=True)).facets
    assert facets is not None
    people = facets.entities["PER"]
    assert [(f.value, f.count) for f in people] == [(f"per:{k:02d}", 13 - k) for k in range(10)]


def test_no_facets_unless_asked(newsroom: IndexBackend) -> None:
    """Facets cost a query of their own; plain searches must not pay for them."""
    assert newsroom.search(SearchQuery(q="Minsk")).facets is None


# --- storage ------------------------------------------------------------------------------------


def test_upsert_is_idempotent_and_reports_new_once(index: IndexBackend) -> None:
    """A redelivered index task must change nothing: same id, one row, one hit."""
    doc = news()[0]
    assert index.upsert(doc) is True
    assert index.upsert(doc) is False
    assert index.upsert_many([doc, doc]) == 0
    assert index.count() == 1
    assert index.get(doc.id) == doc
    assert index.search(SearchQuery(q="переговоры")).total == 1


def test_new_version_replaces_text_entities_and_money(index: IndexBackend) -> None:
    """A re-enriched document replaces the old one; nothing of the old one may still match."""
    old = make_doc(
        "v",
        "Alter Titel",
        ["Technopark in Minsk für 5 Euro."],
        "de",
        entities=[("Minsk", "LOC", "Minsk", "geonames:625144")],
        money=[("5 Euro", 5, "EUR")],
    )
    new = make_doc(
        "v",
        "Neuer Titel",
        ["Messe in Berlin."],
        "de",
        receipt="receipt-2",
        entities=[("Berlin", "LOC", "Berlin", "geonames:2950159")],
    )
    assert index.upsert(old) is True
    assert index.upsert(new) is False
    assert index.count() == 1
    assert index.get("v") == new
    assert find(index, "Technopark") == []
    assert find(index, "Messe") == ["v"]
    assert find(index, entity="geonames:625144") == []
    assert find(index, entity="berlin") == ["v"]
    assert find(index, currency="EUR") == []
    assert find(index, has_money=False) == ["v"]


def test_get_round_trips_the_document_exactly(newsroom: IndexBackend) -> None:
    """The index is where a document's full record is looked up; no field may be lost."""
    for doc in news():
        assert newsroom.get(doc.id) == doc
    assert newsroom.get("missing") is None


def test_stale_yields_documents_whose_enricher_versions_differ(index: IndexBackend) -> None:
    """Re-enrichment after an enricher upgrade must find exactly the documents it missed."""
    current = {"language": "2.0", "entities": "1.0"}
    index.upsert_many(
        [
            make_doc("fresh", "A", ["a"], "en", enrichers=current),
            make_doc("old", "B", ["b"], "en", enrichers={"language": "1.0", "entities": "1.0"}),
            make_doc("missing", "C", ["c"], "en", enrichers={"language": "2.0"}),
            make_doc("extra", "D", ["d"], "en", enrichers={**current, "money": "1.0"}),
        ]
    )
    assert {doc.id for doc in index.stale(current)} == {"old", "missing"}
    assert list(index.stale({})) == []


def test_stale_pages_through_large_indexes(index: IndexBackend) -> None:
    """Stale reads in batches; every document must come out once."""
    index.upsert_many(make_doc(f"d{n:04d}", "T", ["x"], "en") for n in range(1203))
    ids = [doc.id for doc in index.stale({"language": "9"})]
    assert sorted(ids) == [f"d{n:04d}" for n in range(1203)]


# --- concurrent writers -------------------------------------------------------------------------


def _racing_docs(count: int) -> list[EnrichedDocument]:
    return [
        make_doc(
            f"doc-{n}",
            f"Technopark {n}",
            [f"Ein Technopark Nummer {n}."],
            "de",
            entities=[("Technopark", "ORG", "Technopark", "org:tp")],
            money=[(f"{n}", float(n), "EUR")],
        )
        for n in range(count)
    ]


def _upsert_all(url: str, count: int, start: Any) -> int:
    """Upsert the same ``count`` documents as every other writer; return how many were new."""
    with open_backend(url) as backend:
        start.wait()
        return sum(backend.upsert(doc) for doc in _racing_docs(count))


def _upsert_in_process(url: str, count: int, start: Any, results: Any) -> None:
    results.put(_upsert_all(url, count, start))


def _assert_consistent(url: str, count: int) -> None:
    with open_backend(url) as backend:
        assert backend.count() == count
        result = backend.search(SearchQuery(q="Technopark", limit=1000, facets=True))
        assert result.total == count
        assert result.facets is not None
        assert [(f.value, f.count) for f in result.facets.entities["ORG"]] == [("org:tp", count)]
        assert find(backend, "Nummer 7") == ["doc-7"]
    if url.startswith("sqlite:///"):
        # Concurrent writers must not corrupt the file or its full-text index.
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            conn.execute("INSERT INTO documents_fts (documents_fts) VALUES ('integrity-check')")


def test_threads_upserting_the_same_ids_leave_one_row_each(index_url: str) -> None:
    """Redelivery can run one document on two workers at once: one row, reported new once."""
    count, workers = 40, 6
    start = threading.Barrier(workers)
    new_counts: list[int] = []
    threads = [
        threading.Thread(target=lambda: new_counts.append(_upsert_all(index_url, count, start)))
        for _ in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(new_counts) == count
    _assert_consistent(index_url, count)


def test_threads_sharing_one_backend_object(index_url: str) -> None:
    """An API server shares one backend between request threads (PostgreSQL: through its pool)."""
    if index_url.startswith("sqlite"):
        pytest.skip("a SqliteIndex is one connection, for one thread")
    count, workers = 40, 6
    with open_backend(index_url) as shared:
        start = threading.Barrier(workers)
        new_counts: list[int] = []

        def work() -> None:
            start.wait()
            new_counts.append(sum(shared.upsert(doc) for doc in _racing_docs(count)))

        threads = [threading.Thread(target=work) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sum(new_counts) == count
    _assert_consistent(index_url, count)


def test_processes_upserting_the_same_ids_leave_one_row_each(index_url: str) -> None:
    """Celery prefork workers are separate processes writing one index at once."""
    count, workers = 100, 3
    # spawn, not fork: forking a process that runs threads (pytest plugins may) can deadlock.
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(workers, timeout=60)
    results = context.Queue()
    processes = [
        context.Process(target=_upsert_in_process, args=(index_url, count, start, results))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        for process in processes:
            process.join(timeout=120)
        assert [process.exitcode for process in processes] == [0] * workers
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
    assert sum(results.get(timeout=5) for _ in processes) == count
    _assert_consistent(index_url, count)


def test_upsert_many_batches_racing_do_not_deadlock(index_url: str) -> None:
    """Two bulk loads with overlapping ids in opposite orders must both finish."""
    docs = _racing_docs(60)
    start = threading.Barrier(2)
    new_counts: list[int] = []

    def load(batch: list[EnrichedDocument]) -> None:
        with open_backend(index_url) as backend:
            start.wait()
            new_counts.append(backend.upsert_many(batch))

    threads = [
        threading.Thread(target=load, args=(batch,)) for batch in (docs, list(reversed(docs)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(new_counts) == 60
    _assert_consistent(index_url, 60)


# --- PostgreSQL specifics -----------------------------------------------------------------------


def _in_forked_child(index: PostgresIndex, results: Any) -> None:
    doc = make_doc("from-child", "Kind", ["Aus dem Kindprozess."], "de")
    results.put((index.upsert(doc), index.count()))


def test_postgres_pool_opened_before_a_fork_is_not_shared_with_the_child(
    postgres_url: str,
) -> None:
    """A prefork worker may inherit a used backend; the child must open its own pool, and the
    parent's connections must survive the child's exit."""
    PostgresIndex(postgres_url).close()
    _empty_postgres(postgres_url)
    with PostgresIndex(postgres_url) as index:
        assert index.count() == 0  # the parent's pool is open now
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        child = context.Process(target=_in_forked_child, args=(index, results))
        child.start()
        child.join(timeout=60)
        assert child.exitcode == 0
        assert results.get(timeout=5) == (True, 1)
        assert index.count() == 1
        assert index.get("from-child") is not None


def test_postgres_records_migrations_once(postgres_url: str) -> None:
    """Opening the index again must not re-run or re-record a migration."""
    PostgresIndex(postgres_url).close()
    with PostgresIndex(postgres_url) as index:
        assert index.schema_version == SCHEMA_VERSION
        conninfo, schema = parse_index_url(postgres_url)
        with psycopg.connect(conninfo) as conn:
            rows = conn.execute(
                sql.SQL("SELECT version, name FROM {}.newsflow_migrations ORDER BY version").format(
                    sql.Identifier(schema or "")
                )
            ).fetchall()
        assert [version for version, _ in rows] == list(range(1, SCHEMA_VERSION + 1))
        assert rows == [
            (1, "documents and claims"),
            (2, "claims moved to enrich"),
            (3, "rate pairs"),
            (4, "stories"),
        ]


def test_postgres_drops_the_claims_table_of_a_version_1_schema(fresh_postgres_url: str) -> None:
    """Claims moved to enrich: an index laid out by version 1 loses its claims table on open,
    and its documents stay searchable."""
    conninfo, schema = parse_index_url(fresh_postgres_url)
    name = sql.Identifier(schema or "")
    version, title, statements = _MIGRATIONS[0]
    assert version == 1
    with psycopg.connect(conninfo) as conn:  # the schema exactly as version 1 left it
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(name))
        for statement in statements:
            conn.execute(sql.SQL(statement).format(schema=name))
        conn.execute(
            sql.SQL(
                "CREATE TABLE {}.newsflow_migrations (version integer PRIMARY KEY,"
                " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            ).format(name)
        )
        conn.execute(
            sql.SQL("INSERT INTO {}.newsflow_migrations (version, name) VALUES (1, %s)").format(
                name
            ),
            (title,),
        )
        conn.execute(sql.SQL("INSERT INTO {}.claims VALUES ('kept', 'r-1', now())").format(name))
    with PostgresIndex(fresh_postgres_url) as index:
        assert index.schema_version == SCHEMA_VERSION
        index.upsert(make_doc("kept", "Technopark", ["Minsk."], "de"))
        assert [hit.id for hit in index.search(SearchQuery(q="Technoparks")).hits] == ["kept"]
    with psycopg.connect(conninfo) as conn:
        table = conn.execute("SELECT to_regclass(%s)", (f'"{schema}".claims',)).fetchone()
    assert table == (None,)


def test_postgres_schemas_are_created_concurrently_by_starting_workers() -> None:
    """Workers start together on an empty database; exactly one creates the schema."""
    conninfo, _ = parse_index_url(TEST_POSTGRES_URL)
    try:
        psycopg.connect(conninfo, connect_timeout=3).close()
    except psycopg.OperationalError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("no PostgreSQL")
    url = with_schema(TEST_POSTGRES_URL, f"newsflow_race_{secrets.token_hex(4)}")
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def open_and_close() -> None:
        start.wait()
        try:
            PostgresIndex(url).close()
        except BaseException as error:  # noqa: BLE001  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=open_and_close) for _ in range(6)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with PostgresIndex(url) as index:
            assert index.schema_version == SCHEMA_VERSION
    finally:
        _, schema = parse_index_url(url)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema or ""))
            )


def test_postgres_refuses_a_newer_schema(postgres_url: str) -> None:
    """Old code must not misread (or write into) an index laid out by newer code."""
    conninfo, schema = parse_index_url(postgres_url)
    table = sql.SQL("{}.newsflow_migrations").format(sql.Identifier(schema or ""))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("INSERT INTO {} VALUES (99, 'future')").format(table))
    try:
        with pytest.raises(IndexSchemaError):
            PostgresIndex(postgres_url)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("DELETE FROM {} WHERE version = 99").format(table))


def test_postgres_search_path_in_the_url_selects_the_schema(postgres_url: str) -> None:
    """libpq's own options=-csearch_path=... works as well as ?schema=."""
    conninfo, schema = parse_index_url(postgres_url)
    url = f"{conninfo}{'&' if '?' in conninfo else '?'}options=-csearch_path%3D{schema}"
    with PostgresIndex(url) as index:
        assert index.schema == schema


def test_postgres_unreachable_is_a_transient_error() -> None:
    """A database that is down is retried by the task, not dead-lettered."""
    with pytest.raises(TransientError):
        PostgresIndex("postgresql://postgres@127.0.0.1:1/test?schema=x", timeout=1)


@pytest.mark.parametrize(
    "query",
    [
        "a b",
        "a OR b",
        "a b OR c d",
        '"a b" OR "c d"',
        "a -b",
        "-a",
        'a -"b c"',
        "a OR -b",
        "a OR",
        "OR a",
        "a OR OR b",
        "--a",
        "x -y OR z",
        '"a b',
        "(a OR b) c",
        "a:b",
        "a*b",
        "x OR, y",
        'a OR "" b',
        "технопарк OR Минск",
    ],
)
def test_query_parser_agrees_with_postgres_websearch(postgres_url: str, query: str) -> None:
    """SQLite's query compiler and PostgreSQL must read the same text as the same query."""
    conninfo, _ = parse_index_url(postgres_url)
    node = parse(query)
    assert node is not None
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT websearch_to_tsquery('simple', %s) = to_tsquery('simple', %s)",
            (query, to_tsquery_text(node)),
        ).fetchone()
    assert row == (True,)


def test_postgres_filters_can_use_their_indexes(postgres_url: str) -> None:
    """Every filter's condition must be one an index can serve (checked with sequential scans
    off, since on a tiny table the planner rightly prefers them)."""
    conninfo, _ = parse_index_url(postgres_url)
    cases = {
        "documents_tsv": SearchQuery(q="технопарк"),
        "documents_entity_keys": SearchQuery(entity="BY"),
        "documents_currencies": SearchQuery(currency="USD"),
    }
    with PostgresIndex(postgres_url) as index, psycopg.connect(conninfo) as conn:
        conn.execute("SET enable_seqscan = off")
        for name, query in cases.items():
            search = index._search_sql(
                query, query.q, parse(query.q) if query.q else None
            )  # the SQL under test
            plan = conn.execute(
                sql.SQL("EXPLAIN {} SELECT * FROM result").format(search.ctes), search.params
            ).fetchall()
            assert name in "\n".join(line for (line,) in plan), plan


# --- open_backend -------------------------------------------------------------------------------


def test_open_backend_picks_the_backend_from_the_url(tmp_path: Path, postgres_url: str) -> None:
    """NEWSFLOW_INDEX_URL is a path, sqlite:///path or postgresql://...; nothing else."""
    with open_backend(str(tmp_path / "a.db")) as backend:
        assert isinstance(backend, SqliteIndex)
    with open_backend(f"sqlite:///{tmp_path / 'b.db'}") as backend:
        assert isinstance(backend, SqliteIndex)
    assert (tmp_path / "b.db").exists()
    with open_backend(postgres_url) as backend:
        assert isinstance(backend, PostgresIndex)
    with pytest.raises(ValueError, match="unsupported"):
        open_backend("mysql://x")
