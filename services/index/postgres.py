"""The PostgreSQL index backend, for indexes shared by many workers and hosts.

One ``documents`` row per document: the whole ``EnrichedDocument`` as JSONB, the columns searches
filter, sort and show, a weighted ``tsvector`` (title A over body B) built with the document's own
text search configuration (russian, german, english, or simple; Belarusian and Ukrainian text
arrives stemmed in Python, ``services.index.lemmas``, and is stored as simple words), and array
columns holding what the entity and money filters and facets need, each with an index that serves
its filter. The schema lives in one PostgreSQL schema (``?schema=name`` in the URL, else the
connection's current schema), created and migrated at start under an advisory lock;
``newsflow_migrations`` records which versions are applied.

Every write is one ``INSERT ... ON CONFLICT DO UPDATE`` keyed by the document id, so redelivered
and concurrent upserts of a document leave exactly one row, and an unchanged document writes
nothing. Each process gets its own connection pool, opened on first use, so a pool is never
shared across a fork. Connection failures surface as ``TransientError`` (the task retries them).
This module never changes a document, and passes query text to PostgreSQL only as a parameter of
``websearch_to_tsquery``, which accepts any text.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from services.index import fields, stories
from services.index.backend import IndexSchemaError, SearchQuery
from services.index.query import Node, is_negative, to_tsquery_text
from services.index.search import AnsweringIndex, Dialect, answer_sql
from services.index.stemming import stem_text
from services.index.stories import Member, StoriesQuery, StoryDetail, StorySummary
from shared.errors import TransientError
from shared.messages import EnrichedDocument, EntityType

__all__ = ["SCHEMA_VERSION", "PostgresIndex", "parse_index_url"]

SCHEMA_VERSION = 4

# A tsvector holds at most 1 MB; news bodies are a few KiB, but a huge one must not make the
# document unindexable. The full body is still stored and shown; only its tail is not searchable.
MAX_SEARCHABLE_CHARS = 500_000

_STALE_BATCH = 500
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

# Migrations in order; each runs once, in the transaction that records it. Statements name the
# schema as {schema}; every other brace would be read as a placeholder, so none appear.
# - id is COLLATE "C" so ties sort by plain code points, exactly as SQLite sorts them.
# - entity_keys holds "type:LOC", "id:BY", "name:беларусь" and the same typed ("LOC:id:BY",
#   "LOC:name:беларусь"), one GIN index serving the entity and type filters; the three
#   entity_* arrays are parallel (one element per distinct type and id) and feed the facets.
# - The (published, id) indexes serve listings without a query, newest first.
_MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (
        1,
        "documents and claims",
        (
            """
            CREATE TABLE {schema}.documents (
                id text COLLATE "C" PRIMARY KEY,
                title text NOT NULL,
                body text NOT NULL,
                language text NOT NULL,
                config text NOT NULL,
                published date,
                receipt text NOT NULL,
                filename text NOT NULL,
                cluster_id text,
                cluster_key text COLLATE "C" GENERATED ALWAYS AS (coalesce(cluster_id, id)) STORED,
                has_money boolean NOT NULL,
                currencies text[] NOT NULL,
                entity_keys text[] NOT NULL,
                entity_types text[] NOT NULL,
                entity_ids text[] NOT NULL,
                entity_normals text[] NOT NULL,
                enrichers jsonb NOT NULL,
                tsv tsvector NOT NULL,
                document jsonb NOT NULL,
                indexed_at timestamptz NOT NULL
            )
            """,
            # Ranking reads every matching row's tsvector: kept in the row (MAIN), it costs no
            # TOAST lookups, which the long body and document columns take instead. lz4 reads
            # back several times faster than the default pglz; a server built without it
            # keeps pglz (the DO block swallows only that refusal).
            "ALTER TABLE {schema}.documents ALTER COLUMN tsv SET STORAGE MAIN",
            """
            DO $$
            BEGIN
                ALTER TABLE {schema}.documents
                    ALTER COLUMN tsv SET COMPRESSION lz4,
                    ALTER COLUMN body SET COMPRESSION lz4,
                    ALTER COLUMN document SET COMPRESSION lz4;
            EXCEPTION WHEN feature_not_supported THEN
                RAISE NOTICE 'lz4 not available, keeping the default compression';
            END
            $$
            """,
            "CREATE INDEX documents_tsv ON {schema}.documents USING gin (tsv)",
            "CREATE INDEX documents_entity_keys ON {schema}.documents USING gin (entity_keys)",
            "CREATE INDEX documents_currencies ON {schema}.documents USING gin (currencies)",
            """
            CREATE INDEX documents_published
            ON {schema}.documents (published DESC NULLS LAST, id)
            """,
            """
            CREATE INDEX documents_language_published
            ON {schema}.documents (language, published DESC NULLS LAST, id)
            """,
            "CREATE INDEX documents_cluster_key ON {schema}.documents (cluster_key)",
            """
            CREATE TABLE {schema}.claims (
                doc_id text PRIMARY KEY,
                receipt text NOT NULL,
                claimed_at timestamptz NOT NULL
            )
            """,
        ),
    ),
    # Exact-duplicate claims moved to enrich (``services.enrich.dedupe``: Redis for the workers,
    # a file of its own for the in-process runner). Migration 1 is left as released.
    (2, "claims moved to enrich", ("DROP TABLE IF EXISTS {schema}.claims",)),
    (
        3,
        "rate pairs",
        # The rates a document quotes («USD/BYN», «/BYN» with no base), derived from the stored
        # document by the database itself, so the upsert does not change: the same strings as
        # fields.rate_pairs. Adding the stored column computes it for every existing row.
        (
            """
            CREATE FUNCTION {schema}.newsflow_rate_pairs(document jsonb) RETURNS text[]
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            RETURN ARRAY(
                SELECT DISTINCT coalesce(rate ->> 'base', '') || '/' || (rate ->> 'quote')
                FROM jsonb_array_elements(coalesce(document -> 'rates', '[]'::jsonb)) AS rate
                ORDER BY 1
            )
            """,
            """
            ALTER TABLE {schema}.documents ADD COLUMN rate_pairs text[] NOT NULL
            GENERATED ALWAYS AS ({schema}.newsflow_rate_pairs(document)) STORED
            """,
            "CREATE INDEX documents_rate_pairs ON {schema}.documents USING gin (rate_pairs)",
        ),
    ),
    # Stories: story_id as a column (filtered and grouped on), backfilled from the documents;
    # story_aliases maps a merged or re-assigned story id to the story it is part of now.
    (
        4,
        "stories",
        (
            'ALTER TABLE {schema}.documents ADD COLUMN story_id text COLLATE "C"',
            "UPDATE {schema}.documents SET story_id = document ->> 'story_id'",
            "CREATE INDEX documents_story ON {schema}.documents (story_id)",
            """
            CREATE TABLE {schema}.story_aliases (
                story_id text COLLATE "C" PRIMARY KEY,
                survivor text COLLATE "C" NOT NULL
            )
            """,
            "CREATE INDEX story_aliases_survivor ON {schema}.story_aliases (survivor)",
        ),
    ),
)

_UPSERT = """
    INSERT INTO {schema}.documents AS d (
        id, title, body, language, config, published, receipt, filename, cluster_id, story_id,
        has_money, currencies, entity_keys, entity_types, entity_ids, entity_normals,
        enrichers, document, indexed_at, tsv
    ) VALUES (
        %(id)s, %(title)s, %(body)s, %(language)s, %(config)s, %(published)s, %(receipt)s,
        %(filename)s, %(cluster_id)s, %(story_id)s, %(has_money)s, %(currencies)s,
        %(entity_keys)s,
        %(entity_types)s, %(entity_ids)s, %(entity_normals)s, %(enrichers)s, %(document)s,
        %(indexed_at)s,
        setweight(to_tsvector(%(regconfig)s::text::regconfig, %(title_text)s), 'A')
        || setweight(
            to_tsvector(%(regconfig)s::text::regconfig, left(%(body_text)s, %(max_chars)s)), 'B'
        )
    )
    ON CONFLICT (id) DO UPDATE SET
        title = EXCLUDED.title, body = EXCLUDED.body, language = EXCLUDED.language,
        config = EXCLUDED.config, published = EXCLUDED.published, receipt = EXCLUDED.receipt,
        filename = EXCLUDED.filename, cluster_id = EXCLUDED.cluster_id,
        story_id = EXCLUDED.story_id, has_money = EXCLUDED.has_money,
        currencies = EXCLUDED.currencies,
        entity_keys = EXCLUDED.entity_keys, entity_types = EXCLUDED.entity_types,
        entity_ids = EXCLUDED.entity_ids, entity_normals = EXCLUDED.entity_normals,
        enrichers = EXCLUDED.enrichers, document = EXCLUDED.document,
        indexed_at = EXCLUDED.indexed_at, tsv = EXCLUDED.tsv
    WHERE d.document IS DISTINCT FROM EXCLUDED.document
        OR d.config IS DISTINCT FROM EXCLUDED.config
        OR d.entity_keys IS DISTINCT FROM EXCLUDED.entity_keys
        OR d.entity_normals IS DISTINCT FROM EXCLUDED.entity_normals
    RETURNING (xmax = 0) AS inserted
"""
# RETURNING gives no row when the stored row is the same (the WHERE skipped the update); xmax is
# 0 only on a freshly inserted row version, so it tells an insert from an update. A document
# stored by an older newsflow that derived its search columns differently (names without their
# phonetic keys, Belarusian and Ukrainian unstemmed, facet normals first seen rather than
# fullest) is rewritten when upserted again, which
# `newsflow reindex` does for every document.

_ORDER = 'score DESC, published DESC NULLS LAST, id COLLATE "C"'


def _server_gone(error: psycopg.OperationalError) -> bool:
    """The server is unreachable (or the pool could not get a connection to it), as opposed to
    a deadlock or serialization failure on a healthy connection, which a retry alone heals."""
    if isinstance(error, PoolTimeout):
        return True
    sqlstate = getattr(error, "sqlstate", None)
    return sqlstate is None or str(sqlstate).startswith(("08", "57P"))


def _utcnow() -> datetime:
    return datetime.now(UTC)


def parse_index_url(url: str) -> tuple[str, str | None]:
    """Split an index URL into the libpq connection URL and the ``schema`` parameter, if any.

    ``schema`` is ours, not libpq's, so it is taken out; everything else (``options``,
    ``sslmode``, ...) goes to libpq untouched.
    """
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for key, value in params if key == "schema"]
    rest = [(key, value) for key, value in params if key != "schema"]
    schema = schemas[-1] if schemas else None
    if schema is not None and not _SCHEMA_NAME.match(schema):
        msg = f"invalid schema name {schema!r}: letters, digits and _, not starting with a digit"
        raise ValueError(msg)
    return urlunsplit(parts._replace(query=urlencode(rest))), schema


def _entity_keys(doc: EnrichedDocument) -> list[str]:
    keys: set[str] = set()
    for facet in fields.entity_facets(doc):
        keys |= {f"type:{facet.type}", f"id:{facet.id}", f"{facet.type}:id:{facet.id}"}
    for kind, name in fields.entity_names(doc):
        keys |= {f"name:{name}", f"{kind}:name:{name}"}
    return sorted(keys)


def _row(doc: EnrichedDocument, indexed_at: datetime) -> dict[str, Any]:
    facets = fields.entity_facets(doc)
    currencies = fields.currencies(doc)
    config = fields.text_config(doc.language)
    # Languages PostgreSQL cannot stem arrive stemmed (the same stems SQLite stores); the others
    # are stemmed by PostgreSQL's own configuration from the text as it is.
    stemmed = fields.python_stemmed(config)
    return {
        "id": doc.id,
        "title": doc.title,
        "body": doc.body,
        "language": doc.language,
        "config": config,
        "regconfig": fields.regconfig(config),
        "title_text": stem_text(doc.title, doc.language) if stemmed else doc.title,
        "body_text": stem_text(doc.body, doc.language) if stemmed else doc.body,
        "published": doc.published,
        "receipt": doc.receipt,
        "filename": doc.filename,
        "cluster_id": doc.cluster_id,
        "story_id": doc.story_id,
        "has_money": bool(currencies),
        "currencies": currencies,
        "entity_keys": _entity_keys(doc),
        "entity_types": [facet.type for facet in facets],
        "entity_ids": [facet.id for facet in facets],
        "entity_normals": [facet.normal for facet in facets],
        "enrichers": Jsonb(doc.enrichers),
        "document": Jsonb(doc.model_dump(mode="json")),
        "indexed_at": indexed_at,
        "max_chars": MAX_SEARCHABLE_CHARS,
    }


def _advisory_key(schema: str) -> int:
    digest = hashlib.blake2b(f"newsflow-index:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _first_search_path_schema(conn: psycopg.Connection[Any]) -> str | None:
    row = conn.execute("SELECT current_schema()").fetchone()
    if row is not None and row[0] is not None:
        return str(row[0])
    # The search path names a schema that does not exist yet (e.g. options=-csearch_path=x):
    # that is the one to create.
    path = conn.execute("SHOW search_path").fetchone()
    for entry in str(path[0] if path else "").split(","):
        name = entry.strip().strip('"')
        if name and name != "$user":
            return name
    return None


@dataclass
class _Search:
    """A search's ``matched`` and ``result`` CTEs and their parameters."""

    ctes: sql.Composed
    params: dict[str, Any]


class PostgresIndex(AnsweringIndex):
    """A search index in a PostgreSQL schema; any number of processes and threads may share it.

    The schema is created or migrated when this is constructed (a short-lived connection);
    queries go through a per-process pool opened on first use.
    """

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 4,
        timeout: float = 10.0,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._conninfo, schema = parse_index_url(url)
        self._min_size = min_size
        self._max_size = max_size
        self._timeout = timeout
        self._clock = clock
        self._pool_lock = threading.Lock()
        self._pool: ConnectionPool | None = None
        self._pool_pid = 0
        self._closed = False
        self.schema = self._migrate(schema)
        self._sql: dict[str, sql.Composed] = {}

    # --- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close this process's pool; the index is unusable afterwards."""
        with self._pool_lock:
            self._closed = True
            if self._pool is not None and self._pool_pid == os.getpid():
                self._pool.close()
            self._pool = None

    def _connect_pool(self) -> ConnectionPool:
        pid = os.getpid()
        with self._pool_lock:
            if self._closed:
                msg = "the index is closed"
                raise RuntimeError(msg)
            if self._pool is None or self._pool_pid != pid:
                # A pool inherited through fork shares its sockets with the parent: it is
                # dropped, never used or closed here (psycopg does not close a connection on
                # garbage collection in a process other than the one that opened it).
                pool = ConnectionPool(
                    self._conninfo,
                    min_size=self._min_size,
                    max_size=self._max_size,
                    timeout=self._timeout,
                    open=False,
                    check=ConnectionPool.check_connection,
                    kwargs={"connect_timeout": 5},
                    name=f"newsflow-index-{pid}",
                )
                try:
                    pool.open(wait=True, timeout=min(self._timeout, 5.0))
                except BaseException:
                    pool.close()  # its reconnect threads would otherwise live on
                    raise
                self._pool, self._pool_pid = pool, pid
            return self._pool

    def _reset_pool(self) -> None:
        """Drop this process's pool after the server failed us, so the next use connects anew
        at once. A pool left alone keeps reconnecting on its own exponential backoff, which
        after an outage of minutes can keep the stage waiting a minute or more after the
        server is back."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None and self._pool_pid == os.getpid():
            pool.close(timeout=1.0)

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection in a transaction, committed on success, rolled back on error."""
        try:
            with self._connect_pool().connection() as conn:
                yield conn
        except psycopg.OperationalError as error:
            # Unreachable server, pool timeout, deadlock or serialization failure: all may heal.
            if _server_gone(error):
                self._reset_pool()
            msg = f"PostgreSQL index unavailable: {error}"
            raise TransientError(msg) from error

    def _migrate(self, schema: str | None) -> str:
        try:
            with psycopg.connect(self._conninfo, connect_timeout=int(self._timeout)) as conn:
                schema = schema or _first_search_path_schema(conn)
                if schema is None:
                    msg = "no schema to use: add ?schema=name to the index URL"
                    raise IndexSchemaError(msg)
                self._apply_migrations(conn, schema)
        except psycopg.OperationalError as error:
            msg = f"PostgreSQL index unavailable: {error}"
            raise TransientError(msg) from error
        return schema

    def _apply_migrations(self, conn: psycopg.Connection[Any], schema: str) -> None:
        name = sql.Identifier(schema)
        # One transaction, serialised by an advisory lock: workers starting together wait for
        # the first to finish, then find nothing left to do. DDL is transactional in
        # PostgreSQL, so a failed migration leaves no half-built schema.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_advisory_key(schema),))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.newsflow_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            ).format(name)
        )
        applied = {
            int(row[0])
            for row in conn.execute(
                sql.SQL("SELECT version FROM {}.newsflow_migrations").format(name)
            ).fetchall()
        }
        current = max(applied, default=0)
        if current > SCHEMA_VERSION:
            msg = f"index schema version {current} is newer than supported {SCHEMA_VERSION}"
            raise IndexSchemaError(msg)
        for version, title, statements in _MIGRATIONS:
            if version in applied:
                continue
            for statement in statements:
                conn.execute(sql.SQL(statement).format(schema=name))
            conn.execute(
                sql.SQL(
                    "INSERT INTO {}.newsflow_migrations (version, name) VALUES (%s, %s)"
                ).format(name),
                (version, title),
            )

    def _q(self, template: str) -> sql.Composed:
        """``template`` with ``{schema}`` filled in, built once per template."""
        query = self._sql.get(template)
        if query is None:
            query = sql.SQL(template).format(schema=sql.Identifier(self.schema))
            self._sql[template] = query
        return query

    @property
    def schema_version(self) -> int:
        with self._connection() as conn:
            row = conn.execute(
                self._q("SELECT coalesce(max(version), 0) FROM {schema}.newsflow_migrations")
            ).fetchone()
        return int(row[0]) if row else 0

    # --- writing ------------------------------------------------------------------------------

    def upsert(self, doc: EnrichedDocument) -> bool:
        """Store ``doc``, replacing any earlier version with its id; return whether it was new.

        Storing the same document again writes nothing. Concurrent upserts of one id queue on its
        row lock, so whichever commits last wins and exactly one of them reports it new.
        """
        with self._connection() as conn:
            before = self._stored_stories(conn, [doc.id])
            row = conn.execute(self._q(_UPSERT), _row(doc, self._clock())).fetchone()
            self._record_story_aliases(conn, [doc], before)
        return bool(row and row[0])

    def upsert_many(self, docs: Iterable[EnrichedDocument]) -> int:
        """Upsert ``docs`` in one transaction (pipelined); return how many were new.

        Rows are written in id order, so two batches sharing ids lock them in the same order and
        cannot deadlock each other.
        """
        now = self._clock()
        docs = list(docs)
        rows = sorted((_row(doc, now) for doc in docs), key=lambda row: str(row["id"]))
        if not rows:
            return 0
        new = 0
        with self._connection() as conn, conn.cursor() as cursor:
            before = self._stored_stories(conn, [str(row["id"]) for row in rows])
            cursor.executemany(self._q(_UPSERT), rows, returning=True)
            while True:
                found = cursor.fetchone()
                new += bool(found and found[0])
                if not cursor.nextset():
                    break
            self._record_story_aliases(conn, docs, before)
        return new

    # --- reading ------------------------------------------------------------------------------

    def get(self, doc_id: str) -> EnrichedDocument | None:
        """Return the document as it was stored, or None."""
        with self._connection() as conn:
            row = conn.execute(
                self._q("SELECT document FROM {schema}.documents WHERE id = %s"), (doc_id,)
            ).fetchone()
        return None if row is None else EnrichedDocument.model_validate(row[0])

    def count(self) -> int:
        """Return how many documents the index holds."""
        with self._connection() as conn:
            row = conn.execute(self._q("SELECT count(*) FROM {schema}.documents")).fetchone()
        return int(row[0]) if row else 0

    def stale(self, versions: dict[str, str]) -> Iterator[EnrichedDocument]:
        """Yield stored documents whose recorded version of any enricher in ``versions`` differs
        (or is missing), in id order. Reads in batches, holding no connection across a yield."""
        after = ""
        query = self._q(
            "SELECT id, document FROM {schema}.documents"
            " WHERE id > %s AND NOT enrichers @> %s ORDER BY id LIMIT %s"
        )
        while True:
            with self._connection() as conn:
                rows = conn.execute(query, (after, Jsonb(versions), _STALE_BATCH)).fetchall()
            if not rows:
                return
            after = rows[-1][0]
            for _, document in rows:
                yield EnrichedDocument.model_validate(document)

    # --- stories (see services.index.stories) ------------------------------------------------

    def _stored_stories(
        self, conn: psycopg.Connection[Any], ids: list[str]
    ) -> dict[str, tuple[str | None, str | None]]:
        """The story id and stories version each of ``ids`` is stored with, before an upsert."""
        rows = conn.execute(
            self._q(
                "SELECT id, story_id, enrichers ->> 'stories' FROM {schema}.documents"
                " WHERE id = ANY(%s)"
            ),
            (ids,),
        ).fetchall()
        return {str(row[0]): (row[1], row[2]) for row in rows}

    def _record_story_aliases(
        self,
        conn: psycopg.Connection[Any],
        docs: Iterable[EnrichedDocument],
        before: dict[str, tuple[str | None, str | None]],
    ) -> None:
        statements = [
            self._q(statement)
            for statement in stories.alias_statements("{schema}.story_aliases", "%({})s")
        ]
        for doc in docs:
            stored_story, stored_version = before.get(doc.id, (None, None))
            for old, new in stories.aliases_for(doc, stored_story, stored_version):
                for statement in statements:
                    conn.execute(statement, {"old": old, "new": new})

    def resolve_story(self, story_id: str) -> str:
        """The story ``story_id`` is part of now (itself, unless merged or re-assigned)."""
        with self._connection() as conn:
            row = conn.execute(
                self._q("SELECT survivor FROM {schema}.story_aliases WHERE story_id = %s"),
                (story_id,),
            ).fetchone()
        return str(row[0]) if row else story_id

    def stories(self, query: StoriesQuery) -> list[StorySummary]:
        """The stories ``query`` asks for, last seen first (see ``services.index.stories``)."""
        listing = stories.listing_sql(
            "{schema}.documents", "{schema}.story_aliases", "%({})s", _RECEIVED_DAY, query
        )
        params = {
            "min_size": query.min_size,
            "since": query.since,
            "lang": query.lang,
            "limit": query.limit,
        }
        with self._connection() as conn:
            ids = [str(row[0]) for row in conn.execute(self._q(listing), params).fetchall()]
            grouped = stories.group_members(self._members(conn, ids))
        found = (stories.summarise(sid, grouped.get(sid, [])) for sid in ids)
        return [summary for summary in found if summary is not None]

    def story(self, story_id: str) -> StoryDetail | None:
        """One story with its documents; an old (merged) id gives the story it is part of."""
        survivor = self.resolve_story(story_id)
        with self._connection() as conn:
            members = self._members(conn, [survivor])
            merged = [
                str(row[0])
                for row in conn.execute(
                    self._q("SELECT story_id FROM {schema}.story_aliases WHERE survivor = %s"),
                    (survivor,),
                )
            ]
        return stories.detail(survivor, members, merged)

    def _members(self, conn: psycopg.Connection[Any], story_ids: list[str]) -> list[Member]:
        if not story_ids:
            return []
        rows = conn.execute(self._q(_MEMBERS), {"ids": story_ids}).fetchall()
        return [stories.member_from_row(row) for row in rows]

    def _answer(self, query: SearchQuery, text: str, node: Node | None) -> list[tuple[Any, ...]]:
        statement, params = self._statement(query, text, node)
        with self._connection() as conn:
            return conn.execute(statement, params).fetchall()

    def _named_entities(
        self, name: str, kind: EntityType | None, limit: int
    ) -> list[tuple[str, list[fields.NamedEntity]]]:
        params: dict[str, Any] = {"limit": limit}
        where = sql.SQL(" AND ").join(self._filters(SearchQuery(entity=name, type=kind), params))
        statement = sql.SQL(
            "SELECT d.language, d.document -> 'entities' FROM {schema}.documents AS d"
            " WHERE {where} LIMIT %(limit)s"
        ).format(schema=sql.Identifier(self.schema), where=where)
        with self._connection() as conn:
            rows = conn.execute(statement, params).fetchall()
        return [(language, fields.named_entities(entities or [])) for language, entities in rows]

    def _plan(
        self, query: SearchQuery, text: str, node: Node | None, *, analyze: bool
    ) -> list[str]:
        statement, params = self._statement(query, text, node)
        prefix = sql.SQL("EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN ")
        with self._connection() as conn:
            return [str(row[0]) for row in conn.execute(prefix + statement, params)]

    def _statement(
        self, query: SearchQuery, text: str, node: Node | None
    ) -> tuple[sql.Composed, dict[str, Any]]:
        search = self._search_sql(query, text, node)
        template = answer_sql(_DIALECT, facets=query.facets)
        statement = sql.SQL(template).format(ctes=search.ctes, schema=sql.Identifier(self.schema))
        return statement, {**search.params, "limit": query.limit, "offset": query.offset}

    def _search_sql(self, query: SearchQuery, text: str, node: Node | None) -> _Search:
        params: dict[str, Any] = {}
        clauses: list[sql.Composable] = []
        if node is not None:
            # Each document is matched by the query parsed with its own configuration, so a
            # Russian query word meets Russian stems; with a language filter only that
            # language's configuration is consulted.
            configs = (
                (fields.text_config(query.lang),) if query.lang is not None else fields.TEXT_CONFIGS
            )
            params["q"] = text
            for config in fields.TEXT_CONFIGS:
                if fields.python_stemmed(config):
                    params[f"q_{config}"] = to_tsquery_text(node, stemmer=config)
            clauses.append(
                sql.SQL("({})").format(
                    sql.SQL(" OR ").join(
                        sql.SQL("(d.config = {name} AND d.tsv @@ {tsquery})").format(
                            name=sql.Literal(config), tsquery=_tsquery(config)
                        )
                        for config in configs
                    )
                )
            )
            if len(configs) > 1:
                # Any document the per-configuration test accepts matches one of the queries:
                # their union, one GIN scan, finds the candidates that test then rechecks,
                # where one scan per configuration would cost the planner more than a walk
                # over another index.
                clauses.insert(
                    len(clauses) - 1,
                    sql.SQL("d.tsv @@ ({})").format(
                        sql.SQL(" || ").join(_tsquery(config) for config in configs)
                    ),
                )
        clauses.extend(self._filters(query, params, self.entity_ids(query)))
        if node is None or is_negative(node):
            score: sql.Composable = sql.SQL("0.0::float8")
        else:
            score = sql.SQL("ts_rank(d.tsv, CASE d.config {whens} END)::float8").format(
                whens=sql.SQL(" ").join(
                    sql.SQL("WHEN {name} THEN {tsquery}").format(
                        name=sql.Literal(config), tsquery=_tsquery(config)
                    )
                    for config in fields.TEXT_CONFIGS
                )
            )
        extra = (
            sql.SQL(", d.currencies, d.entity_types, d.entity_ids, d.entity_normals")
            if query.facets
            else sql.SQL("")
        )
        where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("")
        matched = sql.SQL(
            "SELECT d.id, d.published, d.language, d.cluster_key{extra}, {score} AS score,"
            " {story_key} AS story_key FROM {schema}.documents AS d{where}"
        ).format(
            extra=extra,
            score=score,
            story_key=self._q(_STORY_KEY),
            schema=sql.Identifier(self.schema),
            where=where,
        )
        result: sql.Composable
        if query.collapse or query.collapse_story:
            result = sql.SQL(
                "SELECT * FROM (SELECT m.*, row_number() OVER"
                " (PARTITION BY {key} ORDER BY {order}) AS rank_in_cluster"
                " FROM matched AS m) AS ranked WHERE rank_in_cluster = 1"
            ).format(
                key=sql.Identifier("story_key" if query.collapse_story else "cluster_key"),
                order=sql.SQL(_ORDER),
            )
        else:
            result = sql.SQL("SELECT * FROM matched")
        ctes = sql.SQL("WITH matched AS ({matched}), result AS ({result})").format(
            matched=matched, result=result
        )
        return _Search(ctes=ctes, params=params)

    def _filters(
        self, query: SearchQuery, params: dict[str, Any], entity_ids: Sequence[str] = ()
    ) -> list[sql.Composable]:
        clauses: list[sql.Composable] = []
        for clause, name, value in _DIALECT.column_filters(query):
            clauses.append(sql.SQL(clause))
            params[name] = value
        if query.currency is not None:
            clauses.append(sql.SQL("d.currencies @> %(currencies)s::text[]"))
            params["currencies"] = [query.currency]
        clauses.extend(_rate_filter(query, params))
        prefix = f"{query.type}:" if query.type is not None else ""
        if query.entity is not None:
            keys = [f"{prefix}id:{query.entity}"]
            name = fields.fold_name(query.entity)
            if name:
                keys.append(f"{prefix}name:{name}")
            # Or any id the name resolves to (``AnsweringIndex.entity_ids``).
            keys.extend(f"{prefix}id:{entity_id}" for entity_id in entity_ids)
            params["entity_keys"] = keys
            # Or every word of the name by its phonetic key (``fields.query_name_keys``).
            by_key: list[sql.Composable] = []
            for word, word_keys in enumerate(fields.query_name_keys(query.entity)):
                params[f"entity_key_{word}"] = [f"{prefix}name:{key}" for key in word_keys]
                by_key.append(
                    sql.SQL("d.entity_keys && {}::text[]").format(
                        sql.Placeholder(f"entity_key_{word}")
                    )
                )
            matches: sql.Composable = sql.SQL("d.entity_keys && %(entity_keys)s::text[]")
            if by_key:
                matches = sql.SQL("({} OR ({}))").format(matches, sql.SQL(" AND ").join(by_key))
            clauses.append(matches)
        elif query.type is not None:
            clauses.append(sql.SQL("d.entity_keys @> %(entity_keys)s::text[]"))
            params["entity_keys"] = [f"type:{query.type}"]
        if query.story is not None:
            clauses.append(self._q(_STORY_FILTER))
            params["story"] = query.story
        return clauses


def _rate_filter(query: SearchQuery, params: dict[str, Any]) -> list[sql.Composable]:
    if query.rate is None:
        return []
    params["rate_pairs"] = [query.rate]
    return [sql.SQL("d.rate_pairs @> %(rate_pairs)s::text[]")]


# Stories (see services.index.stories): the filter takes the story's documents, given its id or
# an id now an alias of it; one hit per story partitions by the story now, else the cluster.
_STORY_FILTER = """d.story_id IN (
    SELECT coalesce((SELECT survivor FROM {schema}.story_aliases WHERE story_id = %(story)s),
                    %(story)s)
    UNION ALL
    SELECT story_id FROM {schema}.story_aliases WHERE survivor = coalesce(
        (SELECT survivor FROM {schema}.story_aliases WHERE story_id = %(story)s), %(story)s))"""
_STORY_KEY = (
    "coalesce((SELECT survivor FROM {schema}.story_aliases AS sa WHERE sa.story_id = d.story_id),"
    " d.story_id, d.cluster_key)"
)
_RECEIVED_DAY = "left(d.document ->> 'received_at', 10)::date"
_MEMBER_COLUMNS = stories.member_columns(
    _RECEIVED_DAY, "(d.document ->> 'story_similarity')::float8", "d.document -> 'entities'"
)
# The documents of these (surviving) stories, with those given an id merged into them since.
_MEMBERS = (
    f"SELECT {_MEMBER_COLUMNS} FROM {{schema}}.documents AS d"  # noqa: S608  (fixed fragments)
    " LEFT JOIN {schema}.story_aliases AS a ON a.story_id = d.story_id"
    " WHERE d.story_id = ANY(%(ids)s) OR d.story_id IN"
    " (SELECT story_id FROM {schema}.story_aliases WHERE survivor = ANY(%(ids)s))"
)


def _tsquery(config: str) -> sql.Composable:
    """The query for documents searched with ``config``: the text parsed by PostgreSQL with
    that configuration, or for a language stemmed in Python, the query compiled here with the
    same stemmer (parameter ``q_<config>``) and read as simple words.

    The configuration is a literal regconfig (not a text cast at run time), so the planner folds
    the tsquery to a constant and can use the GIN index.
    """
    if fields.python_stemmed(config):
        return sql.SQL("to_tsquery('simple'::regconfig, {})").format(sql.Placeholder(f"q_{config}"))
    return sql.SQL("websearch_to_tsquery({}::regconfig, %(q)s)").format(sql.Literal(config))


# Set-returning functions in the select list (zipped in lockstep, one row per array element)
# run about twice as fast as the same unnest in FROM, which pays a function scan per document.
_FACETS = """
    SELECT 'language' AS kind, language AS value, NULL::text AS entity_id, NULL::text AS normal,
           count(*) AS n
    FROM result GROUP BY language
    UNION ALL
    SELECT 'currency', currency, NULL, NULL, count(*)
    FROM (SELECT unnest(currencies) AS currency FROM result) AS c GROUP BY currency
    UNION ALL
    SELECT 'entity:' || language, type, id, normal, count(*)
    FROM (SELECT language, unnest(entity_types) AS type, unnest(entity_ids) AS id,
                 unnest(entity_normals) AS normal FROM result) AS e
    GROUP BY language, type, id, normal
"""

_DIALECT = Dialect(
    key="id",
    documents="{schema}.documents",
    entities="d.document -> 'entities'",
    money="d.document -> 'money'",
    order=_ORDER,
    placeholder="%({})s",
    facets=_FACETS,
    typed_nulls=True,
)
