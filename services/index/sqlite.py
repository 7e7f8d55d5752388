"""The embedded index backend: one SQLite file with an FTS5 table of stemmed text.

The ``documents`` table keeps each ``EnrichedDocument`` whole (as JSON) beside the columns that
searches filter and show; ``documents_fts`` holds the same title and body stemmed with the
document's own language, keyed by the document's ``seq``; side tables keyed by ``seq`` hold what
the entity and money filters and facets need (``doc_entities``, ``doc_entity_names``,
``doc_money``). Several processes may write one file: WAL mode, a busy timeout and
``BEGIN IMMEDIATE`` for every write keep them from corrupting it or failing on lock upgrades.
One ``SqliteIndex`` (one connection) per thread, opened after any fork.

This module never changes a document, and never lets query text reach FTS5 as syntax (queries
are compiled by ``services.index.query``).
"""

# Every SQL string here is assembled from this module's own fixed fragments (which filters a
# query has decides which fragments); values, query text included, are always bound parameters.
# ruff: noqa: S608

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from os import PathLike
from pathlib import Path
from typing import Any

from services.index import fields, stories
from services.index.backend import IndexSchemaError, SearchQuery
from services.index.query import Node, to_fts5
from services.index.search import AnsweringIndex, Dialect, answer_sql
from services.index.stemming import PYTHON_ALGORITHMS, stem_text
from services.index.stories import Member, StoriesQuery, StoryDetail, StorySummary
from shared.messages import EnrichedDocument, EntityType

__all__ = ["SCHEMA_VERSION", "IndexSchemaError", "SqliteIndex"]

SCHEMA_VERSION = 6

DEFAULT_BUSY_TIMEOUT_MS = 5000

# How many documents ``stale`` reads per query; it never holds a read open across a yield.
_STALE_BATCH = 500

# seq is an explicit INTEGER PRIMARY KEY because it is the FTS row's rowid, and VACUUM may
# renumber an implicit rowid; id (the content hash) is the key everything else uses.
# tokenize: the text arrives split, folded and stemmed, so FTS5 only has to split on the spaces.
# Diacritics stay: stripping them would let FTS5 match words ("été", "ete") that the snippet
# builder, which compares stems in Python, would then fail to highlight.
_SCHEMA_V1 = (
    """
    CREATE TABLE documents (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        language TEXT NOT NULL,
        published TEXT,
        receipt TEXT NOT NULL,
        filename TEXT NOT NULL,
        indexed_at TEXT NOT NULL,
        document TEXT NOT NULL
    )
    """,
    "CREATE INDEX documents_language ON documents (language)",
    """
    CREATE VIRTUAL TABLE documents_fts USING fts5 (
        title, body, tokenize = 'unicode61 remove_diacritics 0'
    )
    """,
    """
    CREATE TABLE claims (
        doc_id TEXT PRIMARY KEY,
        receipt TEXT NOT NULL,
        claimed_at TEXT NOT NULL
    )
    """,
)

# Version 2: filters and facets. Side tables are keyed by seq (an integer, so joins stay small)
# and rewritten with their document. doc_entities has one row per (document, type, id) with the
# normal form first seen there, which is what facets count; doc_entity_names has every folded
# normal form and surface text, which is what the entity filter matches a name against.
_SCHEMA_V2 = (
    "ALTER TABLE documents ADD COLUMN cluster_id TEXT",
    "ALTER TABLE documents ADD COLUMN has_money INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX documents_published ON documents (published, id)",
    "CREATE INDEX documents_language_published ON documents (language, published)",
    "CREATE INDEX documents_cluster ON documents (cluster_id)",
    """
    CREATE TABLE doc_entities (
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        normal TEXT NOT NULL,
        PRIMARY KEY (seq, type, entity_id)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX doc_entities_id ON doc_entities (entity_id, type, seq)",
    "CREATE INDEX doc_entities_type ON doc_entities (type, seq)",
    """
    CREATE TABLE doc_entity_names (
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        name TEXT NOT NULL,
        PRIMARY KEY (seq, type, name)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX doc_entity_names_name ON doc_entity_names (name, type, seq)",
    """
    CREATE TABLE doc_money (
        seq INTEGER NOT NULL,
        currency TEXT NOT NULL,
        PRIMARY KEY (seq, currency)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX doc_money_currency ON doc_money (currency, seq)",
)

# The rates a document quotes («USD/BYN», «/BYN» for a rate with no base), kept by triggers from
# the stored document itself, so that every write path fills them without knowing of them; the
# same strings as ``fields.rate_pairs``.
_RATE_PAIRS_OF_NEW = """
    INSERT OR IGNORE INTO doc_rates (seq, pair)
    SELECT NEW.seq, coalesce(json_extract(value, '$.base'), '') || '/'
                    || json_extract(value, '$.quote')
    FROM json_each(NEW.document, '$.rates')
"""
_RATES_SCHEMA = (
    """
    CREATE TABLE doc_rates (
        seq INTEGER NOT NULL,
        pair TEXT NOT NULL,
        PRIMARY KEY (seq, pair)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX doc_rates_pair ON doc_rates (pair, seq)",
    f"""
    CREATE TRIGGER documents_rates_insert AFTER INSERT ON documents BEGIN
        {_RATE_PAIRS_OF_NEW};
    END
    """,
    f"""
    CREATE TRIGGER documents_rates_update AFTER UPDATE OF document ON documents BEGIN
        DELETE FROM doc_rates WHERE seq = OLD.seq; {_RATE_PAIRS_OF_NEW};
    END
    """,
    """
    CREATE TRIGGER documents_rates_delete AFTER DELETE ON documents BEGIN
        DELETE FROM doc_rates WHERE seq = OLD.seq;
    END
    """,
)

_FIND = "SELECT seq, document FROM documents WHERE id = ?"
_GET = "SELECT document FROM documents WHERE id = ?"
_INSERT = """
    INSERT INTO documents (id, title, body, language, published, receipt, filename, indexed_at,
                           document, cluster_id, has_money, story_id)
    VALUES (:id, :title, :body, :language, :published, :receipt, :filename, :indexed_at,
            :document, :cluster_id, :has_money, :story_id)
    RETURNING seq
"""
_UPDATE = """
    UPDATE documents
    SET title = :title, body = :body, language = :language, published = :published,
        receipt = :receipt, filename = :filename, indexed_at = :indexed_at, document = :document,
        cluster_id = :cluster_id, has_money = :has_money, story_id = :story_id
    WHERE id = :id
"""
_DELETE_SIDE_ROWS = (
    "DELETE FROM documents_fts WHERE rowid = ?",
    "DELETE FROM doc_entities WHERE seq = ?",
    "DELETE FROM doc_entity_names WHERE seq = ?",
    "DELETE FROM doc_money WHERE seq = ?",
)

# bm25's arguments are the column weights, title then body: a query word in the headline says
# more about the article than one in the body. bm25 is lower-is-better; scores are negated.
_SCORE = "-bm25(documents_fts, 10.0, 1.0)"
# SQLite sorts NULL below every value, so "published DESC" already puts undated documents last
# (PostgreSQL needs NULLS LAST spelled out).
_ORDER = "score DESC, published DESC, id"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Prepared:
    """A document with everything derived from it, computed before the write lock is taken."""

    doc: EnrichedDocument
    payload: str
    title_stems: str
    body_stems: str
    entities: list[fields.EntityFacet]
    names: set[tuple[str, str]]
    currencies: list[str]


def _prepare(doc: EnrichedDocument) -> _Prepared:
    return _Prepared(
        doc=doc,
        payload=doc.model_dump_json(),
        title_stems=stem_text(doc.title, doc.language),
        body_stems=stem_text(doc.body, doc.language),
        entities=fields.entity_facets(doc),
        names=set(fields.entity_names(doc)),
        currencies=fields.currencies(doc),
    )


def _write_side_rows(conn: sqlite3.Connection, seq: int, item: _Prepared) -> None:
    conn.executemany(
        "INSERT INTO doc_entities (seq, type, entity_id, normal) VALUES (?, ?, ?, ?)",
        [(seq, entity.type, entity.id, entity.normal) for entity in item.entities],
    )
    conn.executemany(
        "INSERT INTO doc_entity_names (seq, type, name) VALUES (?, ?, ?)",
        [(seq, kind, name) for kind, name in sorted(item.names)],
    )
    conn.executemany(
        "INSERT INTO doc_money (seq, currency) VALUES (?, ?)",
        [(seq, currency) for currency in item.currencies],
    )


def _create_v1(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V1:
        conn.execute(statement)


def _upgrade_to_v2(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V2:
        conn.execute(statement)
    # Backfill from the stored documents with the very functions upsert uses, so an upgraded
    # file answers filters exactly like a new one.
    for seq, payload in conn.execute("SELECT seq, document FROM documents").fetchall():
        item = _prepare(EnrichedDocument.model_validate_json(payload))
        conn.execute(
            "UPDATE documents SET cluster_id = ?, has_money = ? WHERE seq = ?",
            (item.doc.cluster_id, int(bool(item.currencies)), seq),
        )
        _write_side_rows(conn, seq, item)


def _upgrade_to_v3(conn: sqlite3.Connection) -> None:
    # Exact-duplicate claims moved to enrich (``services.enrich.dedupe``): the in-process runner
    # keeps them in a file of its own, the workers in Redis. Migrations are never edited once
    # released, so version 1 still creates the table a new file then loses here.
    conn.execute("DROP TABLE IF EXISTS claims")


def _upgrade_to_v4(conn: sqlite3.Connection) -> None:
    # Names are also matched by the phonetic keys of their words, facets keep an entity's
    # fullest normal form, and Belarusian and Ukrainian text is stemmed: every document's
    # entity rows, and the full text of those two languages, are derived again with the
    # functions upsert uses.
    python_stemmed = tuple(PYTHON_ALGORITHMS)
    for seq, language, payload in conn.execute(
        "SELECT seq, language, document FROM documents"
    ).fetchall():
        doc = EnrichedDocument.model_validate_json(payload)
        conn.execute("DELETE FROM doc_entities WHERE seq = ?", (seq,))
        conn.executemany(
            "INSERT INTO doc_entities (seq, type, entity_id, normal) VALUES (?, ?, ?, ?)",
            [(seq, facet.type, facet.id, facet.normal) for facet in fields.entity_facets(doc)],
        )
        conn.execute("DELETE FROM doc_entity_names WHERE seq = ?", (seq,))
        conn.executemany(
            "INSERT INTO doc_entity_names (seq, type, name) VALUES (?, ?, ?)",
            [(seq, kind, name) for kind, name in sorted(fields.entity_names(doc))],
        )
        if language in python_stemmed:
            conn.execute(
                "UPDATE documents_fts SET title = ?, body = ? WHERE rowid = ?",
                (stem_text(doc.title, language), stem_text(doc.body, language), seq),
            )


def _upgrade_to_v5(conn: sqlite3.Connection) -> None:
    """The rate filter's table and the triggers that keep it, filled for documents stored
    before (whose stored documents have rates only once re-enriched)."""
    for statement in _RATES_SCHEMA:
        conn.execute(statement)
    conn.execute(
        _RATE_PAIRS_OF_NEW.replace("NEW.seq", "documents.seq").replace(
            "json_each(NEW.document", "documents, json_each(documents.document"
        )
    )


# Version 6: stories. story_id is a column (the filter and the views group on it), backfilled
# from the stored documents (None before enrich had stories); story_aliases maps a merged or
# re-assigned story id to the story it is now part of (see services.index.stories).
_STORIES_SCHEMA = (
    "UPDATE documents SET story_id = json_extract(document, '$.story_id')",
    "CREATE INDEX IF NOT EXISTS documents_story ON documents (story_id)",
    """
    CREATE TABLE IF NOT EXISTS story_aliases (
        story_id TEXT PRIMARY KEY,
        survivor TEXT NOT NULL
    ) WITHOUT ROWID
    """,
    "CREATE INDEX IF NOT EXISTS story_aliases_survivor ON story_aliases (survivor)",
)


def _upgrade_to_v6(conn: sqlite3.Connection) -> None:
    # Written to run again on a file that has it already (a file whose version number was set
    # back), since SQLite has no ADD COLUMN IF NOT EXISTS.
    columns = {row[1] for row in conn.execute("PRAGMA table_info(documents)")}
    if "story_id" not in columns:
        conn.execute("ALTER TABLE documents ADD COLUMN story_id TEXT")
    for statement in _STORIES_SCHEMA:
        conn.execute(statement)


_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _create_v1,
    2: _upgrade_to_v2,
    3: _upgrade_to_v3,
    4: _upgrade_to_v4,
    5: _upgrade_to_v5,
    6: _upgrade_to_v6,
}


def _rate_filter(query: SearchQuery, params: dict[str, Any]) -> list[str]:
    if query.rate is None:
        return []
    params["rate"] = query.rate
    return ["d.seq IN (SELECT seq FROM doc_rates WHERE pair = :rate)"]


@dataclass
class _Sql:
    """A search's ``matched``/``result`` CTEs and their parameters, shared by page and facets."""

    ctes: str
    params: dict[str, Any]


def _filters(
    query: SearchQuery, params: dict[str, Any], entity_ids: Sequence[str] = ()
) -> list[str]:
    clauses: list[str] = []
    for clause, name, value in _DIALECT.column_filters(query):
        clauses.append(clause)
        # Dates are stored as ISO text; sqlite3's own date adapter is deprecated.
        params[name] = value.isoformat() if isinstance(value, date) else value
    if query.currency is not None:
        clauses.append("d.seq IN (SELECT seq FROM doc_money WHERE currency = :currency)")
        params["currency"] = query.currency
    clauses.extend(_rate_filter(query, params))
    typed = " AND type = :type" if query.type is not None else ""
    if query.type is not None:
        params["type"] = query.type
    if query.entity is not None:
        # The id, the name as written, or every word of it by its phonetic key.
        by_key = []
        for word, keys in enumerate(fields.query_name_keys(query.entity)):
            marks = []
            for n, key in enumerate(keys):
                params[f"entity_key_{word}_{n}"] = key
                marks.append(f":entity_key_{word}_{n}")
            by_key.append(
                f"SELECT seq FROM doc_entity_names WHERE name IN ({', '.join(marks)}){typed}"
            )
        keyed = f" UNION SELECT seq FROM ({' INTERSECT '.join(by_key)})" if by_key else ""
        # Or any id the name resolves to (``AnsweringIndex.entity_ids``).
        for n, entity_id in enumerate(entity_ids):
            params[f"entity_id_{n}"] = entity_id
        id_marks = ", ".join(f":entity_id_{n}" for n in range(len(entity_ids)))
        resolved = (
            f" UNION SELECT seq FROM doc_entities WHERE entity_id IN ({id_marks}){typed}"
            if entity_ids
            else ""
        )
        clauses.append(
            f"d.seq IN (SELECT seq FROM doc_entities WHERE entity_id = :entity{typed}"
            f" UNION SELECT seq FROM doc_entity_names WHERE name = :entity_name{typed}"
            f"{keyed}{resolved})"
        )
        params["entity"] = query.entity
        params["entity_name"] = fields.fold_name(query.entity)
    elif query.type is not None:
        clauses.append("d.seq IN (SELECT seq FROM doc_entities WHERE type = :type)")
    if query.story is not None:
        clauses.append(_STORY_FILTER)
        params["story"] = query.story
    return clauses


def _search_sql(query: SearchQuery, node: Node | None, entity_ids: Sequence[str] = ()) -> _Sql:
    params: dict[str, Any] = {}
    clauses = _filters(query, params, entity_ids)
    columns = (
        "d.seq, d.id, d.published, d.language, coalesce(d.cluster_id, d.id) AS cluster_key, "
        f"{_STORY_KEY} AS story_key"
    )
    if node is None:
        source = f"SELECT {columns}, 0.0 AS score FROM documents AS d"
    else:
        expression, negated = to_fts5(node)
        params["expression"] = expression
        if negated:
            source = f"SELECT {columns}, 0.0 AS score FROM documents AS d"
            clauses.insert(
                0,
                "d.seq NOT IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH"
                " :expression)",
            )
        else:
            source = (
                f"SELECT {columns}, {_SCORE} AS score"
                " FROM documents_fts JOIN documents AS d ON d.seq = documents_fts.rowid"
            )
            clauses.insert(0, "documents_fts MATCH :expression")
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    if query.collapse or query.collapse_story:
        key = "story_key" if query.collapse_story else "cluster_key"
        result = (
            "SELECT seq, id, published, language, score FROM ("
            " SELECT *, row_number() OVER"
            f" (PARTITION BY {key} ORDER BY {_ORDER}) AS rank_in_cluster FROM matched"
            ") WHERE rank_in_cluster = 1"
        )
    else:
        result = "SELECT seq, id, published, language, score FROM matched"
    return _Sql(f"WITH matched AS ({source}{where}), result AS ({result})", params)


# CROSS JOIN is SQLite's way to fix the join order: the result set drives and each of its
# documents looks up its own side rows by primary key. Left to itself the planner may scan the
# whole side table and probe the result instead, which costs the size of the index, not of the
# result.
_FACETS = """
    SELECT 'language' AS kind, language AS value, NULL AS entity_id, NULL AS normal, count(*) AS n
    FROM result GROUP BY language
    UNION ALL
    SELECT 'currency', m.currency, NULL, NULL, count(*)
    FROM result AS r CROSS JOIN doc_money AS m ON m.seq = r.seq GROUP BY m.currency
    UNION ALL
    SELECT 'entity:' || r.language, e.type, e.entity_id, e.normal, count(*)
    FROM result AS r CROSS JOIN doc_entities AS e ON e.seq = r.seq
    GROUP BY r.language, e.type, e.entity_id, e.normal
"""

_DIALECT = Dialect(
    key="seq",
    documents="documents",
    entities="json_extract(d.document, '$.entities')",
    money="json_extract(d.document, '$.money')",
    order=_ORDER,
    placeholder=":{}",
    facets=_FACETS,
    typed_nulls=False,
)


# --- stories (see services.index.stories) --------------------------------------------------------

# The documents of a story: those given its id, or an id that is now an alias of it (an alias
# given as the filter resolves to its survivor first).
_STORY_FILTER = (
    "d.story_id IN (SELECT s FROM (SELECT coalesce((SELECT survivor FROM story_aliases"
    " WHERE story_id = :story), :story) AS s) UNION ALL SELECT story_id FROM story_aliases"
    " WHERE survivor = coalesce((SELECT survivor FROM story_aliases WHERE story_id = :story),"
    " :story))"
)
# What one hit per story partitions by: the story now (through an alias), else the
# near-duplicate cluster (a document without a story is its own group).
_STORY_KEY = (
    "coalesce((SELECT survivor FROM story_aliases WHERE story_id = d.story_id), d.story_id,"
    " d.cluster_id, d.id)"
)
_RECEIVED_DAY = "substr(json_extract(d.document, '$.received_at'), 1, 10)"
_MEMBER_COLUMNS = stories.member_columns(
    _RECEIVED_DAY,
    "json_extract(d.document, '$.story_similarity')",
    "json_extract(d.document, '$.entities')",
)
_ALIAS_STATEMENTS = stories.alias_statements("story_aliases", ":{}")


def _record_story_aliases(
    conn: sqlite3.Connection, doc: EnrichedDocument, stored: str | None
) -> None:
    """Record the aliases ``doc``'s upsert makes (its merges, or its re-assignment by a new
    stories version: ``stored`` is the document as stored before, JSON)."""
    stored_story = stored_version = None
    if stored is not None:
        before = json.loads(stored)
        stored_story = before.get("story_id")
        stored_version = before.get("enrichers", {}).get("stories")
    for old, new in stories.aliases_for(doc, stored_story, stored_version):
        for statement in _ALIAS_STATEMENTS:
            conn.execute(statement, {"old": old, "new": new})


def _is_stale(enrichers: str | None, versions: dict[str, str]) -> bool:
    recorded = json.loads(enrichers) if enrichers else {}
    return any(recorded.get(name) != version for name, version in versions.items())


class SqliteIndex(AnsweringIndex):
    """A search index in one SQLite file (or ``:memory:``); many processes may open one file."""

    def __init__(
        self,
        path: str | PathLike[str],
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: the sqlite3 module must not open transactions behind our back;
        # every write opens its own BEGIN IMMEDIATE.
        self._conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None)
        self._clock = clock
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            self._enter_wal_mode(busy_timeout_ms / 1000)
            # In WAL mode NORMAL cannot corrupt the file; a power cut may only lose the last
            # commits, which redelivery re-indexes.
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except BaseException:
            self._conn.close()
            raise

    def _enter_wal_mode(self, patience_s: float) -> None:
        """Switch the file to WAL, waiting out other openers.

        Changing the journal mode needs the file to itself, and SQLite answers "database is
        locked" at once (without its busy handler) while another process is switching or
        migrating it, so several workers starting together must retry here.
        """
        deadline = time.monotonic() + patience_s
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def close(self) -> None:
        """Close the connection; the index is unusable afterwards."""
        self._conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
        # writes can fail with SQLITE_BUSY at once, without waiting for busy_timeout.
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
            self._conn.execute("COMMIT")
        except BaseException:
            # Also after a failed COMMIT: a transaction left open would break every later write.
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise

    def _schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        if self._schema_version() == SCHEMA_VERSION:
            return
        with self._write() as conn:
            # Re-read under the lock: another process may have migrated meanwhile.
            version = self._schema_version()
            if version > SCHEMA_VERSION:
                msg = f"index schema version {version} is newer than supported {SCHEMA_VERSION}"
                raise IndexSchemaError(msg)
            for target in range(version + 1, SCHEMA_VERSION + 1):
                _MIGRATIONS[target](conn)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @property
    def schema_version(self) -> int:
        """The schema version recorded in the file (``PRAGMA user_version``)."""
        return self._schema_version()

    # --- writing ------------------------------------------------------------------------------

    def _store(self, conn: sqlite3.Connection, item: _Prepared) -> bool | None:
        """Write one prepared document; True if new, False if replaced, None if unchanged."""
        doc = item.doc
        found = conn.execute(_FIND, (doc.id,)).fetchone()
        if found is not None and found[1] == item.payload:
            return None
        columns = {
            "id": doc.id,
            "title": doc.title,
            "body": doc.body,
            "language": doc.language,
            "published": doc.published.isoformat() if doc.published else None,
            "receipt": doc.receipt,
            "filename": doc.filename,
            "indexed_at": self._clock().isoformat(),
            "document": item.payload,
            "cluster_id": doc.cluster_id,
            "has_money": int(bool(item.currencies)),
            "story_id": doc.story_id,
        }
        _record_story_aliases(conn, doc, found[1] if found else None)
        if found is None:
            seq = int(conn.execute(_INSERT, columns).fetchone()[0])
        else:
            seq = int(found[0])
            conn.execute(_UPDATE, columns)
            for delete in _DELETE_SIDE_ROWS:
                conn.execute(delete, (seq,))
        conn.execute(
            "INSERT INTO documents_fts (rowid, title, body) VALUES (?, ?, ?)",
            (seq, item.title_stems, item.body_stems),
        )
        _write_side_rows(conn, seq, item)
        return found is None

    def upsert(self, doc: EnrichedDocument) -> bool:
        """Store ``doc``, replacing any earlier version with its id; return whether it was new.

        Storing the same document again writes nothing, so a redelivered task changes nothing.
        A different version under the same id (a re-enrichment, a new receipt) replaces the row,
        its full-text entry and its entity and money rows.
        """
        item = _prepare(doc)
        with self._write() as conn:
            return self._store(conn, item) is True

    def upsert_many(self, docs: Iterable[EnrichedDocument]) -> int:
        """Upsert ``docs`` in one transaction (much faster than one each); return how many were
        new. A document repeated in ``docs`` is stored once, its last version winning."""
        items = [_prepare(doc) for doc in docs]
        with self._write() as conn:
            return sum(self._store(conn, item) is True for item in items)

    # --- reading ------------------------------------------------------------------------------

    def get(self, doc_id: str) -> EnrichedDocument | None:
        """Return the document exactly as it was stored, or None."""
        row = self._conn.execute(_GET, (doc_id,)).fetchone()
        return None if row is None else EnrichedDocument.model_validate_json(row[0])

    def count(self) -> int:
        """Return how many documents the index holds."""
        return int(self._conn.execute("SELECT count(*) FROM documents").fetchone()[0])

    def stale(self, versions: dict[str, str]) -> Iterator[EnrichedDocument]:
        """Yield stored documents whose recorded version of any enricher in ``versions`` differs
        (or is missing), in storage order. Reads in batches, so callers may upsert meanwhile."""
        after = 0
        while True:
            rows = self._conn.execute(
                "SELECT seq, json_extract(document, '$.enrichers') FROM documents"
                " WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, _STALE_BATCH),
            ).fetchall()
            if not rows:
                return
            after = rows[-1][0]
            wanted = [seq for seq, enrichers in rows if _is_stale(enrichers, versions)]
            if not wanted:
                continue
            marks = ", ".join("?" * len(wanted))
            found = self._conn.execute(
                f"SELECT document FROM documents WHERE seq IN ({marks}) ORDER BY seq", wanted
            ).fetchall()
            for (payload,) in found:
                yield EnrichedDocument.model_validate_json(payload)

    # --- stories ------------------------------------------------------------------------------

    def resolve_story(self, story_id: str) -> str:
        """The story ``story_id`` is part of now (itself, unless merged or re-assigned)."""
        row = self._conn.execute(
            "SELECT survivor FROM story_aliases WHERE story_id = ?", (story_id,)
        ).fetchone()
        return str(row[0]) if row else story_id

    def stories(self, query: StoriesQuery) -> list[StorySummary]:
        """The stories ``query`` asks for, last seen first (see ``services.index.stories``)."""
        listing = stories.listing_sql("documents", "story_aliases", ":{}", _RECEIVED_DAY, query)
        params = {
            "min_size": query.min_size,
            "since": query.since.isoformat() if query.since else None,
            "lang": query.lang,
            "limit": query.limit,
        }
        ids = [str(row[0]) for row in self._conn.execute(listing, params).fetchall()]
        grouped = stories.group_members(self._members(ids))
        found = (stories.summarise(sid, grouped.get(sid, [])) for sid in ids)
        return [summary for summary in found if summary is not None]

    def story(self, story_id: str) -> StoryDetail | None:
        """One story with its documents; an old (merged) id gives the story it is part of."""
        survivor = self.resolve_story(story_id)
        members = self._members([survivor])
        merged = [
            str(row[0])
            for row in self._conn.execute(
                "SELECT story_id FROM story_aliases WHERE survivor = ?", (survivor,)
            )
        ]
        return stories.detail(survivor, members, merged)

    def _members(self, story_ids: list[str]) -> list[Member]:
        """The documents of these (surviving) stories, with the ids merged into them."""
        if not story_ids:
            return []
        marks = ", ".join("?" * len(story_ids))
        rows = self._conn.execute(
            f"SELECT {_MEMBER_COLUMNS} FROM documents AS d"
            " LEFT JOIN story_aliases AS a ON a.story_id = d.story_id"
            f" WHERE d.story_id IN ({marks}) OR d.story_id IN"
            f" (SELECT story_id FROM story_aliases WHERE survivor IN ({marks}))",
            [*story_ids, *story_ids],
        ).fetchall()
        return [stories.member_from_row(row) for row in rows]

    def _answer(self, query: SearchQuery, text: str, node: Node | None) -> list[tuple[Any, ...]]:
        del text  # FTS5 is given the compiled expression, never the text itself
        statement, params = _statement(query, node, self.entity_ids(query))
        return self._conn.execute(statement, params).fetchall()

    def _named_entities(
        self, name: str, kind: EntityType | None, limit: int
    ) -> list[tuple[str, list[fields.NamedEntity]]]:
        params: dict[str, Any] = {"limit": limit}
        where = " AND ".join(_filters(SearchQuery(entity=name, type=kind), params))
        rows = self._conn.execute(
            "SELECT d.language, json_extract(d.document, '$.entities') FROM documents AS d"
            f" WHERE {where} LIMIT :limit",
            params,
        ).fetchall()
        return [
            (language, fields.named_entities(json.loads(entities or "[]")))
            for language, entities in rows
        ]

    def _plan(
        self, query: SearchQuery, text: str, node: Node | None, *, analyze: bool
    ) -> list[str]:
        """SQLite's query plan. It has no ANALYZE of a plan, so ``analyze`` adds nothing."""
        del text, analyze
        statement, params = _statement(query, node, self.entity_ids(query))
        plan = self._conn.execute(f"EXPLAIN QUERY PLAN {statement}", params).fetchall()
        return [str(row[3]) for row in plan]


def _statement(
    query: SearchQuery, node: Node | None, entity_ids: Sequence[str]
) -> tuple[str, dict[str, Any]]:
    sql = _search_sql(query, node, entity_ids)
    statement = answer_sql(_DIALECT, facets=query.facets).format(ctes=sql.ctes)
    return statement, {**sql.params, "limit": query.limit, "offset": query.offset}
