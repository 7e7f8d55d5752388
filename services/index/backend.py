"""What every index backend offers, so the index worker, the command and the HTTP API work the
same over the embedded SQLite index and PostgreSQL.

``open_backend(url)`` picks the backend from ``NEWSFLOW_INDEX_URL``: a file path (or
``sqlite:///path``) is SQLite, ``postgresql://...`` is PostgreSQL. Both give a ``SearchQuery`` the
same meaning; the shared suite in ``tests/integration/test_search_backends.py`` holds them to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from functools import partial
from types import TracebackType
from typing import Literal, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.index.stories import StoriesQuery, StoryDetail, StorySummary
from shared.messages import EnrichedDocument, Entity, EntityType, MoneyMention

_RATE_PAIR = re.compile(r"(?:[A-Z]{3})?/[A-Z]{3}")


class SearchQuery(BaseModel):
    """A search as people write it, with the filters scripts rely on.

    ``q`` uses the web-search syntax people know (PostgreSQL's ``websearch_to_tsquery``): words
    (all must match), "quoted phrases", ``-word`` to exclude, ``OR`` between alternatives; both
    backends give it the same meaning.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    q: str = ""
    lang: str | None = None
    entity: str | None = Field(default=None, description="An entity id (e.g. BY) or a name.")
    type: EntityType | None = Field(default=None, description="Only documents with this type.")
    currency: str | None = None
    rate: str | None = Field(
        default=None,
        description="Only documents quoting this rate, BASE/QUOTE (USD/BYN); /QUOTE for a rate "
        "whose base is not written (the header line's).",
    )
    has_money: bool | None = None
    since: date | None = None
    until: date | None = None
    collapse: bool = Field(default=True, description="One hit per near-duplicate cluster.")
    story: str | None = Field(
        default=None, description="Only this story's documents (an old, merged id resolves)."
    )
    collapse_story: bool = Field(
        default=False, description="One hit per story (documents without one: per cluster)."
    )
    facets: bool = False
    label_language: str | None = Field(
        default=None,
        pattern="^[a-z]{2,3}$",
        description="The language entity facet labels are shown in (ISO 639-1); unset: the "
        "NEWSFLOW_DISPLAY_LANGUAGE setting.",
    )
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)

    @field_validator("lang")
    @classmethod
    def _lower_language(cls, value: str | None) -> str | None:
        return None if value is None else value.strip().lower()

    @field_validator("currency")
    @classmethod
    def _upper_currency(cls, value: str | None) -> str | None:
        return None if value is None else value.strip().upper()

    @field_validator("rate")
    @classmethod
    def _rate_pair(cls, value: str | None) -> str | None:
        if value is None:
            return None
        pair = value.strip().upper()
        if _RATE_PAIR.fullmatch(pair) is None:
            msg = f"rate must be BASE/QUOTE in ISO 4217 codes (USD/BYN), not {value!r}"
            raise ValueError(msg)
        return pair

    @field_validator("entity")
    @classmethod
    def _strip_entity(cls, value: str | None) -> str | None:
        return None if value is None else value.strip()


class SearchHit(BaseModel):
    """One result: enough to list it (title, date, snippet) and fetch the document by its id.

    ``score`` is higher-is-better and comparable only within one result list and backend;
    ``snippet`` is the original text around the first match, each matching word in ``[ ]``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    published: date | None
    language: str
    score: float
    snippet: str
    entities: list[Entity] = Field(default_factory=list)
    money: list[MoneyMention] = Field(default_factory=list)
    cluster_id: str | None = None


class FacetCount(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str
    count: int
    label: str | None = Field(default=None, description="For entities: the normal form.")


class Facets(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    language: list[FacetCount] = Field(default_factory=list)
    entities: dict[Literal["PER", "ORG", "LOC"], list[FacetCount]] = Field(default_factory=dict)
    currency: list[FacetCount] = Field(default_factory=list)


class SearchResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    total: int
    hits: list[SearchHit]
    facets: Facets | None = None


class IndexSchemaError(RuntimeError):
    """The index was laid out by a newer schema version than this code understands."""


class ClosingOnExit:
    """``with backend:`` closes it at the end; each backend defines ``close``."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError


class IndexBackend(Protocol):
    def upsert(self, doc: EnrichedDocument) -> bool:
        """Store ``doc`` by its id; idempotent. True when the id was new."""

    def upsert_many(self, docs: Iterable[EnrichedDocument]) -> int:
        """Upsert ``docs`` in one transaction; return how many ids were new."""

    def get(self, doc_id: str) -> EnrichedDocument | None: ...

    def count(self) -> int: ...

    def search(self, query: SearchQuery) -> SearchResult: ...

    def entity_ids(self, query: SearchQuery) -> list[str]:
        """The ids ``query.entity`` resolves to, when it is a name."""

    def explain(self, query: SearchQuery, *, analyze: bool = False) -> list[str]:
        """The database's plan for ``query``; ``analyze`` runs it too, where the database can."""

    def stale(self, versions: dict[str, str]) -> Iterator[EnrichedDocument]:
        """Stored documents whose recorded enricher versions differ from ``versions``."""

    def resolve_story(self, story_id: str) -> str:
        """The story ``story_id`` is part of now: itself, or the story it was merged into."""

    def stories(self, query: StoriesQuery) -> list[StorySummary]:
        """Stories, last seen first, with size, languages, time span, entities and titles."""

    def story(self, story_id: str) -> StoryDetail | None:
        """One story with its documents (an old id gives the story it is now part of)."""

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


def open_backend(url: str) -> IndexBackend:
    """Open the index ``url`` names: ``postgresql://...`` (or ``postgres://``) is PostgreSQL,
    ``sqlite:///path`` or a plain path (or ``:memory:``) is SQLite."""
    return backend_opener(url)()


def backend_opener(url: str) -> Callable[[], IndexBackend]:
    """What opens the index ``url`` names, its backend's module imported but nothing opened (the
    index worker asks before it forks, so that its children share the module instead of each
    importing its own).

    The backends are imported here, not at the top: each imports this module for the models, and
    a SQLite-only install must not need psycopg.
    """
    if url.startswith(("postgresql://", "postgres://")):
        from services.index.postgres import PostgresIndex  # noqa: PLC0415  # see docstring

        return partial(PostgresIndex, url)
    if "://" in url and not url.startswith("sqlite:///"):
        msg = f"unsupported index URL {url!r}: use a path, sqlite:///path or postgresql://..."
        raise ValueError(msg)
    from services.index.sqlite import SqliteIndex  # noqa: PLC0415  # see docstring

    return partial(SqliteIndex, url.removeprefix("sqlite:///"))
