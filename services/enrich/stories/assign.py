"""Streaming story assignment: each new document joins the best recent story or starts one.

The decision (``decide``) is a pure function of the document's signature and the candidate
stories the store found for it; the stores only find candidates and write the outcome, so the
in-memory store (``newsflow run``/``enrich``) and the Redis store (the workers) decide alike.

Candidates come from an inverted index: feature -> the stories that carry it, newest first,
within the time window. A document looks up only its own features, at most ``POSTINGS_PER_FEATURE``
stories each and scores at most ``MAX_CANDIDATES`` of them, so the cost per document does not
grow with the number of stories kept.

Time windows: a document with a published date is compared with stories whose published dates lie
within ``window_days`` of it; one without a date (or a story none of whose documents has one)
by the time received instead. A date known only to the month is that whole month: the document is
compared with the stories within ``window_days`` of any day of it, and it does not widen its
story's span of days (it would stretch a one-day event over a month); a story whose documents
are all so dated is placed by the span of their months. A date known only to the year places
nothing (a year is 52 windows): such a document counts as undated.

A story holds at most ``MAX_STORY_FEATURES`` features, ``MAX_FACTS`` values of each fact and
the features of its latest ``MAX_MEMBERS`` documents, so a long-running story's record stays
bounded.

A document is compared with a story twice: with its centroid (what its reports say on the whole)
and with each of its latest documents, and the better counts. The centroid alone dilutes: a
story told in four languages carries each language's own names, dates and figures in a quarter of
its documents, so a new report that matches one of them closely matched the centroid at a
quarter of that, and started a story of its own. Which documents a story holds then depended on
which ones came first (the same reports streamed in reverse order split two dev events).

This module must never lose a document's first answer: a document seen before (a redelivery)
gets the story it was given, resolved through later merges.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Final, Literal

from services.enrich.stories.facts import NamedDate
from services.enrich.stories.signature import (
    MIN_CORROBORATION,
    MIN_SHARED,
    Facts,
    StorySignature,
    document_similarity,
    rarity,
    veto,
)
from shared import caches
from shared.messages import DatePrecision

POSTINGS_PER_FEATURE: Final = 32
MAX_CANDIDATES: Final = 16
"""Stories scored per document, those whose shared features weigh most (``top_candidates``).
On ``bench/stories.py``'s 10^5 synthetic stories 8, 16 and 32 join the same share of further
reports (81 %), and each candidate costs its record's read and parse and a comparison: 16 keeps
a margin for busy windows at about half of 32's cost."""
MAX_STORY_FEATURES: Final = 64
MAX_FACTS: Final = 32
MAX_MEMBERS: Final = 8
"""Documents a story keeps whole for the comparison with each of them: its latest ones, since a
new report continues what the latest said. On dev with features dropped (60 seeds) eight gave
the same recall as keeping all (78.9 %), four 77.3 %."""
DAY_SECONDS: Final = 86_400
DUE_DAYS: Final = 31
"""How far after its publication a day a report names can be its event's (a step announced for
a later day): a month, beyond which a date is a plan, not the event the report is about."""
FRESH_DAYS: Final = 3
"""Days between a report and a story within which the report is of the story's news cycle: the
reports of one event come within a day or two of it (on dev every pair of one event dated to
the day is at most three days apart, a day named as due aside). Beyond, what a join needs grows
(``staleness``): a report a week later that shares the same names is more often the next event
about them."""

Outcome = Literal["new", "joined"]


@dataclass(slots=True)
class StoryRecord:
    """What a store keeps per story. ``features``: key -> [documents carrying it, weight]."""

    id: str
    seq: int
    size: int
    features: dict[str, list[float]]
    rates: dict[str, list[float]] = field(default_factory=dict)
    percentages: list[float] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    leads: list[float] = field(default_factory=list)
    lead_days: list[int] = field(default_factory=list)
    """The days its documents lead with (``own_lead_day``), as ordinals."""
    published: tuple[int, int] | None = None
    """First and last published date of its documents known to the day, as ordinals; None when
    none had one."""
    periods: tuple[int, int] | None = None
    """First and last day of the months of its documents dated only to the month, as ordinals:
    where the story lies in time when no document gave a day."""
    received: tuple[float, float] = (0.0, 0.0)
    """First and last time one of its documents was received, epoch seconds."""
    members: list[dict[str, float]] = field(default_factory=list)
    """The features (key -> prior weight) of its latest ``MAX_MEMBERS`` documents, oldest first;
    empty while it has one document, whose features are then the record's own."""

    def facts(self) -> Facts:
        return Facts(
            rates={pair: frozenset(values) for pair, values in self.rates.items()},
            percentages=frozenset(self.percentages),
            dates=frozenset(NamedDate.decode(text) for text in self.dates),
            figures=frozenset(self.figures),
            leads=frozenset(self.leads),
        )

    @property
    def days(self) -> tuple[int, int] | None:
        """Where the story lies in time: its documents' published days, or the days of their
        months when none gave a day; None when none had a date."""
        return self.published or self.periods

    def documents(self) -> list[dict[str, float]]:
        """Its latest documents' features, the one document's too while it is alone."""
        if self.members:
            return self.members
        return [{key: weight for key, (_, weight) in self.features.items()}]

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "seq": self.seq,
            "size": self.size,
            "features": self.features,
            "rates": self.rates,
            "percentages": self.percentages,
            "dates": self.dates,
            "figures": self.figures,
            "leads": self.leads,
            "lead_days": self.lead_days,
            "published": list(self.published) if self.published else None,
            "periods": list(self.periods) if self.periods else None,
            "received": list(self.received),
            "members": self.members,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StoryRecord:
        """The record ``to_json`` wrote (our own JSON, so its shape is trusted)."""
        published = data["published"]
        periods = data.get("periods")  # absent from records written before dates had precision
        received = data["received"]
        return cls(
            id=str(data["id"]),
            seq=int(data["seq"]),
            size=int(data["size"]),
            features={key: list(value) for key, value in data["features"].items()},
            rates={key: list(value) for key, value in data["rates"].items()},
            percentages=list(data["percentages"]),
            dates=list(data["dates"]),
            figures=list(data.get("figures", [])),  # absent from records written before them
            leads=list(data.get("leads", [])),  # likewise
            lead_days=[int(day) for day in data.get("lead_days", [])],  # likewise
            published=(int(published[0]), int(published[1])) if published else None,
            periods=(int(periods[0]), int(periods[1])) if periods else None,
            received=(float(received[0]), float(received[1])),
            members=[dict(member) for member in data.get("members", [])],
        )


@dataclass(frozen=True, slots=True)
class DocumentTime:
    """When a document happened, for the windows: its published date if it has one (the first
    day of its month or year when ``precision`` says that is all that is known), and when it was
    received (always known)."""

    published: date | None
    received: datetime
    precision: DatePrecision = "day"

    @property
    def received_seconds(self) -> float:
        return self.received.timestamp()

    @property
    def published_days(self) -> tuple[int, int] | None:
        """The first and last day it may have been published on, as ordinals, when that places
        it for the windows: a day, or a month's days. A year is too coarse to place an event (it
        spans 52 windows), so a document known only to the year is placed, like an undated one,
        by when it was received."""
        first = self.published
        if first is None or self.precision == "year":
            return None
        if self.precision == "month":
            following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return first.toordinal(), (following - timedelta(days=1)).toordinal()
        return first.toordinal(), first.toordinal()

    @property
    def uncertain_days(self) -> int:
        """How many days after its first possible day it may have been published."""
        days = self.published_days
        return days[1] - days[0] if days else 0


@dataclass(frozen=True, slots=True)
class StoryAssignment:
    """What enrich writes into the document: the story, how similar it was to it (None for the
    document that started it), the stories this document merged into it."""

    story_id: str
    similarity: float | None
    outcome: Outcome
    merged_from: tuple[str, ...] = ()
    size: int = 1
    vetoes: tuple[str, ...] = ()
    """Why candidate stories were refused (``rate``, ``date``, ``percentage``, ``lead``), for
    the log line: what an operator asks when two reports did not join."""


@dataclass(frozen=True, slots=True)
class Decision:
    """``join`` None: start a new story. ``merge``: candidates to fold into ``join``."""

    join: StoryRecord | None
    score: float | None
    merge: tuple[StoryRecord, ...] = ()
    vetoes: Mapping[str, int] = field(default_factory=dict)


def story_id_for(doc_id: str) -> str:
    """A story is named after the document that started it: stable, readable, and never equal
    to a document id (so ``newsflow show`` and ``newsflow story`` cannot be confused)."""
    return f"s-{doc_id}"


Placements = tuple[tuple[int, int], ...]


def placements(span: tuple[int, int] | None, dates: Iterable[NamedDate]) -> Placements | None:
    """Where a document or story lies in time: ``span`` (its published days) and each day its
    reports name as due within ``DUE_DAYS`` after it, as a one-day span. An announcement of a
    step on a later day («the IMF will distribute the allocation on 23 August») and a report of
    the step on that day are one event, though published further apart than the window; a report
    published between the two, days after the announcement, is no nearer to it for the step to
    come (stories version 17: a report of 2 April that recalled Putin's announcement of 25 March
    joined its story, which named 1 July as the day the storage site is ready, as if the story
    lay on every day up to then)."""
    if span is None:
        return None
    first, last = span
    due = {
        day
        for named in dates
        if (day := _nearest_day(named, first, last)) is not None and last < day <= last + DUE_DAYS
    }
    return (span, *((day, day) for day in sorted(due)))


def placed_gap(a: Placements | None, b: Placements | None) -> int | None:
    """Days between two placements (the nearest of their spans); None when either is unknown."""
    if a is None or b is None:
        return None
    return min(max(0, x[0] - y[1], y[0] - x[1]) for x in a for y in b)


def in_window(
    record: StoryRecord,
    when: DocumentTime,
    window_days: int,
    *,
    days: Placements | None,
    story_dates: Iterable[NamedDate],
) -> int | None:
    """The days between the document and the story when it lies within the window of the story
    (0 when it is placed by when it was received, having no published day), else None. Each is
    placed by its published days and the days it names as due (``placements``): ``days`` is the
    document's (the same for every candidate, so the caller computes it once), ``story_dates``
    the days the story's documents name."""
    gap = placed_gap(placements(record.days, story_dates), days)
    if gap is not None:
        return gap if gap <= window_days else None
    seconds, span = when.received_seconds, window_days * DAY_SECONDS
    return 0 if record.received[0] - span <= seconds <= record.received[1] + span else None


def staleness(gap: int, window_days: int) -> float:
    """The factor on the threshold for a join (or a merge) across ``gap`` days: 1 up to
    ``FRESH_DAYS``, growing linearly to 2 at the window's edge. News clustering weighs time as
    evidence of its own (a report's similarity to a story decays with the days between them);
    the window alone made a report on its last day as welcome as one of the same day, and at the
    edge a report shares with a story what any report of the week's news of one country shares
    (its president, its capital, protests). A report of Lukashenko's unannounced inauguration
    (23 September 2020) joined the story of his loan talks in Sochi (14 to 16 September)
    through those alone, and the inauguration's reports after it."""
    if window_days <= FRESH_DAYS:
        return 1.0
    return 1.0 + max(0, gap - FRESH_DAYS) / (window_days - FRESH_DAYS)


# Called for each date of each candidate story in each decision, with the story's own span: the
# same arguments again for as long as the story is a candidate.
@lru_cache(maxsize=caches.DATES)
def _nearest_day(named: NamedDate, first: int, last: int) -> int | None:
    """The ordinal of the day ``named`` names, its year taken as the one that puts it nearest
    ``first``..``last`` when the text gave none; None for no such day («29 февраля» in a year
    that has none)."""
    low, high = date.fromordinal(first).year, date.fromordinal(last).year
    years = (named.year,) if named.year else range(low - 1, high + 2)
    days = []
    for year in years:
        try:
            days.append(date(year, named.month, named.day).toordinal())
        except ValueError:
            continue
    return min(days, key=lambda day: max(first - day, day - last, 0), default=None)


def _without_background(facts: Facts, first: int, last: int) -> Facts:
    kept = frozenset(
        named
        for named in facts.dates
        if (day := _nearest_day(named, first, last)) is None or day >= first
    )
    return facts if kept == facts.dates else replace(facts, dates=kept)


def timed_veto(
    doc: Facts,
    doc_days: tuple[int, int] | None,
    story: Facts,
    story_days: tuple[int, int] | None,
    window_days: int,
) -> str | None:
    """``veto``, without the dates named before the window of the earlier of the two: such a
    day can be the event of neither report («the first payment was due on 20 February» in two
    March reports of its suspension), so it is background, and two reports whose background
    differs are not thereby of different events. A date within either's window (an earlier
    report's own day) or after (an effective day, «from 1 September») still vetoes; so do all
    dates when either side has no published day to place them by."""
    if doc_days is not None and story_days is not None and doc.dates and story.dates:
        first = min(doc_days[0], story_days[0]) - window_days
        last = max(doc_days[1], story_days[1])
        doc = _without_background(doc, first, last)
        story = _without_background(story, first, last)
    return veto(doc, story)


LEAD_DAY_SLACK: Final = 1
"""Days a report's lead date may lie outside its story's published days: a report of the
evening's event published on the next morning, and time zones."""


def own_lead_day(facts: Facts, days: tuple[int, int] | None) -> int | None:
    """The day a report's lead date (``Facts.lead_date``) names, as an ordinal, its year taken
    nearest the report's published days; None without one, or when it is after them: a report
    states its own event's day first («Путин и Лукашенко 14 сентября в ходе телефонных
    переговоров»), while a later day is a step planned («с 4 октября»), not its event."""
    named = facts.lead_date
    if named is None or days is None:
        return None
    day = _nearest_day(named, days[0], days[1])
    return day if day is not None and day <= days[1] else None


def _named(day: int, dates: Iterable[NamedDate]) -> bool:
    when = date.fromordinal(day)
    on_day = NamedDate(month=when.month, day=when.day, year=when.year)
    return any(on_day.matches(named) for named in dates)


def leads_after(
    lead_days: Iterable[int], days: tuple[int, int] | None, dates: Iterable[NamedDate]
) -> bool:
    """Whether one side leads with days after the other side's published ``days`` by more than
    ``LEAD_DAY_SLACK``, none of which the other side names (``dates``): the two report different
    events, the later a follow-up that recalls the earlier («в продолжение состоявшихся 9
    сентября переговоров»), so that the date veto finds a day in common. A lead day before the
    other side's is allowed: reports published later may not name the event's day."""
    leads = list(lead_days)
    if not leads or days is None:
        return False
    named = list(dates)
    return all(day > days[1] + LEAD_DAY_SLACK and not _named(day, named) for day in leads)


def doc_lead_day(facts: Facts, days: tuple[int, int] | None, window_days: int) -> int | None:
    """The document's own lead day (``own_lead_day``) when it falls within its window: an
    earlier one is background. The same for every candidate, so ``decide`` takes it once."""
    day = own_lead_day(facts, days)
    return None if day is None or days is None or day < days[0] - window_days else day


def lead_day_veto(
    doc: Facts,
    doc_days: tuple[int, int] | None,
    lead_day: int | None,
    story: StoryRecord,
    story_dates: frozenset[NamedDate],
) -> bool:
    """Whether the document leads with a day after its story's days, or the story's documents
    lead with days after the document's (``leads_after``). ``lead_day``: the document's
    (``doc_lead_day``); the story's, as ``own_lead_day`` kept them."""
    return leads_after([] if lead_day is None else [lead_day], story.days, story_dates) or (
        leads_after(story.lead_days, doc_days, doc.dates)
    )


def top_candidates(
    postings: Mapping[str, Sequence[str]],
    weights: Mapping[str, float],
    limit: int = MAX_CANDIDATES,
) -> list[str]:
    """The stories whose features in common with the document weigh most (``weights``: the
    document's, after rarity; newest first within each list, so ties go to the story seen most
    recently), at most ``limit``. By weight, not by count: a story sharing a person and an
    organisation is a better candidate than one sharing three of the week's common subjects, and
    in a busy window the limit must not cut it off for those."""
    shared: dict[str, float] = {}
    order: dict[str, int] = {}
    for feature, ids in postings.items():
        weight = weights.get(feature, 0.0)
        for position, story_id in enumerate(ids):
            shared[story_id] = shared.get(story_id, 0.0) + weight
            order[story_id] = min(order.get(story_id, position), position)
    return heapq.nsmallest(limit, shared, key=lambda sid: (-shared[sid], order[sid], sid))


def feature_weights(signature: StorySignature, counts: Mapping[str, int]) -> dict[str, float]:
    """The document's features' weights after rarity (``counts``: recent stories per feature)."""
    return {key: weight * rarity(counts.get(key, 0)) for key, weight in signature.features.items()}


def match(
    weights: Mapping[str, float], mass: float, record: StoryRecord
) -> tuple[float, float, float]:
    """How well a document matches a story: ``similarity`` to its centroid or to the closest of
    its latest documents (``document_similarity``), whichever is higher. ``weights``: the
    document's features after rarity, ``mass`` their sum.

    The centroid's similarity is computed in one pass over the story's features rather than by
    building the centroid and the merged weights for each candidate: this is the decision's
    inner loop, ``MAX_CANDIDATES`` candidates per document."""
    size = record.size
    parts: list[float] = []
    story_mass = 0.0
    for key, (count, prior) in record.features.items():
        share = count / size
        weight = weights.get(key)
        if weight is None:
            story_mass += prior * share
        else:
            story_mass += weight * share
            parts.append(weight * min(1.0, share))
    shared = sum(parts)
    total = mass + story_mass
    best = (2 * shared / total if total else 0.0, shared, shared - max(parts, default=0.0))
    for member in record.members:
        best = max(best, document_similarity(weights, mass, member))
    return best


def stories_gap(
    a: StoryRecord, a_facts: Facts, b: StoryRecord, b_facts: Facts, window_days: int
) -> int | None:
    """The days between two stories (each with its ``facts()``) when they lie within
    ``window_days`` of each other, each placed as ``in_window`` places a story (its published
    days and the days it names as due; 0 when either has no published day and they were
    received within the window), else None."""
    gap = placed_gap(placements(a.days, a_facts.dates), placements(b.days, b_facts.dates))
    if gap is not None:
        return gap if gap <= window_days else None
    span = window_days * DAY_SECONDS
    near = a.received[0] - span <= b.received[1] and b.received[0] <= a.received[1] + span
    return 0 if near else None


def compatible(
    anchor: StoryRecord,
    others: Sequence[tuple[float, StoryRecord]],
    window_days: int,
    merge_threshold: float,
) -> tuple[StoryRecord, ...]:
    """Of ``others`` (the document's score with each, and the story), oldest first, those whose
    facts veto (``timed_veto``) neither ``anchor`` nor one taken before them, that lie within the
    window of each (``stories_gap``), and that the document matches at ``merge_threshold`` raised
    for the days between them (``staleness``): merging two stories a week apart is a join across
    that week. A report naming no date may match both a May devaluation's story and an October
    one's, and the two stories' own dates must still keep them apart; a report dated only to a
    month lies within the window of a story at its start and of one at its end, which are four
    weeks apart and so not one event for that report's sake (a June report of the EU's sanctions
    merged the story of the Ryanair landing of 23 May into the sanctions' of 21 June)."""
    # Each story's facts once: they are compared with every member taken before them.
    facts = {record.id: record.facts() for record in (anchor, *(r for _, r in others))}
    group = [anchor]
    for score, record in sorted(others, key=lambda item: item[1].seq):
        own = facts[record.id]
        if all(
            (gap := stories_gap(record, own, member, facts[member.id], window_days)) is not None
            and score >= merge_threshold * staleness(gap, window_days)
            and timed_veto(own, record.days, facts[member.id], member.days, window_days) is None
            and not leads_after(record.lead_days, member.days, facts[member.id].dates)
            and not leads_after(member.lead_days, record.days, own.dates)
            for member in group
        ):
            group.append(record)
    return tuple(group[1:])


def decide(
    signature: StorySignature,
    when: DocumentTime,
    candidates: Sequence[StoryRecord],
    weights: Mapping[str, float],
    *,
    threshold: float,
    merge_threshold: float,
    window_days: int,
    forced: StoryRecord | None = None,
) -> Decision:
    """Which story the document joins, and which stories it links strongly enough to merge.

    A candidate counts when it is inside the window, no fact vetoes it, the document shares at
    least ``MIN_SHARED`` weight with it, of which ``MIN_CORROBORATION`` beyond the strongest
    shared feature, and the weighted Dice (``match``) reaches ``threshold``. The best joins;
    when it reaches ``merge_threshold``, every other that does too and whose facts do not veto
    the best's (``compatible``) is merged with it into the oldest of them. ``forced`` is the
    story of the document's near-duplicate original: it is joined unless a fact vetoes it (a
    daily report reprinted with the next day's numbers). ``weights``: the document's features
    after rarity (``feature_weights``), which the store also chose the candidates by.
    """
    mass = sum(weights.values())
    days = when.published_days
    reach = placements(days, signature.facts.dates)
    lead_day = doc_lead_day(signature.facts, days, window_days)
    vetoes: dict[str, int] = {}
    scored: list[tuple[float, StoryRecord]] = []
    for record in candidates:
        story_facts = record.facts()
        gap = in_window(record, when, window_days, days=reach, story_dates=story_facts.dates)
        if gap is None:
            continue
        reason = timed_veto(signature.facts, days, story_facts, record.days, window_days)
        if reason is None and lead_day_veto(
            signature.facts, days, lead_day, record, story_facts.dates
        ):
            reason = "lead date"
        if reason is not None:
            vetoes[reason] = vetoes.get(reason, 0) + 1
            continue
        score, shared, corroboration = match(weights, mass, record)
        if (
            shared >= MIN_SHARED
            and corroboration >= MIN_CORROBORATION
            and score >= threshold * staleness(gap, window_days)
        ):
            scored.append((round(score, 3), record))
    if forced is not None and veto(signature.facts, forced.facts()) is None:
        forced_score = next((s for s, r in scored if r.id == forced.id), None)
        others = [(s, r) for s, r in scored if r.id != forced.id]
        return Decision(
            join=forced,
            score=forced_score,
            merge=compatible(forced, others, window_days, merge_threshold),
            vetoes=vetoes,
        )
    if not scored:
        return Decision(join=None, score=None, vetoes=vetoes)
    # A document known only to its month is compared with the stories of a week either side of
    # it, but it is of that month: a story inside the month comes before one only near it,
    # whatever their scores (a June report of the EU's sanctions, recalling the Ryanair landing
    # «a month ago», matched the landing's story of 23 May a little better than the sanctions').
    scored.sort(key=lambda item: (not _inside(item[1], days, when), -item[0], item[1].seq))
    best_score, best = scored[0]
    if best_score < merge_threshold:
        return Decision(join=best, score=best_score, vetoes=vetoes)
    group = [best, *compatible(best, scored[1:], window_days, merge_threshold)]
    survivor = min(group, key=lambda record: record.seq)
    merged = tuple(record for record in group if record.id != survivor.id)
    return Decision(join=survivor, score=best_score, merge=merged, vetoes=vetoes)


def _inside(record: StoryRecord, days: tuple[int, int] | None, when: DocumentTime) -> bool:
    """Whether a story lies (partly) inside the days of a document dated only to its month;
    True for every story when the document is dated to the day or not at all."""
    if when.precision != "month" or days is None or record.days is None:
        return True
    return record.days[0] <= days[1] and days[0] <= record.days[1]


def _bounded_union(values: list[float], more: Sequence[float]) -> list[float]:
    merged = list(dict.fromkeys([*values, *more]))
    return merged[:MAX_FACTS]


def _cap_features(features: dict[str, list[float]]) -> dict[str, list[float]]:
    if len(features) <= MAX_STORY_FEATURES:
        return features
    kept = heapq.nlargest(
        MAX_STORY_FEATURES, features.items(), key=lambda item: (item[1][0] * item[1][1], item[0])
    )
    return dict(kept)


def _span(
    a: tuple[float, float] | None, b: tuple[float, float] | None
) -> tuple[float, float] | None:
    if a is None:
        return b
    if b is None:
        return a
    return (min(a[0], b[0]), max(a[1], b[1]))


def add_document(record: StoryRecord, signature: StorySignature, when: DocumentTime) -> None:
    """Count the document into ``record`` (features, facts, time spans, its latest documents)."""
    if record.size:  # a story's first document needs no copy: the record's features are it
        record.members = [*record.documents(), dict(signature.features)][-MAX_MEMBERS:]
    record.size += 1
    for key, weight in signature.features.items():
        count, _ = record.features.get(key, (0.0, weight))
        record.features[key] = [count + 1, weight]
    record.features = _cap_features(record.features)
    facts = signature.facts
    for pair, values in facts.rates.items():
        record.rates[pair] = _bounded_union(record.rates.get(pair, []), sorted(values))
    record.percentages = _bounded_union(record.percentages, sorted(facts.percentages))
    record.leads = _bounded_union(record.leads, sorted(facts.leads))
    lead_day = own_lead_day(facts, when.published_days)
    if lead_day is not None and lead_day not in record.lead_days:
        record.lead_days = [*record.lead_days, lead_day][-MAX_FACTS:]
    record.dates = [
        str(text)
        for text in dict.fromkeys([*record.dates, *(d.encode() for d in sorted(facts.dates))])
    ][:MAX_FACTS]
    record.figures = list(dict.fromkeys([*record.figures, *sorted(facts.figures)]))[:MAX_FACTS]
    days = when.published_days
    if days is not None and when.precision == "day":
        span = _span(record.published, days)
        record.published = (int(span[0]), int(span[1])) if span else None
    elif days is not None:
        periods = _span(record.periods, days)
        record.periods = (int(periods[0]), int(periods[1])) if periods else None
    seconds = when.received_seconds
    received = _span(record.received if record.size > 1 else None, (seconds, seconds))
    record.received = received or (seconds, seconds)


def fold_into(survivor: StoryRecord, other: StoryRecord) -> None:
    """Merge ``other``'s documents into ``survivor``'s record."""
    members = [*survivor.documents(), *other.documents()]
    survivor.members = members[-MAX_MEMBERS:]
    survivor.size += other.size
    for key, (count, weight) in other.features.items():
        mine = survivor.features.get(key, [0.0, weight])
        survivor.features[key] = [mine[0] + count, weight]
    survivor.features = _cap_features(survivor.features)
    for pair, values in other.rates.items():
        survivor.rates[pair] = _bounded_union(survivor.rates.get(pair, []), values)
    survivor.percentages = _bounded_union(survivor.percentages, other.percentages)
    survivor.leads = _bounded_union(survivor.leads, other.leads)
    survivor.lead_days = list(dict.fromkeys([*survivor.lead_days, *other.lead_days]))[-MAX_FACTS:]
    survivor.dates = list(dict.fromkeys([*survivor.dates, *other.dates]))[:MAX_FACTS]
    survivor.figures = list(dict.fromkeys([*survivor.figures, *other.figures]))[:MAX_FACTS]
    published = _span(survivor.published, other.published)
    survivor.published = (int(published[0]), int(published[1])) if published else None
    periods = _span(survivor.periods, other.periods)
    survivor.periods = (int(periods[0]), int(periods[1])) if periods else None
    survivor.received = _span(survivor.received, other.received) or survivor.received


def new_record(
    story_id: str, seq: int, signature: StorySignature, when: DocumentTime
) -> StoryRecord:
    record = StoryRecord(id=story_id, seq=seq, size=0, features={})
    add_document(record, signature, when)
    return record
