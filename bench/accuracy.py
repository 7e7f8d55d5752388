"""Accuracy of newsflow's enrichers on public test data from other projects.

Reads ``../shared/testdata/`` beside the repository (never copied into it; see its README):

- ``langid/<code>.txt``: 200 news sentences per language (from lingua's test data). For each
  configured language it prints accuracy (share labelled correctly), the share called ``und``,
  and the macro average. Languages outside the configured set (bg, sr) cannot be labelled
  correctly; for them it prints how often newsflow says ``und`` rather than a wrong language.
- ``money/cases.jsonl`` and ``negatives.jsonl``: money amounts from peers' own test suites. It
  prints, per peer suite, the share of the peer's cases newsflow's parser finds (same amount and
  currency), and the false positives on the peers' negatives (``bench/money_accuracy.py``, which
  also lists the misses with ``--misses`` and measures the parser's speed).

- ``news``: the project's own hand-labelled real-news benchmark (``bench/data/news/``, inside
  the repository): per language and for its dev and test halves, language identification,
  money and entities for newsflow and for the anchor stack (lingua + Natasha), in one run
  (``bench/news_accuracy.py``, which also lists newsflow's dev-half errors with ``--misses``).

Usage: ``python bench/accuracy.py [langid|money|news|all] [--testdata DIR]`` (``all`` by
default). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.money_accuracy import DATA, accuracy  # noqa: E402  # after the path is set
from bench.news_accuracy import report as news_report  # noqa: E402
from services.enrich.language import detect_language  # noqa: E402
from shared.settings import DEFAULT_LANGUAGES  # noqa: E402

DEFAULT_TESTDATA = ROOT.parent / "shared" / "testdata"
MIN_CONFIDENCE = 0.5
MIN_LETTERS = 12


def language_accuracy(folder: Path) -> None:
    languages = tuple(DEFAULT_LANGUAGES)
    print(f"== language ({folder}); configured set {','.join(languages)}")
    print(f"{'lang':<6}{'n':>5}{'accuracy':>10}{'und':>8}  most common wrong labels")
    accuracies = []
    started, lines_done = time.perf_counter(), 0
    for path in sorted(folder.glob("*.txt")):
        code = path.stem
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        labels = Counter(
            detect_language(
                line, languages, min_confidence=MIN_CONFIDENCE, min_letters=MIN_LETTERS
            ).language
            for line in lines
        )
        lines_done += len(lines)
        wrong = {label: n for label, n in labels.most_common() if label not in (code, "und")}
        und = labels["und"] / len(lines)
        if code in languages:
            accuracy = labels[code] / len(lines)
            accuracies.append(accuracy)
            print(f"{code:<6}{len(lines):>5}{accuracy:>10.1%}{und:>8.1%}  {wrong or ''}")
        else:
            print(f"{code:<6}{len(lines):>5}{'(not in set)':>10}{und:>8.1%}  labelled as {wrong}")
    elapsed = time.perf_counter() - started
    if accuracies:
        print(
            f"macro accuracy over {len(accuracies)} configured languages: "
            f"{sum(accuracies) / len(accuracies):.1%}  ({lines_done / elapsed:.0f} sentences/s)"
        )


def money_accuracy() -> None:
    """The peers' money cases: bench/money_accuracy.py does the counting, this prints it here."""
    print(f"== money ({DATA})")
    accuracy(show_misses=False)


PARTS = ("langid", "money", "news")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "part", nargs="?", default="all", choices=(*PARTS, "all"), help="which figures (all)"
    )
    parser.add_argument("--testdata", type=Path, default=DEFAULT_TESTDATA)
    parser.add_argument("--misses", action="store_true", help="news: newsflow's dev-half errors")
    args = parser.parse_args()
    parts = PARTS if args.part == "all" else (args.part,)
    if {"langid", "money"} & set(parts) and not args.testdata.is_dir():
        print(
            f"no test data at {args.testdata} (it lives beside the repository as shared/testdata)"
        )
        if "news" not in parts:
            return 2
    if "langid" in parts and (args.testdata / "langid").is_dir():
        language_accuracy(args.testdata / "langid")
    if "money" in parts and (args.testdata / "money").is_dir():
        money_accuracy()
    if "news" in parts:
        news_report(show_misses=args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
