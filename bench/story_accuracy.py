"""Story grouping on the labelled real-news benchmark: pairwise precision and recall.

``bench/data/news/events.jsonl`` groups the articles that report one event, also across
languages; every other pair of articles reports different events. Each half of the benchmark
(``dev``, ``test``; see its README) is streamed on its own through ingest and enrich exactly as
``newsflow run`` does, one story store per half, in publication order (the labelled date as the
published date, as precise as the label: a day, or only a month or year; and the day received,
as a live feed would bring them: an article known only to a month arrives at its end), and every
pair of articles in the half is scored:

- **same event** pairs joined (recall), also for the cross-language pairs alone;
- **different events** pairs joined (false joins), by kind: *related* (two labelled events on
  one subject, listed in ``RELATED`` below: the May and October 2011 devaluations, the
  redenomination decree and the redenomination day, ...), *template* (two reports of one
  recurring kind for different days: the National Bank's daily rates of 22 and 31 August) and
  *unrelated* (all other pairs);
- precision: of the pairs put in one story, the share that report one event.

``bench/data/news/pairs.jsonl`` labels pairs by hand with their kind (``same``, ``related``,
``template``, ``unrelated``) and the reason; a labelled kind overrides the one derived from the
events, and the labelled pairs are also counted on their own line. Both files are checked
against each other when read: a ``same`` pair must be in one event, any other must not, and a
pair must lie inside one half (the halves are streamed apart).

Study and tune on ``dev`` only; ``test`` is only scored. Usage: ``python bench/accuracy.py
stories`` (``--misses`` lists the dev half's wrong pairs).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # when run as a script

from bench.news_accuracy import (  # noqa: E402  # after the path is set
    enrich_article,
    published_date,
    published_precision,
)
from bench.news_gold import LABELS, Article, load_articles  # noqa: E402
from newsflow.local import local_stores  # noqa: E402
from shared.settings import Settings  # noqa: E402

EVENTS = LABELS.parent / "events.jsonl"
PAIRS = LABELS.parent / "pairs.jsonl"
KINDS = ("same", "related", "template", "unrelated")
DIFFERENT_KINDS = KINDS[1:]

# Labelled events about one subject: their pairs are "related but different". Written from the
# events' descriptions (events.jsonl), before any scoring.
RELATED = (
    {"by-devaluation-2011-05-24", "by-devaluation-2011-10-20"},
    {"by-redenomination-decree-2015-11-04", "by-redenomination-2016-07-01"},
    {
        "belarus-asks-imf-for-help-2008-10-22",
        "imf-approves-belarus-loan-2009-01-12",
        "belarus-asks-imf-for-3-8-billion-2011-06",
    },
    {
        "ukrgasvydobuvannia-buys-belaruskali-potash-2022-02",
        "lithuania-stops-belaruskali-transit-2022-01",
        "us-lifts-belarus-potash-sanctions-2025-12",
    },
    {"mtz-70th-anniversary-tractor-parade-2016-05-28", "lukashenko-mtz-supertractor-2025-11-20"},
    {"lukashenko-hidden-billions-2025-12", "lukashenko-budget-pensions-report-2020-08-25"},
    {
        "eu-sanctions-lukashenko-2020-11-06",
        "eu-fourth-package-belarus-2021-06-21",
        "eu-sectoral-sanctions-belarus-2021-06",
    },
    {
        "ryanair-forced-landing-minsk-2021-05-23",
        "eu-fourth-package-belarus-2021-06-21",
        "eu-sectoral-sanctions-belarus-2021-06",
    },
    {"tsikhanouski-released-kellogg-2025-06-21", "us-lifts-belarus-potash-sanctions-2025-12"},
    {"nabu-sap-law-12414-2025-07-22", "nabu-sap-independence-restored-2025-07-31"},
)


@dataclass
class Counts:
    pairs: int = 0
    joined: int = 0

    def share(self) -> str:
        return f"{self.joined}/{self.pairs} = {self.joined / self.pairs:.1%}" if self.pairs else "-"


@dataclass(frozen=True)
class LabelledPair:
    kind: str
    why: str


@dataclass
class HalfScore:
    same: Counts = field(default_factory=Counts)
    same_cross: Counts = field(default_factory=Counts)
    different: dict[str, Counts] = field(default_factory=dict)
    labelled: dict[str, Counts] = field(default_factory=dict)
    """The pairs of ``pairs.jsonl`` in this half, by their kind."""
    misses: list[str] = field(default_factory=list)

    def precision(self) -> str:
        wrong = sum(counts.joined for counts in self.different.values())
        joined = self.same.joined + wrong
        return f"{self.same.joined}/{joined} = {self.same.joined / joined:.1%}" if joined else "-"


def load_events(path: Path = EVENTS) -> dict[str, str]:
    """file -> event, for the articles that share an event with another."""
    event_of: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            for file in record["files"]:
                event_of[file] = record["event"]
    return event_of


def load_pairs(
    articles: Sequence[Article], event_of: dict[str, str], path: Path = PAIRS
) -> dict[frozenset[str], LabelledPair]:
    """The hand-labelled pairs, checked against the articles (one half) and the events."""
    split = {article.file: article.split for article in articles}
    pairs: dict[frozenset[str], LabelledPair] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        a, b, kind = record["a"], record["b"], record["kind"]
        where = f"{path.name}:{number}"
        if kind not in KINDS:
            raise ValueError(f"{where}: kind {kind!r} is not one of {KINDS}")
        if a not in split or b not in split or a == b:
            raise ValueError(f"{where}: {a} ~ {b} are not two labelled articles")
        if split[a] != split[b]:
            raise ValueError(f"{where}: {a} and {b} are in different halves")
        same_event = event_of.get(a) is not None and event_of.get(a) == event_of.get(b)
        if (kind == "same") != same_event:
            raise ValueError(f"{where}: kind {kind!r} disagrees with events.jsonl")
        key = frozenset((a, b))
        if key in pairs:
            raise ValueError(f"{where}: {a} ~ {b} labelled twice")
        pairs[key] = LabelledPair(kind=kind, why=str(record["why"]))
    return pairs


def received_at(article: Article) -> datetime | None:
    """When the simulated feed brings the article: noon of its day, or for an article dated only
    to a month or year, noon of the period's last day: a feed cannot have an article before it
    was published, and the end of its period is the one time sure not to be."""
    first = published_date(article.published)
    if first is None:
        return None
    precision = published_precision(article.published)
    if precision == "day":
        return datetime.combine(first, time(12), UTC)
    following = (
        date(first.year + first.month // 12, first.month % 12 + 1, 1)
        if precision == "month"
        else date(first.year + 1, 1, 1)
    )
    return datetime.combine(following - timedelta(days=1), time(12), UTC)


def stream_stories(articles: Sequence[Article]) -> dict[str, str | None]:
    """file -> story id, the articles streamed in the order a feed would bring them (by
    ``received_at``) through one store."""
    settings = Settings()
    stores = local_stores()
    doc_ids: dict[str, str] = {}
    now = datetime.now(UTC)
    ordered = sorted(articles, key=lambda a: (received_at(a) or now, a.file))
    for article in ordered:
        enriched = enrich_article(article, stores, settings, received_at(article) or now)
        doc_ids[article.file] = enriched.id
    # Each document's story at the end of the stream, not when it came: a later document may
    # merge two stories, and the older one's id then points to the one it joined.
    return {file: stores.stories.story_of(doc_id) for file, doc_id in doc_ids.items()}


def kind_of(a: str | None, b: str | None) -> str:
    """The kind of a pair of different events from their events alone (no label)."""
    if a is not None and b is not None and any({a, b} <= group for group in RELATED):
        return "related"
    return "unrelated"


def score_half(
    articles: Sequence[Article],
    event_of: dict[str, str],
    labelled: dict[frozenset[str], LabelledPair] | None = None,
) -> HalfScore:
    return score_stories(articles, stream_stories(articles), event_of, labelled)


def score_stories(
    articles: Sequence[Article],
    stories: dict[str, str | None],
    event_of: dict[str, str],
    labelled: dict[frozenset[str], LabelledPair] | None = None,
) -> HalfScore:
    """Every pair of ``articles`` scored by whether ``stories`` (file -> story) put it in one."""
    labelled = labelled or {}
    score = HalfScore()
    language = {article.file: article.lang for article in articles}
    for a, b in combinations(sorted(stories), 2):
        joined = stories[a] is not None and stories[a] == stories[b]
        event_a, event_b = event_of.get(a), event_of.get(b)
        label = labelled.get(frozenset((a, b)))
        if label is not None:
            counts = score.labelled.setdefault(label.kind, Counts())
            counts.pairs += 1
            counts.joined += joined
        if event_a is not None and event_a == event_b:
            score.same.pairs += 1
            score.same.joined += joined
            if language[a] != language[b]:
                score.same_cross.pairs += 1
                score.same_cross.joined += joined
            if not joined:
                score.misses.append(f"  missed  {a} ~ {b} ({event_a})")
        else:
            kind = label.kind if label is not None else kind_of(event_a, event_b)
            counts = score.different.setdefault(kind, Counts())
            counts.pairs += 1
            counts.joined += joined
            if joined:
                score.misses.append(f"  joined  {a} ~ {b} ({kind}: {event_a} / {event_b})")
    return score


def report(*, show_misses: bool = False, halves: tuple[str, ...] = ("dev", "test")) -> None:
    articles = load_articles()
    event_of = load_events()
    labelled = load_pairs(articles, event_of)
    print("stories: pairwise, each half streamed on its own in publication order")
    for half in halves:
        score = score_half([a for a in articles if a.split == half], event_of, labelled)
        print(f"{half:>4}  same event joined (recall)   {score.same.share()}")
        print(f"{half:>4}    of them across languages    {score.same_cross.share()}")
        for kind in DIFFERENT_KINDS:
            counts = score.different.get(kind, Counts())
            print(f"{half:>4}  different events joined, {kind:<9} {counts.share()}")
        print(f"{half:>4}  precision                    {score.precision()}")
        shares = ", ".join(f"{kind} {score.labelled.get(kind, Counts()).share()}" for kind in KINDS)
        print(f"{half:>4}  labelled pairs joined: {shares}")
        if show_misses and half == "dev":
            print("\n".join(score.misses) or "  no errors")
