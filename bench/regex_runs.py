"""Every compiled regular expression of the services against long runs of one unit: which ones
grow faster than the text.

A pattern scanned over a whole text (``finditer``, ``search``, ``sub``) that may start inside a
run («!!!!», «A.A.A.», «ab-ab-») and give the run back character by character costs the run's
length squared, and a worker stalls on one hostile file (a 54 000-mark run held enrich for 33 s).
This finds such patterns without guessing the input: each module-level ``re.Pattern`` of
``services`` and ``shared`` is scanned with ``finditer`` over ``unit * n + tail`` for a set of
units (punctuation, letters, digits, spaces, combining marks, words) and tails, at ``n`` and
``4 n``; it prints the patterns whose time grew more than ``--ratio`` times (linear work grows
about 4 times, quadratic 16), with the worst unit and tail.

A pattern listed is not necessarily a bug: many are applied only at one position
(``match(text, pos)``) or to a bounded span (a word, a gap of a few characters), where a run
cannot be long. Read its call sites; a whole-text scan of a listed pattern needs a fix (start
only where a run starts, take runs possessively) and a shape in ``tests/hostile.py``, which
``bench/linearity.py`` then times through the whole pipeline.

Usage: ``python bench/regex_runs.py [--n 500] [--ratio 8]`` (about a minute).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # when run as a script

UNITS = (
    "!", ".", "?!", "…", " ", "\t", "\n", "-", " -", "«", "'", "$", "%", "\u0301",
    "a", "Ab", "A.", "ab-", "А", "а ", "Аб ", ". ", "1", "1 ", "1.", "1,", "1-", "1 000",
    "рубл", "руб. ",
)  # fmt: skip
TAILS = ("", "x", " ", "!", "1", "Я", "\n")
SKIPPED_MODULES = ("tasks", "worker", "celery", "app")
"""Modules that start or configure a service on import; their patterns are checked through
the modules they import."""


def patterns() -> dict[str, re.Pattern[str]]:
    import services  # noqa: PLC0415  # after the path is set
    import shared  # noqa: PLC0415

    found: dict[str, re.Pattern[str]] = {}
    for package in (services, shared):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if any(part in info.name.rsplit(".", 1)[-1] for part in SKIPPED_MODULES):
                continue
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                for where, pattern in _nested(f"{info.name}.{name}", value):
                    found[where] = pattern
    return found


def _nested(where: str, value: object, depth: int = 2) -> list[tuple[str, re.Pattern[str]]]:
    """The text patterns in ``value``: itself, or inside its tuples, lists and dict values (a
    table of rules, ``(pattern, replacement)`` pairs), ``depth`` levels down."""
    if isinstance(value, re.Pattern):
        return [(where, value)] if isinstance(value.pattern, str) else []
    if depth == 0:
        return []
    if isinstance(value, dict):
        items = [(f"{where}[{key!r}]", item) for key, item in value.items()]
    elif isinstance(value, (list, tuple)):
        items = [(f"{where}[{index}]", item) for index, item in enumerate(value)]
    else:
        return []
    return [found for name, item in items for found in _nested(name, item, depth - 1)]


def scan_seconds(pattern: re.Pattern[str], text: str) -> float:
    started = time.perf_counter()
    for _ in pattern.finditer(text):
        pass
    return time.perf_counter() - started


def growth(pattern: re.Pattern[str], n: int) -> tuple[float, str, str, float, float]:
    """The largest growth of scan time from ``n`` to ``4 n`` units, and where."""
    worst = (0.0, "", "", 0.0, 0.0)
    for unit in UNITS:
        for tail in TAILS:
            small = scan_seconds(pattern, unit * n + tail)
            if small < 0.0005:  # too fast to time: linear or not, it cannot stall a worker
                continue
            large = scan_seconds(pattern, unit * (4 * n) + tail)
            if large / small > worst[0]:
                worst = (large / small, unit, tail, small, large)
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=500, help="units in the shorter run")
    parser.add_argument("--ratio", type=float, default=8.0, help="list growth above this")
    args = parser.parse_args()
    found = patterns()
    print(f"{len(found)} patterns; runs of {args.n} and {4 * args.n} units")
    listed = []
    for name, pattern in sorted(found.items()):
        ratio, unit, tail, small, large = growth(pattern, args.n)
        if ratio > args.ratio:
            listed.append((ratio, name, unit, tail, small, large))
    print(f"  {'growth':>6}  {'short s':>8}  {'long s':>8}  pattern (unit, tail)")
    for ratio, name, unit, tail, small, large in sorted(listed, reverse=True):
        print(f"  {ratio:6.1f}  {small:8.4f}  {large:8.4f}  {name} ({unit!r}, {tail!r})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
