"""Whether an offline multilingual embedding would tell same-event reports from related ones.

Story grouping joins follow-ups of an event (related pairs) because they share its people,
bodies, subjects and days; telling them apart needs what a report says happened. This probe
measures whether the one embedding model we found that ships inside a package and runs offline,
``wordllama`` (Llama 2 token embeddings, 16 MB in the wheel; not a newsflow dependency), could
supply that: the cosine of dev articles' embeddings (their first ``--chars`` characters), per
kind of pair, across languages and within one.

Install it beside the project to run this (``.venv/bin/pip install wordllama``), then
``python bench/story_embedding_probe.py``. Dev half only: it informs a design choice.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # when run as a script

from bench.news_gold import load_articles  # noqa: E402  # after the path is set
from bench.story_accuracy import load_events, load_pairs  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--chars", type=int, default=1500)
    args = parser.parse_args(argv)
    try:
        import wordllama  # noqa: PLC0415  # optional: only this probe uses it
    except ImportError:
        print("wordllama is not installed: .venv/bin/pip install wordllama", file=sys.stderr)
        return 2
    # The wheel holds its model, but 0.4 looks for the tokenizer under a misspelt folder and
    # would download it; pointing its cache at the package finds the shipped files.
    model = wordllama.WordLlama.load(
        cache_dir=Path(wordllama.__file__).parent, disable_download=True
    )
    every = load_articles()
    event_of = load_events()
    labelled = load_pairs(every, event_of)
    articles = [article for article in every if article.split == "dev"]
    vectors = model.embed([article.text[: args.chars] for article in articles], norm=True)
    index = {article.file: i for i, article in enumerate(articles)}
    language = {article.file: article.lang for article in articles}
    cosines: dict[str, list[float]] = defaultdict(list)
    for a, b in combinations(sorted(index), 2):
        event = event_of.get(a)
        label = labelled.get(frozenset((a, b)))
        if event is not None and event == event_of.get(b):
            kind = "same event"
        elif label is not None:
            kind = label.kind
        else:
            continue
        where = "across languages" if language[a] != language[b] else "one language"
        cosines[f"{kind}, {where}"].append(float(vectors[index[a]] @ vectors[index[b]]))
    print(f"dev, cosine of the first {args.chars} characters' wordllama embeddings")
    for name, values in sorted(cosines.items()):
        quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
        print(
            f"  {name:<32} pairs {len(values):>4}  median {statistics.median(values):.2f}  "
            f"quartiles {quartiles[0]:.2f}-{quartiles[2]:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
