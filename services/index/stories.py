"""Stories as the index shows them: the story filter, one hit per story, and the story views.

Documents carry the ``story_id`` enrich gave them. When enrich later merges a story into
another (or a re-enrichment gives a document a new story), the old id is recorded in
``story_aliases`` (old id -> surviving id, always pointing at the final survivor: recording
``b -> c`` also repoints every ``a -> b``), so an old id resolves everywhere: the filter, the
views, the API. Documents are never rewritten for it.

Pure functions and SQL text shared by both backends; each backend runs them its own way. Kept
apart from the search module so that stories can change without touching search.
"""

# SQL here is assembled from this module's fixed fragments and the backend's table names;
# values are always bound parameters.
# ruff: noqa: S608

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from shared.messages import EnrichedDocument, Entity, EntityType

TOP_ENTITIES = 8
_ENTITIES = TypeAdapter(list[Entity])


class StoriesQuery(BaseModel):
    """Which stories to list: newest (last seen) first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    since: date | None = Field(default=None, description="Only stories last seen on or after.")
    lang: str | None = Field(default=None, description="Only stories with a document in it.")
    min_size: int = Field(default=1, ge=1, description="Only stories of at least this many.")
    limit: int = Field(default=20, ge=1, le=1000)


class StoryEntity(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    type: EntityType
    label: str = Field(description="Its most frequent name in the story's documents.")
    documents: int = Field(description="How many of the story's documents name it.")


class StorySummary(BaseModel):
    """A story as listed: its size, languages, time span, what it is about."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    size: int
    languages: dict[str, int] = Field(description="Documents per language.")
    first_seen: date | None = Field(description="Earliest published (else received) day.")
    last_seen: date | None
    entities: list[StoryEntity] = Field(default_factory=list)
    titles: dict[str, str] = Field(
        default_factory=dict, description="One title per language: its earliest document's."
    )


class StoryDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    language: str
    published: date | None
    story_similarity: float | None
    story_id: str = Field(description="The id it was given (an alias when merged since).")


class StoryDetail(StorySummary):
    """A story with its documents, oldest first, and the ids that were merged into it."""

    documents: list[StoryDocument] = Field(default_factory=list)
    merged_ids: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Member:
    """One document of a story, as the backends read it: ``story`` is the story it is in now,
    ``story_id`` the id enrich gave it (an alias of ``story`` once merged)."""

    story: str
    story_id: str
    id: str
    title: str
    language: str
    published: date | None
    seen: date | None
    similarity: float | None
    entities: list[Entity]


def member_from_row(row: Sequence[object]) -> Member:
    """A ``Member`` from a row of ``member_columns`` (SQLite hands back text, PostgreSQL values)."""
    story, story_id, doc_id, title, language, published, seen, similarity, entities = row
    return Member(
        story=str(story),
        story_id=str(story_id),
        id=str(doc_id),
        title=str(title),
        language=str(language),
        published=_date(published),
        seen=_date(seen),
        similarity=None if similarity is None else float(str(similarity)),
        entities=_ENTITIES.validate_json(entities)
        if isinstance(entities, str | bytes)
        else _ENTITIES.validate_python(entities or []),
    )


def _date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def aliases_for(
    doc: EnrichedDocument, stored_story: str | None, stored_version: str | None
) -> list[tuple[str, str]]:
    """``(old, new)`` story ids that ``doc``'s upsert makes aliases: the stories it merged, and
    the story it had before a new stories version re-assigned it (so the id users saw
    resolves). The same version giving another id is not a re-assignment: enrich never moves a
    document it already assigned, so that only happens when its story was merged, which the
    merging document records."""
    if doc.story_id is None:
        return []
    pairs = [(old, doc.story_id) for old in doc.story_merged_from if old != doc.story_id]
    if (
        stored_story is not None
        and stored_story != doc.story_id
        and stored_version != doc.enrichers.get("stories")
    ):
        pairs.append((stored_story, doc.story_id))
    return pairs


def alias_statements(aliases: str, placeholder: str) -> tuple[str, str, str]:
    """The three statements that record ``old -> new`` in the ``aliases`` table, in order, all
    with the parameters ``old`` and ``new``: ``new`` is a live story from now on (an alias it had,
    from a rolled-back version, goes), ``old`` points at it (the latest record wins), and so does
    every id that pointed at ``old``, so chains never form. ``placeholder`` spells a named
    parameter (``:{}``, ``%({})s``).
    """
    p = placeholder.format
    return (
        f"DELETE FROM {aliases} WHERE story_id = {p('new')}",
        f"INSERT INTO {aliases} (story_id, survivor) VALUES ({p('old')}, {p('new')})"
        " ON CONFLICT (story_id) DO UPDATE SET survivor = excluded.survivor",
        f"UPDATE {aliases} SET survivor = {p('new')} WHERE survivor = {p('old')}",
    )


def listing_sql(
    documents: str, aliases: str, placeholder: str, received_day: str, query: StoriesQuery
) -> str:
    """The stories ``query`` asks for, as rows ``(story, size, first_seen, last_seen)``, last
    seen first. A document's day is its published date, else the day it was received
    (``received_day``, an expression over ``d``)."""
    p = placeholder.format
    having = [f"count(*) >= {p('min_size')}"]
    if query.since is not None:
        having.append(f"max(seen) >= {p('since')}")
    if query.lang is not None:
        having.append(f"sum(CASE WHEN language = {p('lang')} THEN 1 ELSE 0 END) > 0")
    return (
        "WITH members AS ("
        " SELECT coalesce(a.survivor, d.story_id) AS story, d.language,"
        f" coalesce(d.published, {received_day}) AS seen"
        f" FROM {documents} AS d LEFT JOIN {aliases} AS a ON a.story_id = d.story_id"
        " WHERE d.story_id IS NOT NULL)"
        " SELECT story, count(*) AS size, min(seen) AS first_seen, max(seen) AS last_seen"
        f" FROM members GROUP BY story HAVING {' AND '.join(having)}"
        f" ORDER BY last_seen DESC, size DESC, story LIMIT {p('limit')}"
    )


def member_columns(received_day: str, similarity: str, entities: str) -> str:
    """The columns ``member_from_row`` reads, over ``d`` (documents) and ``a`` (aliases)."""
    return (
        "coalesce(a.survivor, d.story_id), d.story_id, d.id, d.title, d.language, d.published,"
        f" coalesce(d.published, {received_day}), {similarity}, {entities}"
    )


def group_members(members: Iterable[Member]) -> dict[str, list[Member]]:
    grouped: dict[str, list[Member]] = defaultdict(list)
    for member in members:
        grouped[member.story].append(member)
    return grouped


def summarise(story_id: str, members: Iterable[Member]) -> StorySummary | None:
    """A story's summary from its documents (None when it has none)."""
    ordered = sorted(members, key=lambda m: (m.seen or date.max, m.id))
    if not ordered:
        return None
    languages = Counter(member.language for member in ordered)
    titles: dict[str, str] = {}
    for member in ordered:
        titles.setdefault(member.language, member.title)
    seen = [member.seen for member in ordered if member.seen is not None]
    return StorySummary(
        id=story_id,
        size=len(ordered),
        languages=dict(sorted(languages.items(), key=lambda item: (-item[1], item[0]))),
        first_seen=min(seen) if seen else None,
        last_seen=max(seen) if seen else None,
        entities=top_entities(ordered),
        titles=titles,
    )


def top_entities(members: Sequence[Member], limit: int = TOP_ENTITIES) -> list[StoryEntity]:
    """The entities most of the story's documents name, persons and organisations before places
    at equal counts (they say more about *which* event), each with its most frequent name."""
    documents: Counter[tuple[str, str]] = Counter()
    names: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for member in members:
        for key in {(entity.type, entity.id) for entity in member.entities}:
            documents[key] += 1
        for entity in member.entities:
            names[(entity.type, entity.id)][entity.normal] += 1
    rank = {"PER": 0, "ORG": 1, "LOC": 2}
    ordered = sorted(documents.items(), key=lambda item: (-item[1], rank[item[0][0]], item[0][1]))
    return [
        StoryEntity(
            id=entity_id,
            type=kind,  # type: ignore[arg-type]  # read from Entity.type, an EntityType
            label=min(names[(kind, entity_id)].items(), key=lambda item: (-item[1], item[0]))[0],
            documents=count,
        )
        for (kind, entity_id), count in ordered[:limit]
    ]


def detail(
    story_id: str, members: Sequence[Member], merged_ids: Iterable[str]
) -> StoryDetail | None:
    summary = summarise(story_id, members)
    if summary is None:
        return None
    ordered = sorted(members, key=lambda m: (m.seen or date.max, m.id))
    return StoryDetail(
        **summary.model_dump(),
        documents=[
            StoryDocument(
                id=member.id,
                title=member.title,
                language=member.language,
                published=member.published,
                story_similarity=member.similarity,
                story_id=member.story_id,
            )
            for member in ordered
        ],
        merged_ids=sorted(merged_ids),
    )
