"""Near-duplicate lookup cost as the Redis store grows: it must stay flat.

What it does, on one Redis database (8 by default; flushed first, and again at the end unless
``--keep``):

1. Makes synthetic documents cheaply: four paragraphs of 25-60 words drawn at random from the
   vocabulary of ``seeds/``. Real text shares more with its neighbours than this, but a 3-word
   shingle of real news is just as rare outside its own copies, which is what the store's size
   acts on.
2. Fills the store to each size (10^4, then 10^5 documents) through
   ``RedisNearDuplicates.claim_many`` (the same Lua script, pipelined 500 at a time).
3. At each size, runs ``--probes`` documents one at a time, as an enrich worker does: half new
   documents, half copies of stored ones with one paragraph of four cut and the whitespace
   reflowed. Each probe is also inserted (the script always is lookup + insert).

How to read the figures:

- ``signature`` is the CPU cost per document in the worker (normalise, shingle, MinHash, band
  digests); it does not depend on the store.
- ``claim p50/p95`` is one script round trip: look up 32 bands, claim the free ones, verify the
  candidates on their stored signatures, record the verdict. ``ratio`` is the 10^5 figure over
  the 10^4 one; flat means about 1.
- ``PING`` p50, taken between the probes, is the round trip with no work: the machine is shared
  (workers, other benches, one Redis), so compare the claim figures with it when they move.
- ``copies found`` must be 100% and ``new marked`` 0%: the script exits 1 otherwise (it never
  judges the timings).
- ``memory`` is measured before the probes, two ways: the sum of ``MEMORY USAGE`` over this
  store's keys (exact for it), and the growth of the server's ``used_memory`` since the start
  (includes the main key table's growth, but also anything else writing to the same server).
  Both are also shown per stored document. Part of the 10^4 figure is the fixed cost of the
  65 536 bucket hashes, so the per-document figure falls as the store grows.

Run ``python bench/neardup.py --help`` for the options. Takes about two minutes on two cores.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import redis

from services.enrich import neardup
from services.enrich.neardup import RedisNearDuplicates, Signature, find_near_duplicate

ROOT = Path(__file__).resolve().parent.parent
FILL_BATCH = 500
KEEP_EVERY = 50  # bodies kept in memory to make copies from, so the bench's own memory stays small


@dataclass
class Probe:
    signature_ms: list[float]
    claim_ms: list[float]
    ping_ms: list[float]
    copies: int = 0
    copies_found: int = 0
    new: int = 0
    new_marked: int = 0


def vocabulary() -> list[str]:
    words: list[str] = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        words.extend(re.findall(r"\w+", path.read_text(encoding="utf-8")))
    return sorted(set(words))


def make_paragraphs(words: list[str], rng: random.Random) -> list[str]:
    return [
        " ".join(rng.choices(words, k=rng.randint(25, 60))).capitalize() + "." for _ in range(4)
    ]


def fill(
    store: RedisNearDuplicates,
    *,
    words: list[str],
    rng: random.Random,
    start: int,
    stop: int,
    kept: list[list[str]],
) -> list[float]:
    """Add documents ``start``..``stop``; returns the signature time of each, in ms."""
    signature_ms: list[float] = []
    for batch_start in range(start, stop, FILL_BATCH):
        claims: list[tuple[str, Signature]] = []
        for number in range(batch_start, min(batch_start + FILL_BATCH, stop)):
            paragraphs = make_paragraphs(words, rng)
            if number % KEEP_EVERY == 0:
                kept.append(paragraphs)
            began = time.perf_counter()
            signature = neardup.signature("\n\n".join(paragraphs))
            signature_ms.append((time.perf_counter() - began) * 1000)
            if signature is not None:
                claims.append((f"fill-{number}", signature))
        store.claim_many(claims)
    return signature_ms


def probe(
    store: RedisNearDuplicates,
    *,
    store_client: redis.Redis,
    words: list[str],
    rng: random.Random,
    count: int,
    label: str,
    kept: list[list[str]],
) -> Probe:
    result = Probe(signature_ms=[], claim_ms=[], ping_ms=[])
    for number in range(count):
        is_copy = number % 2 == 0
        if is_copy:
            paragraphs = rng.choice(kept)
            cut = rng.randrange(len(paragraphs))
            body = "\n".join(
                "  ".join(paragraph.split())
                for index, paragraph in enumerate(paragraphs)
                if index != cut
            )
        else:
            body = "\n\n".join(make_paragraphs(words, rng))
        began = time.perf_counter()
        signature = neardup.signature(body)
        signed = time.perf_counter()
        if signature is None:
            raise RuntimeError("a probe body came out shorter than MIN_SHINGLES")
        verdict = store.claim(f"probe-{label}-{number}", signature)
        claimed = time.perf_counter()
        result.signature_ms.append((signed - began) * 1000)
        result.claim_ms.append((claimed - signed) * 1000)
        store_client.ping()
        result.ping_ms.append((time.perf_counter() - claimed) * 1000)
        if is_copy:
            result.copies += 1
            result.copies_found += verdict.near_duplicate_of is not None
        else:
            result.new += 1
            result.new_marked += verdict.near_duplicate_of is not None
    return result


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def used_memory(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def store_memory(client: redis.Redis) -> int:
    """Sum of ``MEMORY USAGE`` over the store's keys (exact: buckets are small listpacks)."""
    total = 0
    pipeline = client.pipeline(transaction=False)
    for number, key in enumerate(client.scan_iter(match=f"{neardup.KEY_PREFIX}*", count=1000)):
        pipeline.memory_usage(key, samples=0)
        if number % 5000 == 4999:
            total += int(sum(pipeline.execute()))
    return total + int(sum(pipeline.execute()))


def stored_documents(client: redis.Redis) -> int:
    """Documents the claim script recorded: the value of its sequence counter."""
    value = client.get(f"{neardup.KEY_PREFIX}{neardup.VERSION}:seq")
    return int(value) if isinstance(value, bytes) else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="leave the data in Redis")
    options = parser.parse_args()
    if urlsplit(options.redis_url).path.strip("/") in ("", "0"):
        parser.error("refusing to flush database 0: give a URL with a database of its own")

    client = redis.Redis.from_url(options.redis_url)
    client.flushdb()
    store = RedisNearDuplicates(client)
    words = vocabulary()
    rng = random.Random(options.seed)
    # A warm-up claim, so the first timed one does not pay for loading the script.
    find_near_duplicate("warm-up", "\n".join(make_paragraphs(words, rng)), store)

    print(
        f"near-duplicate store: num_perm={neardup.NUM_PERM} bands={neardup.BANDS}x"
        f"{neardup.ROWS} threshold={neardup.THRESHOLD} shingle={neardup.SHINGLE_WORDS} words; "
        f"vocabulary {len(words)} words; {options.probes} probes per size"
    )
    kept: list[list[str]] = []
    filled = 0
    memory_before = used_memory(client)
    rows: list[tuple[int, Probe]] = []
    failed = False
    for size in sorted(options.sizes):
        began = time.perf_counter()
        fill_signature_ms = fill(store, words=words, rng=rng, start=filled, stop=size, kept=kept)
        fill_seconds = time.perf_counter() - began
        filled = size
        documents = stored_documents(client)
        memory = used_memory(client) - memory_before
        keys_memory = store_memory(client)
        result = probe(
            store,
            store_client=client,
            words=words,
            rng=rng,
            count=options.probes,
            label=str(size),
            kept=kept,
        )
        rows.append((size, result))
        print(
            f"\n{size:>7} documents (filled in {fill_seconds:.1f}s, {documents} in the store)\n"
            f"  signature      mean {statistics.fmean(fill_signature_ms):.3f} ms/doc (fill), "
            f"p50 {percentile(result.signature_ms, 0.5):.3f} ms (probes)\n"
            f"  claim          p50 {percentile(result.claim_ms, 0.5):.3f} ms   "
            f"p95 {percentile(result.claim_ms, 0.95):.3f} ms   "
            f"(a PING between probes: p50 {percentile(result.ping_ms, 0.5):.3f} ms)\n"
            f"  copies found   {result.copies_found}/{result.copies}   "
            f"new marked {result.new_marked}/{result.new}\n"
            f"  redis memory   keys {keys_memory / 2**20:.1f} MiB "
            f"({keys_memory / documents:.0f} bytes/doc), used_memory growth "
            f"{memory / 2**20:.1f} MiB ({memory / documents:.0f} bytes/doc)"
        )
        failed |= result.copies_found != result.copies or result.new_marked != 0

    if len(rows) >= 2:
        (small, first), (large, last) = rows[0], rows[-1]
        for name, share in (("p50", 0.5), ("p95", 0.95)):
            ratio = percentile(last.claim_ms, share) / percentile(first.claim_ms, share)
            print(f"\nclaim {name} ratio {large}/{small}: {ratio:.2f}", end="")
        print()
    if not options.keep:
        client.flushdb()
    client.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
