"""Accuracy of newsflow's enrichers on public test data from other projects.

Reads ``../shared/testdata/`` beside the repository (never copied into it; see its README):

- ``langid/<code>.txt``: 200 news sentences per language (from lingua's test data), split into
  a dev half and a test half by a hash of each sentence (``half``): the language rules were
  studied on the dev half only, the test half is only scored. For each configured language and
  half it prints newsflow's accuracy (share labelled correctly), plain lingua's on the same
  sentences (its first choice among the configured languages, no threshold: the anchor), the
  share newsflow calls ``und``, and the macro averages. Languages outside the configured set
  (bg, sr) cannot be labelled correctly; for them it prints how often newsflow says ``und``
  rather than a wrong language.
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
import hashlib
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from lingua import IsoCode639_1, LanguageDetectorBuilder

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.money_accuracy import DATA, accuracy  # noqa: E402  # after the path is set
from bench.news_accuracy import report as news_report  # noqa: E402
from bench.story_accuracy import report as stories_report  # noqa: E402
from services.enrich.language import detect_language  # noqa: E402
from shared.settings import DEFAULT_LANGUAGES  # noqa: E402

DEFAULT_TESTDATA = ROOT.parent / "shared" / "testdata"
MIN_CONFIDENCE = 0.5
MIN_LETTERS = 12


def half(sentence: str) -> str:
    """``dev`` or ``test``, from the first byte of the sentence's SHA-256: deterministic, about
    half each, and a sentence keeps its half whatever else the file holds or in what order.
    Rules for language are studied on the dev half only; the test half is only scored."""
    return "dev" if hashlib.sha256(sentence.encode("utf-8")).digest()[0] % 2 == 0 else "test"


def plain_lingua(languages: tuple[str, ...]) -> Callable[[str], str]:
    """The anchor: lingua's own first choice among the configured languages, no threshold."""
    detector = LanguageDetectorBuilder.from_iso_codes_639_1(
        *(getattr(IsoCode639_1, code.upper()) for code in languages)
    ).build()

    def detect(line: str) -> str:
        language = detector.detect_language_of(line)
        return language.iso_code_639_1.name.lower() if language else "und"

    return detect


def language_accuracy(folder: Path) -> None:
    languages = tuple(DEFAULT_LANGUAGES)
    lingua = plain_lingua(languages)
    halves = ("dev", "test")
    print(f"== language ({folder}); configured set {','.join(languages)}")
    print(
        "   halves by sentence hash (bench/accuracy.py half()); lingua = plain lingua restricted "
        "to the configured set"
    )
    header = "".join(f"{h + ' n':>8}{'newsflow':>10}{'lingua':>8}{'und':>7}" for h in halves)
    print(f"{'lang':<6}{header}  wrong labels (newsflow, both halves)")
    ours: dict[str, list[float]] = {h: [] for h in halves}
    anchor: dict[str, list[float]] = {h: [] for h in halves}
    started, lines_done = time.perf_counter(), 0
    for path in sorted(folder.glob("*.txt")):
        code = path.stem
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        row, wrong = f"{code:<6}", Counter[str]()
        for name in halves:
            chosen = [line for line in lines if half(line) == name]
            labels = Counter(
                detect_language(
                    line, languages, min_confidence=MIN_CONFIDENCE, min_letters=MIN_LETTERS
                ).language
                for line in chosen
            )
            lines_done += len(chosen)
            wrong.update({label: n for label, n in labels.items() if label not in (code, "und")})
            und = labels["und"] / len(chosen)
            if code in languages:
                accuracy = labels[code] / len(chosen)
                plain = sum(lingua(line) == code for line in chosen) / len(chosen)
                ours[name].append(accuracy)
                anchor[name].append(plain)
                row += f"{len(chosen):>8}{accuracy:>10.1%}{plain:>8.1%}{und:>7.1%}"
            else:
                row += f"{len(chosen):>8}{'(not in set)':>18}{und:>7.1%}"
        print(f"{row}  {dict(wrong.most_common()) or ''}")
    elapsed = time.perf_counter() - started
    for name in halves:
        if ours[name]:
            print(
                f"macro accuracy, {name} half, {len(ours[name])} configured languages: newsflow "
                f"{sum(ours[name]) / len(ours[name]):.1%}, lingua "
                f"{sum(anchor[name]) / len(anchor[name]):.1%}"
            )
    print(f"({lines_done / elapsed:.0f} sentences/s, newsflow and lingua together)")


def money_accuracy() -> None:
    """The peers' money cases: bench/money_accuracy.py does the counting, this prints it here."""
    print(f"== money ({DATA})")
    accuracy(show_misses=False)


PARTS = ("langid", "money", "news", "stories")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "part", nargs="?", default="all", choices=(*PARTS, "all"), help="which figures (all)"
    )
    parser.add_argument("--testdata", type=Path, default=DEFAULT_TESTDATA)
    parser.add_argument(
        "--misses", action="store_true", help="news, stories: newsflow's dev-half errors"
    )
    parser.add_argument(
        "--dev-only",
        action="store_true",
        help="stories: score the dev half alone (for studying without seeing test figures)",
    )
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
    if "stories" in parts:
        stories_report(
            show_misses=args.misses, halves=("dev",) if args.dev_only else ("dev", "test")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
