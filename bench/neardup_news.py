"""Near-duplicate recall and false merges on real news: the labelled real-news benchmark.

Reads the articles of ``bench/data/news/`` (``--data`` for another copy of that folder, such as
the ``news-bench`` branch's worktree before it is merged) and their halves from its
``labels.jsonl`` (odd-numbered files ``dev``, even ``test``: the near-duplicate rules were studied
on ``dev`` only; ``test`` is only scored). Every document goes through ``parse_raw`` and is signed
on its title and body, as the enrich stage does. Per half it prints:

- **copies found**: for every article and every body paragraph, a copy with that paragraph cut,
  re-flowed two ways: ``spaces`` (one line per paragraph, runs of spaces doubled: a re-scrape)
  and ``wrapped`` (hard line breaks at 72 columns, so a file's lines are no longer its paragraphs
  and the title line ends elsewhere). Each copy meets only its original (a fresh store per copy).
  Copies whose text is too short to sign (an article of one paragraph loses all of its body) are
  counted apart, not as misses.
- **renumbered merged**: the article with every digit shifted (3 -> 6, ...: other dates, rates,
  amounts, the same words), the two daily rate reports from one template. Each meets only its
  original; merging them is a false merge.
- **articles merged**: all articles of the half claimed in file order in one store; every article
  marked a near-duplicate of another is a false merge, and those of two articles in one of
  ``events.jsonl``'s groups (the same event, reported twice) are counted as well.

Usage: ``python bench/neardup_news.py [--data DIR]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import textwrap
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.enrich import neardup  # noqa: E402  # after the path is set
from services.enrich.neardup import MemoryNearDuplicates, find_near_duplicate  # noqa: E402
from services.ingest.parse import parse_raw  # noqa: E402
from shared.messages import ParsedDocument  # noqa: E402

DEFAULT_DATA = ROOT / "bench" / "data" / "news"
WRAP_COLUMNS = 72
_DIGIT = re.compile(r"\d")


def parse(text: str, name: str) -> ParsedDocument:
    return parse_raw(
        text.encode("utf-8"),
        receipt=uuid.uuid4().hex,
        source="local",
        filename=name,
        received_at=datetime.now(UTC),
    )


def signed_text(doc: ParsedDocument) -> str:
    """What the enrich stage signs (``stage.enrich_document``)."""
    return doc.text


def spaces(headline: str, paragraphs: list[str]) -> str:
    return "\n".join("  ".join(line.split()) for line in [headline, *paragraphs]) + " \n"


def wrapped(headline: str, paragraphs: list[str]) -> str:
    return "\n".join(
        textwrap.fill(" ".join(line.split()), WRAP_COLUMNS) for line in [headline, *paragraphs]
    )


def renumbered(text: str) -> str:
    return _DIGIT.sub(lambda match: str((int(match.group()) + 3) % 10), text)


def near(original: str, other: str) -> bool | None:
    """Whether ``other`` is found a near-duplicate of ``original`` in a store holding only it;
    None when either is too short to sign."""
    store = MemoryNearDuplicates()
    first = find_near_duplicate("original", signed_text(parse(original, "original")), store)
    second = find_near_duplicate("other", signed_text(parse(other, "other")), store)
    if first is None or second is None:
        return None
    return second.near_duplicate_of == "original"


@dataclass
class Tally:
    found: int = 0
    total: int = 0
    too_short: int = 0
    missed: list[str] = field(default_factory=list)

    def add(self, verdict: bool | None, name: str) -> None:
        if verdict is None:
            self.too_short += 1
            return
        self.total += 1
        self.found += verdict
        if not verdict:
            self.missed.append(name)

    def share(self) -> str:
        return f"{self.found}/{self.total} ({self.found / self.total:.1%})" if self.total else "-"


def evaluate(data: Path, half: str, *, show_misses: bool) -> None:
    rows = [json.loads(line) for line in (data / "labels.jsonl").read_text().splitlines()]
    files = [row["file"] for row in rows if row["split"] == half]
    texts = {name: (data / name).read_text(encoding="utf-8") for name in files}
    copies = {"spaces": Tally(), "wrapped": Tally()}
    merged_renumbered = Tally()
    for name, text in texts.items():
        headline, *paragraphs = [line for line in text.split("\n") if line.strip()]
        for cut in range(len(paragraphs)):
            kept = paragraphs[:cut] + paragraphs[cut + 1 :]
            for style, reflow in (("spaces", spaces), ("wrapped", wrapped)):
                copies[style].add(near(text, reflow(headline, kept)), f"{name} cut {cut + 1}")
        if _DIGIT.search(text):
            merged_renumbered.add(near(text, renumbered(text)), name)

    store = MemoryNearDuplicates()
    verdicts = {
        name: find_near_duplicate(name, signed_text(parse(text, name)), store)
        for name, text in texts.items()
    }
    merged = {
        name: verdict.near_duplicate_of
        for name, verdict in verdicts.items()
        if verdict is not None and verdict.near_duplicate_of
    }
    events = [
        set(event["files"]) & set(files)
        for event in map(json.loads, (data / "events.jsonl").read_text().splitlines())
    ]
    same_event = {
        frozenset(pair) for group in events for pair in itertools.combinations(sorted(group), 2)
    }
    pairs = len(files) * (len(files) - 1) // 2
    print(f"-- {half}: {len(files)} articles")
    for style, tally in copies.items():
        print(
            f"  copies found ({style:<7})  {tally.share():>16}   too short to sign "
            f"{tally.too_short}"
        )
    print(
        f"  renumbered merged        {merged_renumbered.found}/{merged_renumbered.total} "
        "(false merges)"
    )
    same = sum(frozenset(pair) in same_event for pair in merged.items())
    unsigned = sum(verdict is None for verdict in verdicts.values())
    print(
        f"  articles merged          {len(merged)} of {pairs} pairs (false merges), of them "
        f"{same} of the {len(same_event)} same-event pairs; {unsigned} too short to sign"
    )
    if show_misses:
        for style, tally in copies.items():
            for miss in tally.missed:
                print(f"    missed ({style}): {miss}")
        for name, other in merged.items():
            print(f"    merged: {name} -> {other}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--misses", action="store_true", help="list misses on the dev half")
    args = parser.parse_args()
    if not (args.data / "labels.jsonl").is_file():
        print(f"no real-news benchmark at {args.data} (bench/data/news/ of branch news-bench)")
        return 2
    print(
        f"near-duplicates on real news ({args.data}): num_perm={neardup.NUM_PERM} bands="
        f"{neardup.BANDS}x{neardup.ROWS}, version {neardup.VERSION}"
    )
    for half in ("dev", "test"):
        evaluate(args.data, half, show_misses=args.misses and half == "dev")
    return 0


if __name__ == "__main__":
    sys.exit(main())
