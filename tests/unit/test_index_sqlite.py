"""Unit tests for the embedded SQLite index: storage, schema upgrades and concurrency.

What searches mean is tested on both backends in tests/integration/test_search_backends.py.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from services.index.backend import IndexSchemaError, SearchQuery
from services.index.sqlite import _MIGRATIONS, SCHEMA_VERSION, SqliteIndex
from services.index.stemming import stem_text, tokenize
from shared.messages import CurrencyRate, EnrichedDocument, Entity, HeaderRate, MoneyMention, Repair

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
SEED_LANGUAGES = {"000": "ru", "001": "de", "002": "ru", "003": "ru", "004": "ru"}


def make_doc(
    doc_id: str,
    title: str,
    paragraphs: list[str],
    language: str,
    *,
    receipt: str = "receipt-1",
    published: date | None = None,
) -> EnrichedDocument:
    return EnrichedDocument(
        receipt=receipt,
        source="cli",
        filename=f"{doc_id}.txt",
        received_at=datetime(2025, 10, 1, 12, 0, tzinfo=UTC),
        size=len(title) + sum(len(p) for p in paragraphs),
        encoding="utf-8",
        id=doc_id,
        title=title,
        paragraphs=paragraphs,
        published=published,
        language=language,
        language_confidence=0.99,
    )


def seed_doc(prefix: str) -> EnrichedDocument:
    """Read a seed file as a document: header line dropped, first line title, rest paragraphs."""
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line and not line.startswith("date ")]
    return make_doc(f"seed-{prefix}", lines[0], lines[1:], SEED_LANGUAGES[prefix])


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SqliteIndex]:
    with SqliteIndex(tmp_path / "index.db") as idx:
        yield idx


@pytest.fixture
def seeded(index: SqliteIndex) -> SqliteIndex:
    for prefix in SEED_LANGUAGES:
        index.upsert(seed_doc(prefix))
    return index


def ids(index: SqliteIndex, q: str = "", **filters: Any) -> list[str]:
    """The ids a search returns, in order."""
    return [hit.id for hit in index.search(SearchQuery(q=q, limit=1000, **filters)).hits]


# --- search -------------------------------------------------------------------------------------
# What searches mean is tested on both backends in tests/integration/test_search_backends.py;
# these few keep a fast check of the SQLite path in the unit run.


def test_russian_query_finds_seeds_with_other_inflections(seeded: SqliteIndex) -> None:
    """«технопарк» must find seed 000, which only has other forms («технопарков», «технопарки»)."""
    assert "технопарк" not in tokenize(seed_doc("000").text)
    assert set(ids(seeded, "технопарк")) == {"seed-000", "seed-003"}


def test_hit_carries_the_published_date_and_a_snippet(index: SqliteIndex) -> None:
    """Result lists show the date and the matching words; both must survive the table."""
    doc = make_doc("d", "Technopark", ["Ein Technologiepark."], "de", published=date(2025, 9, 29))
    index.upsert(doc)
    (hit,) = index.search(SearchQuery(q="Technologieparks")).hits
    assert hit.published == date(2025, 9, 29)
    assert hit.snippet == "Ein [Technologiepark]."


@pytest.mark.parametrize("query", ['"', "NEAR(a b, 2)", "title:x", "{title body}: x", "-", "a OR"])
def test_fts5_syntax_in_a_query_is_never_an_error(seeded: SqliteIndex, query: str) -> None:
    """User input goes straight into the search box; FTS5 syntax in it must never raise."""
    result = seeded.search(SearchQuery(q=query))
    assert result.total >= len(result.hits)


# --- storage ------------------------------------------------------------------------------------


def test_upsert_reports_new_then_not_new_and_keeps_one_row(index: SqliteIndex) -> None:
    """A redelivered index task must change nothing: same id, one row, one hit."""
    doc = make_doc("dup", "Technopark", ["Ein Technopark."], "de")
    assert index.upsert(doc) is True
    assert index.upsert(doc) is False
    assert index.count() == 1
    assert ids(index, "Technopark") == ["dup"]


def test_upsert_of_a_new_version_replaces_the_row_and_its_text(index: SqliteIndex) -> None:
    """A re-enriched document replaces the old one; its old words must not linger in the index."""
    index.upsert(make_doc("v", "Alter Titel", ["Altes Wort Technopark."], "de"))
    newer = make_doc("v", "Neuer Titel", ["Neues Wort Messe."], "de", receipt="receipt-2")
    assert index.upsert(newer) is False
    assert index.count() == 1
    assert ids(index, "Technopark") == []
    assert ids(index, "Messe") == ["v"]
    assert index.get("v") == newer


def test_get_round_trips_the_document_exactly(index: SqliteIndex) -> None:
    """The index is where a document's full record is looked up; no field may be lost or altered."""
    doc = make_doc(
        "full", "Titel", ["Absatz eins.", "Absatz zwei."], "de", published=date(2025, 10, 11)
    )
    doc = doc.model_copy(
        update={
            "header_rate": HeaderRate(value=3.69, currency="BYN"),
            "header": "ok",
            "warnings": ["trailer"],
            "repairs": [Repair(kind="trailer_stripped", text="Подписывайтесь")],
            "duplicate_of": "other",
            "enrichers": {"language": "1.0", "dedupe": "1.0"},
        }
    )
    index.upsert(doc)
    assert index.get("full") == doc


def test_get_of_an_unknown_id_is_none(index: SqliteIndex) -> None:
    """Callers tell "not indexed" from an error by None."""
    assert index.get("missing") is None


def test_documents_table_holds_the_search_columns(tmp_path: Path) -> None:
    """Operators query the file directly; the columns must hold what their names say."""
    path = tmp_path / "index.db"
    clock = lambda: datetime(2025, 10, 2, 8, 30, tzinfo=UTC)  # noqa: E731  # A one-line fake clock.
    with SqliteIndex(path, clock=clock) as idx:
        idx.upsert(make_doc("c", "Titel", ["A.", "B."], "de", published=date(2025, 9, 29)))
    with closing(sqlite3.connect(path)) as conn:
        row = conn.execute(
            "SELECT id, title, body, language, published, receipt, filename, indexed_at"
            " FROM documents"
        ).fetchone()
    assert row == (
        "c", "Titel", "A.\n\nB.", "de", "2025-09-29", "receipt-1", "c.txt",
        "2025-10-02T08:30:00+00:00",
    )  # fmt: skip


def test_new_file_gets_wal_mode_and_the_schema_version(tmp_path: Path) -> None:
    """WAL lets several processes share the file; the recorded version guides later migrations."""
    path = tmp_path / "nested" / "dirs" / "index.db"
    with SqliteIndex(path) as idx:
        assert idx.schema_version == SCHEMA_VERSION
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_reopening_a_file_keeps_its_documents(tmp_path: Path) -> None:
    """Opening an existing index must not recreate or empty it."""
    path = tmp_path / "index.db"
    with SqliteIndex(path) as idx:
        idx.upsert(make_doc("keep", "Technopark", ["Text."], "de"))
    with SqliteIndex(path) as idx:
        assert idx.count() == 1
        assert ids(idx, "Technopark") == ["keep"]


def test_a_file_from_a_newer_schema_is_refused(tmp_path: Path) -> None:
    """Old code must not misread (or write into) an index laid out by newer code."""
    path = tmp_path / "index.db"
    SqliteIndex(path).close()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(IndexSchemaError):
        SqliteIndex(path)


def _with_entities_and_money(doc: EnrichedDocument, cluster_id: str) -> EnrichedDocument:
    """``doc`` as enrich would leave it: Minsk (twice), the BelTA agency and a BYN amount."""
    text = doc.text
    minsk = text.index("Minsk")
    return doc.model_copy(
        update={
            "cluster_id": cluster_id,
            "entities": [
                Entity(
                    text="Minsk",
                    start=minsk,
                    end=minsk + 5,
                    type="LOC",
                    normal="Minsk",
                    id="geonames:625144",
                ),
                Entity(
                    text="MINSK", start=0, end=5, type="LOC", normal="Minsk", id="geonames:625144"
                ),
                Entity(text="BelTA", start=7, end=12, type="ORG", normal="BelTA", id="org:belta"),
            ],
            "money": [MoneyMention(text="3 Rubel", start=0, end=7, amount=3.0, currency="BYN")],
        }
    )


def _minsk_doc(doc_id: str = "minsk", cluster_id: str = "minsk") -> EnrichedDocument:
    doc = make_doc(doc_id, "MINSK (BelTA)", ["Der Technopark in Minsk kostet 3 Rubel."], "de")
    return _with_entities_and_money(doc, cluster_id)


def test_side_tables_hold_what_filters_and_facets_read(index: SqliteIndex) -> None:
    """Operators query the file directly: one entity row per (type, id), every folded name and
    phonetic key of a name's words, one money row per currency, and the collapse and money
    columns on the document."""
    index.upsert(_minsk_doc())
    conn = index._conn  # reading the tables themselves is the point
    entities = conn.execute("SELECT type, entity_id, normal FROM doc_entities ORDER BY 2")
    assert entities.fetchall() == [
        ("LOC", "geonames:625144", "Minsk"), ("ORG", "org:belta", "BelTA"),
    ]  # fmt: skip
    assert conn.execute("SELECT type, name FROM doc_entity_names ORDER BY 2").fetchall() == [
        ("ORG", "belta"), ("ORG", "key:blt"), ("LOC", "key:mnsk"), ("LOC", "minsk"),
    ]  # fmt: skip
    assert conn.execute("SELECT currency FROM doc_money").fetchall() == [("BYN",)]
    assert conn.execute("SELECT cluster_id, has_money FROM documents").fetchall() == [("minsk", 1)]


def test_upsert_many_stores_a_batch_and_counts_the_new(index: SqliteIndex) -> None:
    """Bulk loads write one transaction; repeats and known ids are not new."""
    docs = [make_doc(f"b{n}", "Technopark", [f"Nummer {n}."], "de") for n in range(5)]
    assert index.upsert_many(docs[:2]) == 2
    assert index.upsert_many([*docs, docs[0]]) == 3
    assert index.count() == 5


# The layout version-1 files have on disk, frozen here: upgrades must keep working on them.
_V1_SCHEMA = (
    """CREATE TABLE documents (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
       title TEXT NOT NULL, body TEXT NOT NULL, language TEXT NOT NULL, published TEXT,
       receipt TEXT NOT NULL, filename TEXT NOT NULL, indexed_at TEXT NOT NULL,
       document TEXT NOT NULL)""",
    "CREATE INDEX documents_language ON documents (language)",
    """CREATE VIRTUAL TABLE documents_fts USING fts5 (title, body,
       tokenize = 'unicode61 remove_diacritics 0')""",
    """CREATE TABLE claims (doc_id TEXT PRIMARY KEY, receipt TEXT NOT NULL,
       claimed_at TEXT NOT NULL)""",
    "PRAGMA user_version = 1",
)


def _write_v1_file(path: Path, docs: list[EnrichedDocument]) -> None:
    with closing(sqlite3.connect(path)) as conn:
        for statement in _V1_SCHEMA:
            conn.execute(statement)
        for seq, doc in enumerate(docs, start=1):
            conn.execute(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, doc.id, doc.title, doc.body, doc.language, None, doc.receipt, doc.filename,
                 "2025-10-01T00:00:00+00:00", doc.model_dump_json()),
            )  # fmt: skip
            conn.execute(
                "INSERT INTO documents_fts (rowid, title, body) VALUES (?, ?, ?)",
                (seq, stem_text(doc.title, doc.language), stem_text(doc.body, doc.language)),
            )
        conn.execute("INSERT INTO claims VALUES ('minsk', 'r-1', '2025-10-01')")
        conn.commit()


def test_a_version_1_file_is_upgraded_in_place(tmp_path: Path) -> None:
    """Indexes written before filters existed must gain them on open, documents kept."""
    path = tmp_path / "index.db"
    _write_v1_file(path, [_minsk_doc(), _minsk_doc("copy", cluster_id="minsk")])
    with SqliteIndex(path) as idx:
        assert idx.schema_version == SCHEMA_VERSION
        assert idx.count() == 2
        assert idx.get("minsk") == _minsk_doc()
        assert ids(idx, "Technoparks", collapse=False) == ["copy", "minsk"]
        assert ids(idx, "Technoparks") == ["copy"]
        assert ids(idx, entity="minsk", type="LOC", collapse=False) == ["copy", "minsk"]
        assert ids(idx, currency="BYN", has_money=True) == ["copy"]
        facets = idx.search(SearchQuery(facets=True, collapse=False)).facets
        assert facets is not None
        assert [(f.value, f.count) for f in facets.entities["ORG"]] == [("org:belta", 2)]
        idx.upsert(make_doc("new", "Neu", ["Technopark."], "de"))
        assert set(ids(idx, "Technopark", collapse=False)) == {"copy", "minsk", "new"}


def _tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


def test_a_version_2_file_loses_its_claims_table_and_keeps_working(tmp_path: Path) -> None:
    """Claims moved to enrich (newsflow run keeps them in a file of its own): a file written
    by version 2 drops its claims table on open; its documents, filters and facets stay."""
    path = tmp_path / "index.db"
    _write_v1_file(path, [_minsk_doc()])
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        _MIGRATIONS[2](conn)  # exactly what version 2 did to a version 1 file
        conn.execute("PRAGMA user_version = 2")
    assert "claims" in _tables(path)
    with SqliteIndex(path) as idx:
        assert idx.schema_version == SCHEMA_VERSION
        assert ids(idx, "Technoparks", entity="minsk", type="LOC") == ["minsk"]
        idx.upsert(make_doc("new", "Neu", ["Technopark."], "de"))
        assert set(ids(idx, "Technopark", collapse=False)) == {"minsk", "new"}
    assert "claims" not in _tables(path)


def test_a_version_3_file_gains_name_keys_and_belarusian_stems(tmp_path: Path) -> None:
    """Version 3 stored Belarusian text unstemmed and names without their phonetic keys; on
    open both are derived again, so old documents answer like new ones."""
    path = tmp_path / "index.db"
    be_doc = make_doc("be", "Рэзідэнты тэхнапаркаў", ["Экспарт вырас."], "be")
    ru_doc = make_doc("ru", "Лазаревич", ["Надежда Лазаревич рассказала."], "ru").model_copy(
        update={
            "entities": [
                Entity(text="Лазаревич", start=0, end=9, type="PER", normal="Надежда Лазаревич",
                       id="per:ndsd-lsrvc"),
            ]
        }
    )  # fmt: skip
    with SqliteIndex(path) as idx:
        idx.upsert_many([be_doc, ru_doc])
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:  # as version 3 left it
        conn.execute(
            "UPDATE documents_fts SET title = ?, body = ? WHERE rowid = 1",
            (" ".join(tokenize(be_doc.title)), " ".join(tokenize(be_doc.body))),
        )
        conn.execute("DELETE FROM doc_entity_names WHERE name LIKE 'key:%'")
        for trigger in ("insert", "update", "delete"):  # the rates came with version 5
            conn.execute(f"DROP TRIGGER documents_rates_{trigger}")
        conn.execute("DROP TABLE doc_rates")
        conn.execute("PRAGMA user_version = 3")
    with SqliteIndex(path) as idx:
        assert idx.schema_version == SCHEMA_VERSION
        assert ids(idx, "тэхнапарк") == ["be"]
        assert ids(idx, entity="Lasarewitsch") == ["ru"]


def test_a_new_file_has_no_claims_table(tmp_path: Path) -> None:
    """Nothing in the index records claims any more."""
    SqliteIndex(tmp_path / "index.db").close()
    assert "claims" not in _tables(tmp_path / "index.db")
    assert {"documents", "doc_entities", "doc_entity_names", "doc_money"} <= _tables(
        tmp_path / "index.db"
    )


def test_an_upgraded_file_answers_the_rate_filter_from_its_stored_rates(tmp_path: Path) -> None:
    """Version 5 adds the rates table: documents stored before are read into it on upgrade,
    and a re-enriched document replaces its rows (the triggers keep them)."""
    path = tmp_path / "index.db"
    rated = _minsk_doc().model_copy(
        update={
            "rates": [
                CurrencyRate(quote="BYN", value=3.69, text="3.69 BYN"),
                CurrencyRate(base="USD", quote="BYN", value=3.2, text="x", start=0, end=1),
            ]
        }
    )
    _write_v1_file(path, [rated, _minsk_doc("copy", cluster_id="minsk")])
    with SqliteIndex(path) as idx:
        assert ids(idx, rate="usd/byn") == ["minsk"]
        assert ids(idx, rate="/BYN") == ["minsk"]
        idx.upsert(rated.model_copy(update={"rates": rated.rates[:1]}))
        assert ids(idx, rate="USD/BYN") == []
        assert ids(idx, rate="/BYN") == ["minsk"]


def _open_and_count(
    path: str, start: threading.Barrier, results: multiprocessing.Queue[int]
) -> None:
    start.wait()
    with SqliteIndex(path) as idx:
        results.put(idx.search(SearchQuery(entity="org:belta", collapse=False)).total)


def test_processes_opening_a_version_1_file_at_once_upgrade_it_once(tmp_path: Path) -> None:
    """Workers restarted on new code open the old file together; one upgrades, all then work."""
    path = tmp_path / "index.db"
    _write_v1_file(path, [_minsk_doc(), _minsk_doc("copy")])
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(3, timeout=30)
    results = context.Queue()
    processes = [
        context.Process(target=_open_and_count, args=(str(path), start, results)) for _ in range(3)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0, 0, 0]
    assert [results.get(timeout=5) for _ in processes] == [2, 2, 2]


def test_in_memory_index_works() -> None:
    """Tests and throwaway runs use ``:memory:``; it must behave like a file."""
    with SqliteIndex(":memory:") as idx:
        idx.upsert(make_doc("m", "Technopark", ["Text."], "de"))
        assert idx.count() == 1
        assert ids(idx, "Technoparks") == ["m"]
