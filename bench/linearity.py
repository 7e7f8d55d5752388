"""Every hostile input shape through ingest+enrich at 1x and 10x its size: time and memory.

For each shape of ``tests.hostile.SHAPES`` (combining marks, punctuation and space runs,
megabyte lines, a million lines, long digit runs, dense amounts and names, ...), this runs one
file of ``--size`` bytes (512 KiB) and one of ten times that through ``ingest_raw`` and
``enrich_document`` with the default settings (``max_file_bytes`` raised to let 5 MiB in), each
in a fresh process, and prints the seconds of each stage (CPU time: the machine is shared), the
ratio of the 10x total to the 1x total, and the process's peak RSS. The seeds go through first,
outside the clock, so that model loading is not counted.

How to read it: linear work gives a ratio of at most about 10, and less where entities and money
read only their first ``NEWSFLOW_ENRICH_MAX_CHARS`` characters at both sizes; a quadratic path
would give about 100. ``rss`` includes the models (~300 MiB); ``base`` is the peak before the
file was read. It only prints figures; it never judges them.

``.venv/bin/python bench/linearity.py`` takes about five minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for tests.hostile when run as a script

MIB = 1024 * 1024


def measure(name: str, size: int) -> dict[str, object]:
    """One shape at one size, in this process (run by ``--child``)."""
    from newsflow.local import local_stores  # noqa: PLC0415  (only the child loads the models)
    from services.enrich.entities import load_models  # noqa: PLC0415
    from services.enrich.stage import enrich_document  # noqa: PLC0415
    from services.ingest.intake import raw_file_message  # noqa: PLC0415
    from services.ingest.stage import ingest_raw  # noqa: PLC0415
    from shared.errors import PermanentError  # noqa: PLC0415
    from shared.settings import Settings  # noqa: PLC0415
    from tests.hostile import SHAPES  # noqa: PLC0415

    settings = Settings(_env_file=None, max_file_bytes=16 * MIB)
    load_models()
    # Warm up outside the clock: lingua loads a language's models on the first text it scores.
    for seed in sorted((REPO / "seeds").glob("*.txt")):
        data = seed.read_bytes()
        raw = raw_file_message(data, len(data), filename=seed.name, source="cli", origin_path=None)
        enrich_document(ingest_raw(raw, data, settings), local_stores(), settings)
    data = SHAPES[name](size)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    raw = raw_file_message(data, len(data), filename="x.txt", source="cli", origin_path=None)
    started = time.process_time()
    ingest = enrich = 0.0
    try:
        doc = ingest_raw(raw, data, settings)
        ingest = time.process_time() - started
        enriched = enrich_document(doc, local_stores(), settings)
        enrich = time.process_time() - started - ingest
        outcome = f"{len(enriched.money)} money, {len(enriched.entities)} entities"
    except PermanentError as error:
        ingest = time.process_time() - started
        outcome = error.reason
    return {
        "bytes": len(data),
        "ingest": ingest,
        "enrich": enrich,
        "outcome": outcome,
        "base": base,
        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_child(name: str, size: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, str(size)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512 * 1024, help="the 1x size in bytes")
    parser.add_argument("--only", nargs="*", help="shape names (default: all)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], int(args.child[1]))))
        return 0

    from tests.hostile import SHAPES  # noqa: PLC0415  (the parent needs only the names)

    names = args.only or sorted(SHAPES)
    print(
        f"{'shape':28} {'1x bytes':>9} {'ingest':>7} {'enrich':>7} "
        f"{'10x bytes':>10} {'ingest':>7} {'enrich':>7} {'ratio':>6} {'rss MiB':>8} {'base':>5}"
        "  10x outcome"
    )
    for name in names:
        one, ten = run_child(name, args.size), run_child(name, 10 * args.size)
        total_one = float(one["ingest"]) + float(one["enrich"])
        total_ten = float(ten["ingest"]) + float(ten["enrich"])
        ratio = total_ten / total_one if total_one > 0.01 else float("nan")
        print(
            f"{name:28} {one['bytes']:>9} {one['ingest']:7.2f} {one['enrich']:7.2f} "
            f"{ten['bytes']:>10} {ten['ingest']:7.2f} {ten['enrich']:7.2f} {ratio:6.1f} "
            f"{ten['rss']:8.0f} {ten['base']:5.0f}  {ten['outcome']}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
