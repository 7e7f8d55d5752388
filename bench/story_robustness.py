"""How story grouping holds up when the articles bridging an event change: the dev half streamed
again as random subsets and in other arrival orders.

The two halves of the real-news benchmark hold different articles of the same events, and a
grouping fitted to one half's particular articles (the ones that happen to link two languages)
does not carry over to the other. This script shows that gap on ``dev`` alone: every dev article
is enriched once as ``bench/story_accuracy.py`` does (publication order, labelled dates), its
story signature and times recorded, and the signatures are then assigned again through fresh
in-memory story stores:

- ``order``: in publication order (as the accuracy benchmark; a check that replay is faithful),
  reversed, and shuffled within each day received (many seeds);
- ``subsets``: each event's articles kept at random with probability ``--keep`` (articles of no
  event always kept, so false joins stay measured on all of them), many seeds, in publication
  order, and once more shuffled within the day;
- ``one article per language``: of each event one article per language, drawn at random;
- ``features dropped``: each document's features dropped at random with probability ``--drop``
  (its facts, which can only veto, kept): reports of one event that share less with each other
  than the dev half's do. This is the mode that brings dev recall down to what the test half
  shows (subsets alone do not: the dev articles left still share what the dev articles share),
  and the one to watch for a change that generalises; then also subsets with features dropped,
  shuffled within the day.

Per mode it prints same-event recall (pooled over seeds), its cross-language part, false joins
by kind and precision, and per event the pooled recall (``--events``). ``--test`` prints the
test half's figures for the same modes, only to report them: never study its failures.

Usage: ``python bench/story_robustness.py [--seeds 40] [--keep 0.6] [--events] [--test]``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # when run as a script

from bench.news_accuracy import enrich_article  # noqa: E402  # after the path is set
from bench.news_gold import Article, load_articles  # noqa: E402
from bench.story_accuracy import (  # noqa: E402
    DIFFERENT_KINDS,
    Counts,
    HalfScore,
    LabelledPair,
    load_events,
    load_pairs,
    received_at,
    score_stories,
)
from newsflow.local import local_stores  # noqa: E402
from services.enrich.stage import EnrichStores, story_params  # noqa: E402
from services.enrich.stories import (  # noqa: E402
    DocumentTime,
    MemoryStories,
    StoryAssignment,
    StoryParams,
    StorySignature,
)
from shared.settings import Settings  # noqa: E402


@dataclass(frozen=True)
class Recorded:
    """What the story step was given for one article: replayed without enriching again."""

    file: str
    doc_id: str
    signature: StorySignature
    when: DocumentTime
    near_duplicate_of: str | None


class RecordingStories(MemoryStories):
    """A memory store that also keeps each ``assign`` call's arguments."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, tuple[StorySignature, DocumentTime, str | None]] = {}

    def assign(
        self,
        doc_id: str,
        signature: StorySignature,
        when: DocumentTime,
        params: StoryParams,
        *,
        near_duplicate_of: str | None = None,
    ) -> StoryAssignment:
        self.calls[doc_id] = (signature, when, near_duplicate_of)
        return super().assign(doc_id, signature, when, params, near_duplicate_of=near_duplicate_of)


def record(articles: Sequence[Article], settings: Settings) -> list[Recorded]:
    """Each article enriched once, in the accuracy benchmark's order, its story inputs kept."""
    recording = RecordingStories()
    base = local_stores()
    stores = EnrichStores(
        claims=base.claims, near_duplicates=base.near_duplicates, stories=recording
    )
    now = datetime.now(UTC)
    ordered = sorted(articles, key=lambda a: (received_at(a) or now, a.file))
    found = []
    for article in ordered:
        doc_id = enrich_article(article, stores, settings, received_at(article) or now).id
        if doc_id in recording.calls:  # an exact duplicate only reports its original's story
            signature, when, near = recording.calls[doc_id]
            found.append(Recorded(article.file, doc_id, signature, when, near))
    return found


def replay(recorded: Sequence[Recorded], params: StoryParams) -> dict[str, str | None]:
    """file -> story, the recorded signatures assigned in the given order through a new store.
    A near-duplicate link counts only when its original came before (in a subset it may not)."""
    store = MemoryStories()
    seen: set[str] = set()
    for item in recorded:
        near = item.near_duplicate_of if item.near_duplicate_of in seen else None
        store.assign(item.doc_id, item.signature, item.when, params, near_duplicate_of=near)
        seen.add(item.doc_id)
    return {item.file: store.story_of(item.doc_id) for item in recorded}


def recorded_half(
    articles: Sequence[Article],
) -> tuple[StoryParams, list[Recorded], dict[str, Article]]:
    """The default story parameters, the half's articles recorded (``record``), and each
    article by its file: what every replay of the half needs."""
    settings = Settings()
    recorded = record(articles, settings)
    return story_params(settings), recorded, {article.file: article for article in articles}


def replay_into(  # noqa: PLR0917  (a replay's inputs, and what it is scored against)
    pooled: Pooled,
    order: Sequence[Recorded],
    params: StoryParams,
    by_file: dict[str, Article],
    event_of: dict[str, str],
    labelled: dict[frozenset[str], LabelledPair],
) -> None:
    """``order`` replayed with ``params`` (``replay``) and its score added to ``pooled``."""
    stories = replay(order, params)
    kept = [by_file[file] for file in stories]
    pooled.add(score_stories(kept, stories, event_of, labelled), per_event(stories, event_of))


def draw(seed: int, *parts: str) -> float:
    """A number in [0, 1) fixed by the seed and what it decides for (a document, a feature):
    two versions of the code see the same subsets, orders and dropped features wherever their
    signatures agree, so their figures differ by the code and not by the draw."""
    digest = hashlib.blake2b(":".join((str(seed), *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def shuffled_within_day(recorded: Sequence[Recorded], seed: int) -> list[Recorded]:
    keyed = [(item.when.received.date(), draw(seed, item.file, "order"), item) for item in recorded]
    return [item for _, _, item in sorted(keyed, key=lambda entry: entry[:2])]


def dropped(recorded: Sequence[Recorded], share: float, seed: int) -> list[Recorded]:
    """Each document losing each feature with probability ``share`` (its facts kept): reports
    that share less with each other than the dev half's do, as other articles of one event may."""
    out = []
    for item in recorded:
        features = {
            key: weight
            for key, weight in item.signature.features.items()
            if draw(seed, item.file, key) >= share
        }
        signature = StorySignature(features=features, facts=item.signature.facts)
        out.append(replace(item, signature=signature))
    return out


def one_per_language(
    recorded: Sequence[Recorded], event_of: dict[str, str], seed: int
) -> list[Recorded]:
    """Of each event's articles one per language, drawn at random: the event is bridged across
    languages by other articles each time, and same-language twins (one outlet's ru and uk
    versions) cannot carry it."""
    chosen: dict[tuple[str, str], tuple[float, str]] = {}
    for item in recorded:
        event = event_of.get(item.file)
        if event is not None:
            key = (event, item.file.split("/")[0])
            value = (draw(seed, item.file, "language"), item.file)
            chosen[key] = min(chosen.get(key, value), value)
    kept = {file for _, file in chosen.values()}
    return [item for item in recorded if item.file not in event_of or item.file in kept]


def subset(
    recorded: Sequence[Recorded], event_of: dict[str, str], keep: float, seed: int
) -> list[Recorded]:
    return [item for item in recorded if item.file not in event_of or draw(seed, item.file) < keep]


@dataclass
class Pooled:
    """Scores of many runs, summed."""

    runs: int = 0
    same: Counts = field(default_factory=Counts)
    cross: Counts = field(default_factory=Counts)
    different: dict[str, Counts] = field(default_factory=dict)
    events: dict[str, Counts] = field(default_factory=dict)

    def add(self, score: HalfScore, per_event: dict[str, Counts]) -> None:
        self.runs += 1
        self.same = _plus(self.same, score.same)
        self.cross = _plus(self.cross, score.same_cross)
        for kind, counts in score.different.items():
            self.different[kind] = _plus(self.different.get(kind, Counts()), counts)
        for event, counts in per_event.items():
            self.events[event] = _plus(self.events.get(event, Counts()), counts)

    @property
    def precision(self) -> float | None:
        """Same-event pairs joined among all pairs joined; None when none was."""
        joined = self.same.joined + sum(counts.joined for counts in self.different.values())
        return self.same.joined / joined if joined else None

    def lines(self, name: str, *, show_events: bool) -> list[str]:
        different = self.different
        precision = "-" if self.precision is None else f"{self.precision:.1%}"
        kinds = ", ".join(
            f"{kind} {different.get(kind, Counts()).share()}" for kind in DIFFERENT_KINDS
        )
        out = [
            f"  {name:<26} runs {self.runs:>3}  recall {_rate(self.same)}  "
            f"cross {_rate(self.cross)}  precision {precision}",
            f"  {'':<26} false joins: {kinds}",
        ]
        if show_events:
            for event, counts in sorted(self.events.items()):
                out.append(f"  {'':<28}{counts.share():>24}  {event}")
        return out


def _plus(a: Counts, b: Counts) -> Counts:
    return Counts(pairs=a.pairs + b.pairs, joined=a.joined + b.joined)


def _rate(counts: Counts) -> str:
    return f"{counts.joined / counts.pairs:6.1%}" if counts.pairs else "     -"


def per_event(stories: dict[str, str | None], event_of: dict[str, str]) -> dict[str, Counts]:
    found: dict[str, Counts] = {}
    files = sorted(stories)
    for i, a in enumerate(files):
        for b in files[i + 1 :]:
            event = event_of.get(a)
            if event is not None and event == event_of.get(b):
                counts = found.setdefault(event, Counts())
                counts.pairs += 1
                counts.joined += stories[a] is not None and stories[a] == stories[b]
    return found


def run_half(
    articles: Sequence[Article],
    event_of: dict[str, str],
    labelled: dict[frozenset[str], LabelledPair],
    *,
    seeds: int,
    keep: float,
    drop: float,
    show_events: bool,
) -> list[str]:
    params, recorded, by_file = recorded_half(articles)

    def score(order: Sequence[Recorded], pooled: Pooled) -> None:
        replay_into(pooled, order, params, by_file, event_of, labelled)

    modes: dict[str, Pooled] = {}
    score(recorded, modes.setdefault("publication order", Pooled()))
    score(list(reversed(recorded)), modes.setdefault("reversed", Pooled()))
    for seed in range(seeds):
        score(
            shuffled_within_day(recorded, seed), modes.setdefault("shuffled within day", Pooled())
        )
        part = subset(recorded, event_of, keep, seed)
        score(part, modes.setdefault(f"subsets keep {keep:.0%}", Pooled()))
        score(
            shuffled_within_day(part, seed),
            modes.setdefault(f"subsets {keep:.0%}, shuffled", Pooled()),
        )
        score(
            one_per_language(recorded, event_of, seed),
            modes.setdefault("one article per language", Pooled()),
        )
        score(
            dropped(recorded, drop, seed),
            modes.setdefault(f"features dropped {drop:.0%}", Pooled()),
        )
        score(
            shuffled_within_day(dropped(part, drop, seed), seed),
            modes.setdefault("subsets, dropped, shuffled", Pooled()),
        )
    lines = []
    for name, pooled in modes.items():
        lines.extend(pooled.lines(name, show_events=show_events))
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--keep", type=float, default=0.6)
    parser.add_argument("--drop", type=float, default=0.3)
    parser.add_argument("--events", action="store_true", help="pooled recall per event (dev)")
    parser.add_argument("--test", action="store_true", help="also the test half, to report")
    args = parser.parse_args(argv)
    articles = load_articles()
    event_of = load_events()
    labelled = load_pairs(articles, event_of)
    for half in ("dev", "test") if args.test else ("dev",):
        print(f"{half}: pooled over runs (seeds {args.seeds})")
        lines = run_half(
            [article for article in articles if article.split == half],
            event_of,
            labelled,
            seeds=args.seeds,
            keep=args.keep,
            drop=args.drop,
            show_events=args.events and half == "dev",
        )
        print("\n".join(lines))


if __name__ == "__main__":
    main()
