"""A long fuzz run over ingest+enrich: throughput, failures, and the slowest inputs.

Runs ``--n`` inputs (10 000 by default) through ``ingest_raw`` and ``enrich_document`` exactly as
the workers compose them (``tests.hostile.ingest_and_enrich``, with in-memory stores shared by
the whole run, so exact and near duplicates happen as in a real stream) and prints:

- throughput: inputs/s and MB/s, wall and CPU (the machine is shared; CPU time is what a busy
  neighbour cannot inflate);
- outcomes: documents, and dead letters by reason;
- failures: any exception other than ``PermanentError``, and any document that does not survive
  JSON unchanged or has a money or entity offset that does not index ``doc.text`` (exit 1 then);
- the slowest inputs: shape, size, seconds, and the ``--only`` index that rebuilds each;
- inputs over ``--limit`` seconds (a stage time limit's worth) and this process's peak RSS.

It only prints figures; it never judges the timings.

**Inputs.** A seeded generator, not Hypothesis: input ``i`` is built from ``Random(f"{seed}:{i}")``
alone, so any slow or failing input is rebuilt with ``--only i`` and the same seed, and its shape
and size are known and printed. Hypothesis is built to shrink failures and keeps examples small;
it has no notion of a slow input, and the point here is sizes over five orders of magnitude and
the slowest list. (The bounded property test in CI is ``tests/unit/test_fuzz_pipeline.py``.)
Each input is one of:

- a hostile shape of ``tests.hostile.SHAPES`` at a log-uniform size from 16 bytes to
  ``--max-bytes`` (256 KiB), and with probability ``--large`` (1%) at 1-5 MiB;
- a mix of two to four shapes, their texts joined by line breaks;
- a seed file (``seeds/``) mutated: bytes flipped, inserted, deleted, or a hostile run spliced in;
- random text from the blocks that matter (Cyrillic, Latin, combining marks, punctuation,
  zero-width and bidi controls, digits, emoji, CJK) in a random encoding, or random bytes.

``.venv/bin/python bench/fuzz.py --n 10000`` takes about 15 minutes on two cores.
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for tests.hostile when run as a script

from newsflow.local import local_stores  # noqa: E402  # after the path is set
from services.enrich.entities import load_models  # noqa: E402
from shared.errors import PermanentError  # noqa: E402
from shared.settings import Settings  # noqa: E402
from tests.hostile import SHAPES, ingest_and_enrich, problems  # noqa: E402

MIB = 1024 * 1024
SEEDS = sorted((REPO / "seeds").glob("*.txt"))
ENCODINGS = ("utf-8", "utf-8", "utf-8", "utf-16", "utf-16-le", "cp1251", "koi8-r", "cp1252")
BLOCKS = (
    (0x20, 0x7E),  # ASCII
    (0xA0, 0xFF),  # Latin-1
    (0x400, 0x4FF),  # Cyrillic
    (0x300, 0x36F),  # combining marks
    (0x2000, 0x206F),  # spaces, dashes, quotes, zero-width and bidi controls
    (0x30, 0x39),  # digits
    (0x1F300, 0x1F6FF),  # emoji
    (0x4E00, 0x4E80),  # CJK
    (0xF70, 0xF84),  # Tibetan vowel signs (decompose to several marks)
)
RUNS = ("!", "«", "-", " ", "\u0301\u0316", "\u200b", "1", "руб. ", "1 000 ", "\n")


@dataclass
class Result:
    index: int
    shape: str
    size: int
    seconds: float
    cpu: float
    outcome: str


def _size(rng: random.Random, max_bytes: int, large: float) -> int:
    if rng.random() < large:
        return rng.randint(MIB, 5 * MIB)
    return int(math.exp(rng.uniform(math.log(16), math.log(max_bytes))))


def _random_text(rng: random.Random, size: int) -> str:
    chars: list[str] = []
    while len(chars) < size:
        low, high = rng.choice(BLOCKS)
        chars.extend(chr(rng.randint(low, high)) for _ in range(rng.randint(1, 64)))
    return "".join(chars[:size])


def _mutated(rng: random.Random, data: bytes, size: int) -> tuple[str, bytes]:
    out = bytearray(data)
    kinds = []
    for _ in range(rng.randint(1, 8)):
        kind = rng.choice(("flip", "insert", "delete", "splice"))
        kinds.append(kind)
        at = rng.randrange(len(out) + 1)
        if kind == "flip" and out:
            out[min(at, len(out) - 1)] = rng.randrange(256)
        elif kind == "insert":
            out[at:at] = rng.randbytes(rng.randint(1, 16))
        elif kind == "delete":
            del out[at : at + rng.randint(1, 64)]
        else:
            out[at:at] = (rng.choice(RUNS) * max(1, size // 4)).encode()[: size // 2]
    return "+".join(sorted(set(kinds))), bytes(out)


def build_input(seed: int, index: int, max_bytes: int, large: float) -> tuple[str, bytes]:
    """Input ``index`` of a run: (its shape, its bytes). Depends on nothing else."""
    rng = random.Random(f"{seed}:{index}")
    size = _size(rng, max_bytes, large)
    kind = rng.random()
    if kind < 0.6:
        name = rng.choice(sorted(SHAPES))
        return name, SHAPES[name](size)
    if kind < 0.75:
        names = rng.sample(sorted(SHAPES), rng.randint(2, 4))
        parts = [SHAPES[name](size // len(names)).decode("utf-8", "replace") for name in names]
        separator = rng.choice(("\n", "\n\n", " "))
        return "mix:" + "+".join(names), separator.join(parts).encode()
    if kind < 0.9:
        path = rng.choice(SEEDS)
        how, data = _mutated(rng, path.read_bytes(), size)
        return f"seed {path.name[:3]} {how}", data
    if kind < 0.97:
        encoding = rng.choice(ENCODINGS)
        text = _random_text(rng, size // 2)
        return f"random text {encoding}", text.encode(encoding, errors="ignore")
    return "random bytes", rng.randbytes(size)


def run_one(index: int, shape: str, data: bytes, settings: Settings, stores: object) -> Result:
    start, cpu = time.perf_counter(), time.process_time()
    try:
        doc = ingest_and_enrich(data, settings, stores)  # type: ignore[arg-type]
        found = problems(doc)
        outcome = "FAILED: " + "; ".join(found[:3]) if found else "document"
    except PermanentError as error:
        outcome = error.reason
    except Exception as error:  # noqa: BLE001  (the point: any other exception is a failure)
        where = traceback.extract_tb(error.__traceback__)[-1]
        outcome = f"FAILED: {type(error).__name__}: {error} ({where.filename}:{where.lineno})"
    return Result(
        index,
        shape,
        len(data),
        time.perf_counter() - start,
        time.process_time() - cpu,
        outcome,
    )


def _size_text(size: int) -> str:
    return f"{size / MIB:.1f} MiB" if size >= MIB else f"{size / 1024:.1f} KiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="inputs to run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-bytes", type=int, default=256 * 1024, help="largest common size")
    parser.add_argument("--large", type=float, default=0.01, help="share of 1-5 MiB inputs")
    parser.add_argument("--limit", type=float, default=10.0, help="report inputs over this, s")
    parser.add_argument("--slowest", type=int, default=10)
    parser.add_argument("--only", type=int, help="run just this input index (to reproduce one)")
    args = parser.parse_args()

    settings = Settings(_env_file=None, max_file_bytes=16 * MIB)
    stores = local_stores()
    started = time.perf_counter()
    load_models()
    print(f"models loaded in {time.perf_counter() - started:.1f} s", flush=True)

    indexes = [args.only] if args.only is not None else list(range(args.n))
    results: list[Result] = []
    wall, cpu = time.perf_counter(), time.process_time()
    for count, index in enumerate(indexes, 1):
        shape, data = build_input(args.seed, index, args.max_bytes, args.large)
        results.append(run_one(index, shape, data, settings, stores))
        if count % 1000 == 0:
            print(f"  {count} inputs, {time.perf_counter() - wall:.0f} s", flush=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu

    total = sum(r.size for r in results)
    print(
        f"\n{len(results)} inputs (seed {args.seed}; 16 B to {_size_text(args.max_bytes)}, "
        f"{args.large:.0%} at 1-5 MiB), {total / MIB:.1f} MiB in {wall:.0f} s wall, {cpu:.0f} s CPU"
    )
    print(
        f"throughput: {len(results) / wall:.1f} inputs/s, {total / MIB / wall:.2f} MiB/s wall; "
        f"{len(results) / cpu:.1f} inputs/s, {total / MIB / cpu:.2f} MiB/s CPU"
    )
    outcomes = Counter("FAILED" if r.outcome.startswith("FAILED") else r.outcome for r in results)
    print("outcomes: " + ", ".join(f"{name} {n}" for name, n in outcomes.most_common()))
    failures = [r for r in results if r.outcome.startswith("FAILED")]
    print(f"failures: {len(failures)}")
    for r in failures[:20]:
        print(f"  --only {r.index}: {r.shape}, {_size_text(r.size)}: {r.outcome}")
    over = [r for r in results if r.seconds > args.limit]
    print(f"inputs over {args.limit:g} s: {len(over)}")
    print(f"\nslowest {args.slowest}:")
    print(f"  {'seconds':>7} {'CPU s':>6} {'size':>10}  {'--only':>6}  shape -> outcome")
    for r in sorted(results, key=lambda r: r.seconds, reverse=True)[: args.slowest]:
        print(
            f"  {r.seconds:7.2f} {r.cpu:6.2f} {_size_text(r.size):>10}  {r.index:>6}  "
            f"{r.shape} -> {r.outcome[:60]}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this process: {peak:.0f} MiB (models included)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
