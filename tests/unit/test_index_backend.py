"""Unit tests for what both index backends share: the query model, URLs, derived fields, facets."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.index import fields
from services.index.backend import (
    FacetCount,
    Facets,
    SearchHit,
    SearchQuery,
    SearchResult,
    open_backend,
)
from services.index.postgres import parse_index_url
from services.index.search import build_facets
from services.index.sqlite import SqliteIndex
from shared.messages import EnrichedDocument, Entity, MoneyMention

# --- SearchQuery and results --------------------------------------------------------------------


def test_search_query_normalises_what_people_type() -> None:
    """ "RU", " usd " and " BY " must mean what "ru", "USD" and "BY" mean."""
    query = SearchQuery(lang="RU", currency=" usd ", entity=" BY ")
    assert (query.lang, query.currency, query.entity) == ("ru", "USD", "BY")


def test_search_query_defaults_collapse_duplicates_and_skip_facets() -> None:
    """The cheap, useful default: ten hits, near-duplicates collapsed, no facets."""
    query = SearchQuery()
    assert (query.q, query.limit, query.offset, query.collapse, query.facets) == (
        "",
        10,
        0,
        True,
        False,
    )


@pytest.mark.parametrize(
    "bad",
    [{"limit": 0}, {"limit": 1001}, {"offset": -1}, {"type": "MISC"}, {"colour": "red"}],
)
def test_search_query_rejects_invalid_requests(bad: dict[str, object]) -> None:
    """A bad limit, an unknown entity type or a misspelt option is the caller's bug: say so."""
    with pytest.raises(ValidationError):
        SearchQuery.model_validate(bad)


def test_search_result_round_trips_through_json() -> None:
    """The HTTP API sends results as JSON; nothing may be lost on the way."""
    result = SearchResult(
        total=1,
        hits=[
            SearchHit(
                id="d",
                title="T",
                published=date(2025, 10, 1),
                language="ru",
                score=1.5,
                snippet="[T]",
                entities=[Entity(text="T", start=0, end=1, type="LOC", normal="T", id="BY")],
                money=[MoneyMention(text="5 $", start=2, end=5, amount=5, currency="USD")],
                cluster_id="d",
            )
        ],
        facets=Facets(language=[FacetCount(value="ru", count=1)]),
    )
    assert SearchResult.model_validate_json(result.model_dump_json()) == result


# --- URLs ---------------------------------------------------------------------------------------


def test_open_backend_opens_sqlite_paths(tmp_path: Path) -> None:
    """A plain path, sqlite:///path and :memory: are all the embedded index."""
    for url in (":memory:", str(tmp_path / "a.db"), f"sqlite:///{tmp_path / 'b.db'}"):
        with open_backend(url) as backend:
            assert isinstance(backend, SqliteIndex)
    assert sorted(path.name for path in tmp_path.glob("*.db")) == ["a.db", "b.db"]


@pytest.mark.parametrize("url", ["mysql://host/db", "redis://x", "http://index"])
def test_open_backend_refuses_other_schemes(url: str) -> None:
    """A typo in NEWSFLOW_INDEX_URL must stop the worker, not create a file named like a URL."""
    with pytest.raises(ValueError, match="unsupported index URL"):
        open_backend(url)


def test_index_url_schema_parameter_is_ours_and_the_rest_is_libpq_s() -> None:
    """libpq rejects unknown parameters, so schema is taken out; options and sslmode stay."""
    conninfo, schema = parse_index_url(
        "postgresql://u@h:5/db?sslmode=disable&schema=news_1&options=-csearch_path%3Dx"
    )
    assert schema == "news_1"
    assert conninfo == "postgresql://u@h:5/db?sslmode=disable&options=-csearch_path%3Dx"
    assert parse_index_url("postgresql://h/db") == ("postgresql://h/db", None)


@pytest.mark.parametrize("schema", ["1abc", "a-b", "a;drop", "", "x" * 64])
def test_index_url_refuses_schema_names_that_are_not_plain_identifiers(schema: str) -> None:
    """The schema name ends up in DDL; only plain identifiers are accepted."""
    with pytest.raises(ValueError, match="invalid schema name"):
        parse_index_url(f"postgresql://h/db?schema={schema}")


# --- derived fields -----------------------------------------------------------------------------


def _doc(entities: list[Entity], money: list[MoneyMention]) -> EnrichedDocument:
    return EnrichedDocument(
        receipt="r",
        source="cli",
        filename="f.txt",
        received_at=datetime(2025, 10, 1, tzinfo=UTC),
        size=1,
        encoding="utf-8",
        id="d",
        title="t",
        paragraphs=["p"],
        language="ru",
        language_confidence=1.0,
        entities=entities,
        money=money,
    )


def _entity(text: str, kind: str, normal: str, entity_id: str) -> Entity:
    return Entity.model_validate(
        {"text": text, "start": 0, "end": 1, "type": kind, "normal": normal, "id": entity_id}
    )


def _money(currency: str) -> MoneyMention:
    return MoneyMention(text="1", start=0, end=1, amount=1, currency=currency)


def test_entity_facets_have_one_entry_per_type_and_id_with_the_first_normal_form() -> None:
    """A document naming Belarus five times counts once in the BY facet."""
    doc = _doc(
        [
            _entity("Беларуси", "LOC", "Беларусь", "BY"),
            _entity("Belarus", "LOC", "Belarus", "BY"),
            _entity("Минск", "LOC", "Минск", "geonames:625144"),
        ],
        [],
    )
    assert fields.entity_facets(doc) == [
        fields.EntityFacet("LOC", "BY", "Беларусь"),
        fields.EntityFacet("LOC", "geonames:625144", "Минск"),
    ]


def test_an_entity_facet_keeps_the_fullest_normal_form_in_the_document() -> None:
    """A headline's «Лазаревич» and the text's «Надежда Лазаревич» are one person, labelled by
    the full name."""
    doc = _doc(
        [
            _entity("Лазаревич", "PER", "Лазаревич", "per:ndsd-lsrvc"),
            _entity("Надежда Лазаревич", "PER", "Надежда Лазаревич", "per:ndsd-lsrvc"),
            _entity("Лазаревич", "PER", "Лазаревич", "per:ndsd-lsrvc"),
        ],
        [],
    )
    assert fields.entity_facets(doc) == [
        fields.EntityFacet("PER", "per:ndsd-lsrvc", "Надежда Лазаревич")
    ]


def test_entity_names_are_every_normal_form_and_text_folded_and_keyed() -> None:
    """The entity filter matches a typed name against both the normal form and the text, and
    each of their words by its phonetic key; a key of fewer than three letters («а») says too
    little to match by."""
    doc = _doc([_entity("А. Лукашенко", "PER", "Александр Лукашенко", "per:lukashenko")], [])
    assert fields.entity_names(doc) == {
        ("PER", "а лукашенко"),
        ("PER", "александр лукашенко"),
        ("PER", "key:lksnk"),
        ("PER", "key:lksndr"),
        ("PER", "key:lukashenko"),  # the part of a person's id (here not a real key)
    }


def test_a_name_resolves_to_the_ids_of_the_entities_it_names() -> None:
    """By its folded form or by the keys of all its words, of the type asked for only; one
    document may name several entities, and only those the name fits count."""
    named = [
        ("ru", [fields.NamedEntity("ORG", "org:nbrb", "Национальный банк", "Нацбанка"),
                fields.NamedEntity("LOC", "geonames:625144", "Минск", "Минске")]),
        ("de", [fields.NamedEntity("PER", "per:ndsd-lsrvc", "Nadeschda Lasarewitsch",
                                   "Lasarewitsch")]),
    ]  # fmt: skip
    for entity_id in ("BY", "RU-SA", "geonames:625144", "per:ndsd-lsrvc"):
        assert fields.looks_like_id(entity_id), entity_id  # found as itself, not resolved
    for name in ("Минск", "National Bank", "by"):
        assert not fields.looks_like_id(name), name
    assert fields.resolve_entity_ids("нацбанка", None, named) == ["org:nbrb"]
    assert fields.resolve_entity_ids("Нацбанк", "ORG", named) == ["org:nbrb"]  # by key
    assert fields.resolve_entity_ids("Нацбанк", "LOC", named) == []
    assert fields.resolve_entity_ids("Лазарэвіч", None, named) == ["per:ndsd-lsrvc"]
    assert fields.resolve_entity_ids("Мінск", None, named) == ["geonames:625144"]
    assert fields.resolve_entity_ids("Берлин", None, named) == []


def test_a_searched_name_is_keyed_word_by_word_in_every_script() -> None:
    """«Лазаревич» (ru), «Лазарэвіч» (be), «Lasarewitsch» (de), «Lazarevich» (en) in any case
    must meet the same key; a word too short to key leaves only the exact name."""
    for name in ("Лазаревич", "ЛАЗАРЭВІЧ", "Lasarewitsch", "lazarevich"):
        (keys,) = fields.query_name_keys(name)
        assert "key:lsrvc" in keys, name
    assert fields.query_name_keys("Надзея Лазарэвіч") == [["key:nds"], ["key:lsrvc"]]
    assert fields.query_name_keys("Киев") == []
    assert fields.query_name_keys("Ли Лазаревич") == []


def test_fold_name_ignores_case_punctuation_spacing_and_yo() -> None:
    """ "Лукашенко", "ЛУКАШЕНКО," and " лукашенко " must be one name; so must ё and е."""
    assert fields.fold_name(" А.  ЛУКАШЕНКО, ") == "а лукашенко"
    assert fields.fold_name("Пётр") == fields.fold_name("петр")
    assert fields.fold_name("--") == ""


def test_currencies_are_distinct_and_sorted() -> None:
    """has_money and the currency facet count documents, not mentions."""
    doc = _doc([], [_money("USD"), _money("BYN"), _money("USD")])
    assert fields.currencies(doc) == ["BYN", "USD"]


def test_text_configs_are_the_stemmed_languages_or_simple() -> None:
    """PostgreSQL stems exactly the languages SQLite stems; everything else is only folded."""
    codes = ("ru", "DE", "en", "be", "uk", "pl", "und")
    assert [fields.text_config(code) for code in codes] == [
        "russian", "german", "english", "belarusian", "ukrainian", "simple", "simple",
    ]  # fmt: skip
    assert fields.TEXT_CONFIGS == (
        "russian", "german", "english", "belarusian", "ukrainian", "simple",
    )  # fmt: skip
    # PostgreSQL has no Belarusian or Ukrainian: their text arrives stemmed, stored as simple.
    assert [fields.regconfig(config) for config in fields.TEXT_CONFIGS] == [
        "russian", "german", "english", "simple", "simple", "simple",
    ]  # fmt: skip


# --- facets -------------------------------------------------------------------------------------


def test_build_facets_orders_by_count_then_value() -> None:
    """Equal counts must list the same way on both backends: by value."""
    facets = build_facets(
        [
            ("language", "ru", None, None, 2),
            ("language", "de", None, None, 2),
            ("language", "en", None, None, 5),
            ("currency", "USD", None, None, 1),
        ]
    )
    assert [(f.value, f.count) for f in facets.language] == [("en", 5), ("de", 2), ("ru", 2)]
    assert [(f.value, f.count) for f in facets.currency] == [("USD", 1)]
    assert facets.entities == {}


def test_entity_facet_labels_are_in_one_display_language() -> None:
    """BY is "Беларусь" in three Russian documents and "Weißrussland" in a German one: one
    language labels them all, from its own documents, its country names, or romanized."""
    rows = [
        ("entity:de", "LOC", "BY", "Weißrussland", 1),
        ("entity:ru", "LOC", "BY", "Беларусь", 3),
        ("entity:en", "LOC", "RU", "Russia", 1),
        ("entity:ru", "LOC", "RU", "Россия", 1),
        ("entity:ru", "PER", "per:ndsd-lsrvc", "Надежда Лазаревич", 2),
        ("entity:de", "PER", "per:ndsd-lsrvc", "Nadeschda Lasarewitsch", 1),
        ("entity:ru", "ORG", "org:eu", "ЕС", 2),
        ("entity:de", "ORG", "org:eu", "EU", 1),
        ("entity:ru", "ORG", "org:nbrb", "Национальный банк", 1),
    ]
    labels = {
        language: {
            count.value: count.label
            for counts in build_facets(rows, language).entities.values()
            for count in counts
        }
        for language in ("en", "de", "ru", "be")
    }
    assert labels["en"] == {
        "BY": "Belarus",  # the ISO 3166 name: no English document names it
        "RU": "Russia",  # an English document's own form comes first
        "per:ndsd-lsrvc": "Nadezhda Lazarevich",  # romanized, not the German spelling
        "org:eu": "EU",  # another language's Latin form, not a romanized «ES»
        "org:nbrb": "Natsionalnyy bank",
    }
    assert labels["de"]["BY"] == "Weißrussland"
    assert labels["de"]["per:ndsd-lsrvc"] == "Nadeschda Lasarewitsch"
    assert labels["ru"] == {
        "BY": "Беларусь",
        "RU": "Россия",
        "per:ndsd-lsrvc": "Надежда Лазаревич",
        "org:eu": "ЕС",
        "org:nbrb": "Национальный банк",
    }
    assert labels["be"]["BY"] == "Беларусь"  # pycountry's Belarusian
    assert labels["be"]["RU"] == "Расійская Федэрацыя"
    facets = build_facets(rows)
    assert [(f.value, f.count) for f in facets.entities["LOC"]] == [("BY", 4), ("RU", 2)]


def test_entity_facets_keep_the_ten_most_frequent_per_type() -> None:
    """A facet is a short list; the eleventh organisation is left out."""
    rows = [("entity", "ORG", f"org:{n:02d}", f"Org {n}", 20 - n) for n in range(12)]
    rows.append(("entity", "PER", "per:x", "X", 1))
    facets = build_facets(rows)
    assert [f.value for f in facets.entities["ORG"]] == [f"org:{n:02d}" for n in range(10)]
    assert [f.value for f in facets.entities["PER"]] == ["per:x"]
