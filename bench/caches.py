"""The word caches a worker child keeps for its whole life: how fast real news fills them, and what
each holds at its cap.

Enrich and index children cache pure functions of words (a token's tagger row, a name's
phonetic key, a word's lemma; ``shared/caches.py`` sets their caps). A benchmark of a thousand
documents drawn from five seeds hardly fills them, since its vocabulary is the seeds'; a worker
that reads a week of news fills them to their caps. This script shows both halves of that:

1. ``news``: every article of the real-news benchmark (``bench/data/news``, both halves: nothing
   here is tuned on them), enriched in batches as the enrich worker does and then indexed into an
   in-memory SQLite index, and each cache's entries afterwards, per article: how many new words
   real news brings (what the article set has in common with the seeds does not count).
2. ``at the cap``: each cache emptied and given ``--sample`` words of its language from the
   same articles (distinct, shuffled, as written and in lower case), what the process then holds
   more per entry they added (tracemalloc: the Python objects, which is what an entry is), times
   the cap: what the cache holds when full. The total per stage is the most its caches add to
   each child of that stage's worker (``search``: the API process, which reads queries).

Usage: ``python bench/caches.py [--skip-news] [--sample 2000]`` (it loads the enrich models).
"""

# Imports inside the functions: the models load once, after the arguments are read.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import random
import re
import sys
import tracemalloc
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for bench.* when run as a script

NEWS = REPO / "bench" / "data" / "news"
_WORD = re.compile(r"[^\W\d_]{2,}")


@dataclass
class Cache:
    stage: str
    name: str
    language: str
    """The language of the words it is given: the words it sees in a worker."""
    cap: int
    size: Callable[[], int]
    clear: Callable[[], object]
    fill: Callable[[str], object]
    """Looks up one word (which adds an entry when the word is new to it)."""


def caches() -> list[Cache]:
    """Every per-process word cache of an enrich child, an index child and the search API, with
    a way to fill each."""
    from services.enrich import country
    from services.enrich.entities import keys, morphology, person_ids
    from services.enrich.entities.models import load_models
    from services.enrich.stories import assign, facts
    from services.enrich.stories.facts import NamedDate
    from services.index import lemmas
    from shared import caches as caps
    from shared import names

    models = load_models()
    ner, morph, gazetteer = models.russian.ner, models.russian.morph, models.gazetteer
    vocab = models.russian.vocab
    dative = (("Case", "Dat"), ("Number", "Sing"))

    def table(stage: str, name: str, cache: dict[str, Any], fill: Callable[[str], object]) -> Cache:
        return Cache(stage, name, "ru", caps.TOKENS, cache.__len__, cache.clear, fill)

    def lru(
        stage: str, name: str, function: Any, fill: Callable[[str], object], language: str = "ru"
    ) -> Cache:
        def size() -> int:
            return int(function.cache_info().currsize)

        cap = int(function.cache_info().maxsize)
        return Cache(stage, name, language, cap, size, function.cache_clear, fill)

    def parse(word: str) -> object:
        return vocab.parse(word.lower())

    def named_date(word: str) -> NamedDate:
        # A date per word, from its checksum: distinct words give (mostly) distinct dates.
        h = zlib.crc32(word.encode())
        return NamedDate(month=1 + h % 12, day=1 + h // 12 % 28, year=2000 + h // 336 % 30)

    def decoded(word: str) -> object:
        return facts._decoded(named_date(word).encode())

    def nearest_day(word: str) -> object:
        first = 738_000 + zlib.crc32(word.encode()) % 3000
        return assign._nearest_day(named_date(word), first, first + 7)

    def query_forms(word: str) -> object:
        return lemmas.ukrainian_query_forms(word.lower())

    def decline(word: str) -> object:
        return morphology._inflect_cached(vocab, word.lower(), "NOUN", dative, True)

    return [
        table("enrich", "NER tagger rows", ner._key_cache, ner._token_key),
        table("enrich", "morphology tagger rows", morph._key_cache, morph._token_key),
        table("enrich", "gazetteer tokens", gazetteer._token_cache, gazetteer._canon),
        lru("enrich", "name keys", names.name_key, lambda w: names.name_key(w, "ru")),
        lru("enrich", "vowel keys", keys.vowel_key, lambda w: keys.vowel_key(w, "ru")),
        lru("enrich", "surname keys", person_ids.word_key, lambda w: person_ids.word_key(w, "ru")),
        lru("enrich", "nominatives", person_ids.nominatives, person_ids.nominatives),
        lru("enrich", "pymorphy2 parses (Natasha)", type(vocab).parse, parse),
        lru("enrich", "declined names", morphology._inflect_cached, decline),
        lru("enrich", "entity countries", country.entity_country, country.entity_country),
        lru(
            "enrich",
            "stories' dates",
            facts._decoded,
            lambda w: facts._decoded(named_date(w).encode()),
        ),
        lru("enrich", "stories' days near a span", assign._nearest_day, nearest_day),
        lru("index", "Belarusian stems", lemmas.belarusian_stem, lemmas.belarusian_stem, "be"),
        lru("index", "Ukrainian lemmas", lemmas.ukrainian_lemma, lemmas.ukrainian_lemma, "uk"),
        lru("index", "name keys", names.name_key, lambda w: names.name_key(w, "uk"), "uk"),
        lru("search", "Ukrainian query forms", lemmas.ukrainian_query_forms, query_forms, "uk"),
    ]


def news_growth(found: list[Cache]) -> tuple[int, dict[str, int]]:
    """Each cache's new entries after enriching and indexing every benchmark article."""
    from bench.enrich_speed import parse_files
    from newsflow.local import local_stores
    from services.enrich.stage import enrich_with_stories
    from services.index.sqlite import SqliteIndex
    from shared.settings import load_settings

    settings = load_settings()
    articles = parse_files(sorted(NEWS.glob("*/*.txt")))
    before = {cache.name + cache.stage: cache.size() for cache in found}
    stores = local_stores()
    with SqliteIndex(":memory:") as index:
        for first in range(0, len(articles), 16):
            batch = enrich_with_stories(articles[first : first + 16], stores, settings)
            index.upsert_many([doc for doc, _ in batch])
    return len(articles), {
        cache.name + cache.stage: cache.size() - before[cache.name + cache.stage] for cache in found
    }


def news_words() -> dict[str, list[str]]:
    """Per language, the distinct words of the benchmark's articles in that language, shuffled
    (as their text has them, and in lower case, as the index folds them): real words, whose
    readings and keys are as long as a worker's."""
    rng = random.Random(0)
    pools: dict[str, list[str]] = {}
    for folder in sorted(path for path in NEWS.iterdir() if path.is_dir()):
        words: set[str] = set()
        for article in folder.glob("*.txt"):
            found = _WORD.findall(article.read_text(encoding="utf-8"))
            words.update(found)
            words.update(word.lower() for word in found)
        pools[folder.name] = sorted(words)
        rng.shuffle(pools[folder.name])
    return pools


def bytes_per_entry(cache: Cache, words: list[str], sample: int) -> float:
    """What one entry of ``cache`` holds: the bytes (tracemalloc) that ``sample`` words added
    to it, per entry they added. The words are looked up once before, and the cache emptied, so
    that what they add to the caches it calls (a surname's key calls the name key's) is not
    counted to it; each is a new copy, as each document's words are, so that what the cache
    keeps alive is counted."""
    chosen = words[: min(sample, cache.cap)]
    for word in chosen:
        cache.fill("".join(word))
    cache.clear()
    tracemalloc.start()
    start_entries, start_bytes = cache.size(), tracemalloc.get_traced_memory()[0]
    for word in chosen:
        cache.fill("".join(word))
    added = tracemalloc.get_traced_memory()[0] - start_bytes
    tracemalloc.stop()
    new = cache.size() - start_entries
    return added / new if new > 0 else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-news", action="store_true", help="only the caches at their caps")
    parser.add_argument(
        "--sample",
        type=int,
        default=2000,
        help="new words per cache whose cost is measured; the cap costs as many of them as fit",
    )
    args = parser.parse_args(argv)

    found = caches()
    growth: dict[str, int] = {}
    articles = 0
    if not args.skip_news:
        articles, growth = news_growth(found)
    pools = news_words()
    print("newsflow worker word caches  (shared/caches.py sets the caps)")
    if articles:
        print(f"news: {articles} benchmark articles enriched and indexed; new entries per article")
    print(
        f"{'stage':7} {'cache':28} {'cap':>7} {'per article':>11} {'bytes/entry':>11}"
        f" {'MB at cap':>9}"
    )
    totals: dict[str, float] = {}
    for cache in found:
        per_entry = bytes_per_entry(cache, pools[cache.language], args.sample)
        megabytes = per_entry * cache.cap / 1e6
        totals[cache.stage] = totals.get(cache.stage, 0.0) + megabytes
        new = growth.get(cache.name + cache.stage)
        per_article = f"{new / articles:11.1f}" if articles and new is not None else f"{'-':>11}"
        print(
            f"{cache.stage:7} {cache.name:28} {cache.cap:7d} {per_article} {per_entry:11.0f}"
            f" {megabytes:9.1f}"
        )
    for stage, megabytes in totals.items():
        print(f"{stage} child, all its caches at their caps: {megabytes:.1f} MB")
    print("(the name keys are one function, measured for each stage: each process has its own)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
