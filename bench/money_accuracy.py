"""Money parser accuracy on peers' test cases, and its speed on the seeds.

Reads ``../shared/testdata/money/{cases,negatives}.jsonl`` next to the repository (never copied
into it; see that folder's README). For each peer group and overall it prints:

- ``found``: cases where ``extract_money`` gives a mention with the case's currency and amount
  (relative tolerance 1e-9), with the case's ``lang`` (``en`` when it has none);
- ``share``: found / cases;
- ``fp``: negatives (texts the peer says hold no money) on which we report any mention.

Then ``docs/s`` of ``extract_money`` on the seed files, repeated, in one process on one core. The
script prints figures only; it never judges them. ``--misses`` lists the cases not found.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.enrich.money import extract_money  # noqa: E402 - after the path is set

DATA = ROOT.parent / "shared" / "testdata" / "money"
SEEDS = ROOT / "seeds"
# Negatives carry no group; their source repository names it.
GROUP_OF_REPO = {
    "scrapinghub/price-parser": "price-parser",
    "microsoft/Recognizers-Text": "recognizers-text",
    "facebook/duckling": "duckling",
    "reinfer/duckling": "duckling",
    "natasha/natasha": "natasha",
    "nielstron/quantulum3": "quantulum3",
    "natasha-ex/yargy": "natasha-ex-yargy",
}
GROUPS = (
    "price-parser",
    "recognizers-text",
    "duckling",
    "natasha",
    "quantulum3",
    "natasha-ex-yargy",
)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def is_found(case: dict[str, Any]) -> bool:
    mentions = extract_money(case["text"], language=case.get("lang") or "en")
    return any(
        mention.currency == case["currency"]
        and math.isclose(mention.amount, float(case["amount"]), rel_tol=1e-9)
        for mention in mentions
    )


def group_of(record: dict[str, Any]) -> str:
    if "group" in record:
        return str(record["group"])
    return GROUP_OF_REPO.get(str(record.get("source", "")).split("@")[0], "other")


def accuracy(show_misses: bool) -> None:
    cases = read_jsonl(DATA / "cases.jsonl")
    negatives = read_jsonl(DATA / "negatives.jsonl")
    total: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    false_positives: Counter[str] = Counter()
    negative_total: Counter[str] = Counter()
    misses: list[dict[str, Any]] = []
    for case in cases:
        group = group_of(case)
        total[group] += 1
        if is_found(case):
            hits[group] += 1
        else:
            misses.append(case)
    for negative in negatives:
        group = group_of(negative)
        negative_total[group] += 1
        if extract_money(negative["text"], language=negative.get("lang") or "en"):
            false_positives[group] += 1
            print(f"false positive {negative['id']}: {negative['text']!r}")

    print(f"{'group':<18} {'cases':>6} {'found':>6} {'share':>7} {'fp':>8}")
    groups = [*GROUPS, *sorted(set(total) - set(GROUPS))]
    for group in groups:
        if not total[group]:
            continue
        print(
            f"{group:<18} {total[group]:>6} {hits[group]:>6} {hits[group] / total[group]:>7.1%} "
            f"{false_positives[group]:>3}/{negative_total[group]:<4}"
        )
    all_cases, all_hits = sum(total.values()), sum(hits.values())
    print(
        f"{'overall':<18} {all_cases:>6} {all_hits:>6} {all_hits / all_cases:>7.1%} "
        f"{sum(false_positives.values()):>3}/{len(negatives):<4}"
    )
    if show_misses:
        print("\nnot found:")
        for case in misses:
            got = [
                (m.text, m.amount, m.currency)
                for m in extract_money(case["text"], language=case.get("lang") or "en")
            ]
            print(
                f"  {case['id']} [{case['group']}/{case.get('lang') or 'en'}] "
                f"{case['text'][:90]!r} want {case['amount']} {case['currency']}; got {got}"
            )


def speed(seconds: float, rounds: int = 5) -> None:
    """Docs/s over ``rounds`` timed rounds; the best round is the figure least disturbed by
    other work on a shared machine, the median shows the spread."""
    docs = []
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        # The seeds are Russian and German; the language only steers a few number readings.
        docs.append((text, "ru" if re.search("[а-яё]", text, re.IGNORECASE) else "de"))
    if not docs:
        print("no seeds found; speed not measured")
        return
    for text, language in docs:
        extract_money(text, language=language)
    rates = []
    for _ in range(rounds):
        count = 0
        started = time.perf_counter()
        while time.perf_counter() - started < seconds / rounds:
            for text, language in docs:
                extract_money(text, language=language)
            count += len(docs)
        rates.append(count / (time.perf_counter() - started))
    size = sum(len(text.encode("utf-8")) for text, _ in docs) / len(docs)
    print(
        f"\nspeed: {max(rates):,.0f} docs/s best, {statistics.median(rates):,.0f} median of "
        f"{rounds} rounds, one core, on the {len(docs)} seeds repeated "
        f"(mean {size / 1024:.1f} KiB UTF-8)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list the cases not found")
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to time (s)")
    args = parser.parse_args()
    if not (DATA / "cases.jsonl").is_file() or not (DATA / "negatives.jsonl").is_file():
        print(
            f"money test data not found in {DATA}: it lives outside the repository, in "
            "../shared/testdata/money/ (cases.jsonl and negatives.jsonl)",
            file=sys.stderr,
        )
        return 2
    accuracy(args.misses)
    speed(args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
