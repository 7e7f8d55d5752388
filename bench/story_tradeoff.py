"""What each join threshold buys and costs: same-event recall against false joins of related
events, on the real-news benchmark, for an operator choosing ``NEWSFLOW_STORY_THRESHOLD``.

The issue asks for both same-event recall >= 85 % and related-event joins <= 2 %. This script
shows how far apart the two are with the features newsflow has: every article of a half is
enriched once (as ``bench/story_accuracy.py`` does: publication order, labelled dates), its story
signature recorded, and the signatures are assigned again through fresh in-memory stores at each
threshold (the merge threshold raised with it when it is lower), in publication order and with
features dropped at random (``bench/story_robustness.py``'s mode that brings dev recall down to
what unseen articles show). Nothing is tuned here: it only replays what the code decides.

The dev half is the one to study. ``--test`` also prints the test half's curve, to report it.

Usage: ``python bench/story_tradeoff.py [--thresholds 0.2,0.25,...] [--seeds 10] [--test]``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # when run as a script

from bench.news_gold import Article, load_articles  # noqa: E402  # after the path is set
from bench.story_accuracy import Counts, LabelledPair, load_events, load_pairs  # noqa: E402
from bench.story_robustness import (  # noqa: E402
    Pooled,
    Recorded,
    dropped,
    recorded_half,
    replay_into,
)
from services.enrich.stories import StoryParams  # noqa: E402

DEFAULT_THRESHOLDS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65)


def at_threshold(params: StoryParams, threshold: float) -> StoryParams:
    """``params`` joining at ``threshold``; merging at no less (a merge is a join of two)."""
    return StoryParams(
        threshold=threshold,
        merge_threshold=max(threshold, params.merge_threshold),
        window_days=params.window_days,
    )


def _row(threshold: float, pooled: Pooled, default: float) -> str:
    same, cross = pooled.same, pooled.cross
    related = pooled.different.get("related")
    precision = 1.0 if pooled.precision is None else pooled.precision
    mark = " (default)" if abs(threshold - default) < 1e-9 else ""
    return (
        f"  {threshold:4.2f}  same {same.joined / same.pairs:6.1%}  "
        f"cross {cross.joined / cross.pairs:6.1%}  "
        f"related {related.joined / related.pairs if related else 0.0:6.1%}  "
        f"unrelated joined {pooled.different.get('unrelated', Counts()).joined:>3}  "
        f"precision {precision:6.1%}{mark}"
    )


def curve(
    articles: Sequence[Article],
    event_of: dict[str, str],
    labelled: dict[frozenset[str], LabelledPair],
    thresholds: Sequence[float],
    *,
    seeds: int,
    drop: float,
) -> list[str]:
    params, recorded, by_file = recorded_half(articles)

    def scored(order: Sequence[Recorded], at: StoryParams, pooled: Pooled) -> None:
        replay_into(pooled, order, at, by_file, event_of, labelled)

    lines = ["  publication order"]
    for threshold in thresholds:
        pooled = Pooled()
        scored(recorded, at_threshold(params, threshold), pooled)
        lines.append(_row(threshold, pooled, params.threshold))
    lines.append(f"  features dropped {drop:.0%}, pooled over {seeds} seeds")
    variants = [dropped(recorded, drop, seed) for seed in range(seeds)]
    for threshold in thresholds:
        pooled = Pooled()
        for variant in variants:
            scored(variant, at_threshold(params, threshold), pooled)
        lines.append(_row(threshold, pooled, params.threshold))
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--thresholds",
        type=lambda text: tuple(float(part) for part in text.split(",")),
        default=DEFAULT_THRESHOLDS,
    )
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--drop", type=float, default=0.3)
    parser.add_argument("--test", action="store_true", help="also the test half, to report")
    args = parser.parse_args(argv)
    articles = load_articles()
    event_of = load_events()
    labelled = load_pairs(articles, event_of)
    for half in ("dev", "test") if args.test else ("dev",):
        print(
            f"{half}: per threshold, same-event pairs joined (recall), its cross-language part, "
            "related pairs joined (share), unrelated pairs joined (count), precision"
        )
        lines = curve(
            [article for article in articles if article.split == half],
            event_of,
            labelled,
            args.thresholds,
            seeds=args.seeds,
            drop=args.drop,
        )
        print("\n".join(lines))


if __name__ == "__main__":
    main()
