"""Search benchmark: indexing speed and query latency of the SQLite and PostgreSQL backends.

What it does, per backend, on N synthetic documents (``--docs``, default 100 000):

1. **Corpus.** Documents are made from the paragraphs of ``seeds/`` (Russian, German) and a few
   built-in English ones, recombined at random, with synthetic "topic" words inserted: a
   vocabulary of 20 000 made-up words per script, drawn Zipf-distributed (a few frequent, most
   rare, as words in news are), eight per body and one in the title. Language mix: 55 % ru,
   20 % de, 20 % en, 5 % be (indexed with the ``simple`` configuration). Entities (countries,
   cities, 300 organisations, 800 persons, Zipf-distributed), money mentions (40 % of documents,
   eight currencies), publication dates over six years (3 % undated) and near-duplicate clusters
   (15 % of documents copy an earlier one with a changed sentence) are set directly, as enrich
   would set them. The same seed gives the same corpus on both backends.
2. **Bulk fill docs/s**: ``upsert_many`` in batches of 1 000 (one transaction each; pipelined
   ``INSERT ... ON CONFLICT`` on PostgreSQL), the path a re-index uses.
3. **Single upsert docs/s**: ``upsert`` one document per transaction on a sample of new
   documents (the index worker's path), then the same sample again (a redelivery: writes
   nothing).
4. ``ANALYZE`` (PostgreSQL: ``VACUUM ANALYZE``, which also flushes the GIN pending lists), as
   autovacuum would after a bulk load.
5. **Latency p50/p95/max** over ``--queries`` searches per class, after a warm-up pass:

   - ``plain``: one or two topic words, drawn by the same Zipf law (skipping the 10 most common
     words, which act as stop words), default options (collapsed, 10 hits, total counted);
   - ``syntax``: ``word -word``, ``"two words"`` or ``word OR word``;
   - ``filtered``: a topic word plus language, a one-year date range and an entity or currency;
   - ``faceted``: the plain query with facets;
   - ``browse``: no words, language and an entity, newest first (a listing page).

   ``hits`` is the mean total per query class: how much each query had to rank and collapse.
6. **Plans**: on PostgreSQL ``EXPLAIN`` of one query per class and the indexes it uses
   (``documents_tsv`` for text, ``documents_entity_keys``, ``documents_currencies``, the
   ``published`` indexes for listings); on SQLite ``EXPLAIN QUERY PLAN``.

Usage: ``python bench/search.py [--docs N] [--backend sqlite|postgres|both]``; see ``--help``.
PostgreSQL runs in a schema of its own (dropped afterwards unless ``--keep``). Prints figures;
asserts nothing. The PostgreSQL target is p95 < 50 ms for plain, filtered and faceted queries.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate, islice
from pathlib import Path
from typing import Any

from services.index.backend import IndexBackend, SearchQuery
from services.index.postgres import PostgresIndex, parse_index_url
from services.index.sqlite import SqliteIndex
from shared.messages import EnrichedDocument, Entity, EntityType, MoneyMention

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
BATCH = 1000
VOCABULARY = 20_000
TOPIC_WORDS = 8
COMMON_SKIPPED = 10

ENGLISH = [
    "Belarus and Russia agreed to create a cluster of technology parks in their regions, "
    "officials said at the international industrial exhibition in Minsk on Monday.",
    "The first deputy chairwoman of the Minsk city executive committee said the parks would "
    "exchange technologies and bring their companies together on joint products.",
    "Trade between the two countries grew by eight percent in the first half of the year, "
    "driven by machinery, food and chemical exports, the ministry reported.",
    "Investors from China and Kazakhstan signed contracts worth several hundred million "
    "dollars for new production lines at the industrial park near the capital.",
    "The central bank kept its refinancing rate unchanged and said inflation was slowing as "
    "the national currency held steady against the dollar and the euro.",
    "Prime ministers of the two states discussed road maps for deeper integration, including "
    "energy prices, customs rules and a common market for oil and gas.",
    "Universities and research centres will take part in the programme, which aims to train "
    "engineers for the high-tech sector and keep graduates in the regions.",
    "Analysts warned that sanctions and logistics costs remain the main risks for exporters, "
    "while the services sector continued to expand faster than industry.",
]
SYLLABLES = {
    "ru": [
        "ка",
        "ро",
        "ми",
        "на",
        "то",
        "ле",
        "ст",
        "вер",
        "пол",
        "гра",
        "ди",
        "су",
        "бе",
        "ну",
        "ша",
        "жи",
        "кор",
        "тан",
        "вель",
        "мор",
        "дон",
        "сла",
        "ви",
        "ре",
    ],
    "la": [
        "ka",
        "ro",
        "mi",
        "na",
        "to",
        "le",
        "st",
        "ver",
        "pol",
        "gra",
        "di",
        "su",
        "be",
        "nu",
        "scha",
        "li",
        "kor",
        "tan",
        "vel",
        "mor",
        "don",
        "sla",
        "vi",
        "re",
    ],
}
CURRENCIES = ["BYN", "RUB", "USD", "EUR", "CNY", "KZT", "PLN", "UAH"]
COUNTRIES = [
    ("BY", {"ru": "Беларусь", "de": "Belarus", "en": "Belarus", "be": "Беларусь"}),
    ("RU", {"ru": "Россия", "de": "Russland", "en": "Russia", "be": "Расія"}),
    ("CN", {"ru": "Китай", "de": "China", "en": "China", "be": "Кітай"}),
    ("KZ", {"ru": "Казахстан", "de": "Kasachstan", "en": "Kazakhstan", "be": "Казахстан"}),
    ("DE", {"ru": "Германия", "de": "Deutschland", "en": "Germany", "be": "Германія"}),
    ("PL", {"ru": "Польша", "de": "Polen", "en": "Poland", "be": "Польшча"}),
    ("UA", {"ru": "Украина", "de": "Ukraine", "en": "Ukraine", "be": "Украіна"}),
    ("US", {"ru": "США", "de": "USA", "en": "United States", "be": "ЗША"}),
]
CITIES = [
    ("geonames:625144", {"ru": "Минск", "la": "Minsk"}),
    ("geonames:524901", {"ru": "Москва", "la": "Moscow"}),
    ("geonames:627907", {"ru": "Гомель", "la": "Gomel"}),
    ("geonames:629634", {"ru": "Брест", "la": "Brest"}),
    ("geonames:620127", {"ru": "Витебск", "la": "Vitebsk"}),
    ("geonames:625665", {"ru": "Могилев", "la": "Mogilev"}),
    ("geonames:627904", {"ru": "Гродно", "la": "Grodno"}),
    ("geonames:1526384", {"ru": "Алматы", "la": "Almaty"}),
]
LANGUAGES = [("ru", 55), ("de", 20), ("en", 20), ("be", 5)]


# --- corpus -------------------------------------------------------------------------------------


def _zipf_weights(size: int) -> list[float]:
    return list(accumulate(1.0 / rank for rank in range(1, size + 1)))


def _made_up_words(rng: random.Random, script: str, count: int) -> list[str]:
    words: dict[str, None] = {}
    while len(words) < count:
        word = "".join(rng.choice(SYLLABLES[script]) for _ in range(rng.randint(3, 5)))
        words.setdefault(word, None)
    return list(words)


def _seed_paragraphs() -> dict[str, list[str]]:
    paragraphs: dict[str, list[str]] = {"ru": [], "de": [], "en": list(ENGLISH)}
    for path in sorted(SEEDS.glob("*.txt")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        lines = [line for line in lines if line and not line.startswith("date ")]
        language = "de" if any(letter in "äöüß" for letter in "".join(lines)) else "ru"
        paragraphs[language].extend(line for line in lines[1:] if len(line) > 80)
    paragraphs["be"] = paragraphs["ru"]
    return paragraphs


@dataclass
class Corpus:
    """Everything the generator draws from, and the Zipf tables it draws with."""

    rng: random.Random
    paragraphs: dict[str, list[str]]
    vocabulary: dict[str, list[str]]
    vocabulary_weights: list[float]
    organisations: list[tuple[str, str]]
    persons: list[tuple[str, str]]
    org_weights: list[float]
    person_weights: list[float]
    common: dict[str, set[str]]

    @classmethod
    def build(cls, seed: int) -> Corpus:
        rng = random.Random(seed)
        ru_words = _made_up_words(rng, "ru", VOCABULARY)
        la_words = _made_up_words(rng, "la", VOCABULARY)
        organisations = [
            (f"org:{n}", f"Holding {word.title()}")
            for n, word in enumerate(_made_up_words(rng, "la", 300))
        ]
        persons = [
            (f"per:{n}", f"{first.title()} {last.title()}")
            for n, (first, last) in enumerate(
                zip(_made_up_words(rng, "la", 800), _made_up_words(rng, "la", 800), strict=True)
            )
        ]
        return cls(
            rng=rng,
            paragraphs=_seed_paragraphs(),
            vocabulary={"ru": ru_words, "be": ru_words, "de": la_words, "en": la_words},
            vocabulary_weights=_zipf_weights(VOCABULARY),
            organisations=organisations,
            persons=persons,
            org_weights=_zipf_weights(len(organisations)),
            person_weights=_zipf_weights(len(persons)),
            common={
                language: set(words[:COMMON_SKIPPED])
                for language, words in (
                    ("ru", ru_words),
                    ("be", ru_words),
                    ("de", la_words),
                    ("en", la_words),
                )
            },
        )

    def topic_words(self, language: str, count: int) -> list[str]:
        return self.rng.choices(
            self.vocabulary[language], cum_weights=self.vocabulary_weights, k=count
        )

    def query_word(self, language: str) -> str:
        # Queries follow the same popularity, minus the few words so common they act as stop
        # words (nobody searches for them alone).
        while True:
            (word,) = self.topic_words(language, 1)
            if word not in self.common[language]:
                return word

    def language(self) -> str:
        codes, weights = zip(*LANGUAGES, strict=True)
        return str(self.rng.choices(codes, weights=weights)[0])

    def entities(self, language: str) -> list[tuple[EntityType, str, str]]:
        script = "ru" if language in ("ru", "be") else "la"
        found: list[tuple[EntityType, str, str]] = []
        for _ in range(self.rng.randint(1, 6)):
            kind = self.rng.choices(["LOC", "CITY", "ORG", "PER"], weights=[3, 2, 2, 3])[0]
            if kind == "LOC":
                entity_id, names = COUNTRIES[min(int(self.rng.expovariate(0.6)), 7)]
                found.append(("LOC", entity_id, names[language]))
            elif kind == "CITY":
                entity_id, names = CITIES[min(int(self.rng.expovariate(0.5)), 7)]
                found.append(("LOC", entity_id, names[script]))
            elif kind == "ORG":
                entity_id, name = self.rng.choices(self.organisations, self.org_weights)[0]
                found.append(("ORG", entity_id, name))
            else:
                entity_id, name = self.rng.choices(self.persons, self.person_weights)[0]
                found.append(("PER", entity_id, name))
        return found


def _doc_id(number: int, seed: int) -> str:
    return hashlib.blake2b(f"{seed}:{number}".encode(), digest_size=8).hexdigest()


def _make_document(corpus: Corpus, number: int, seed: int) -> EnrichedDocument:
    rng = corpus.rng
    language = corpus.language()
    sources = corpus.paragraphs[language]
    paragraphs = [rng.choice(sources) for _ in range(rng.randint(1, 3))]
    words = corpus.topic_words(language, TOPIC_WORDS + 1)
    title_words = rng.choice(paragraphs).split()[: rng.randint(6, 12)]
    title = " ".join([*title_words, words[0]])
    body_words = paragraphs[0].split()
    for word in words[1:]:
        body_words.insert(rng.randrange(len(body_words) + 1), word)
    paragraphs[0] = " ".join(body_words)
    named = corpus.entities(language)
    money = [
        (rng.choice(CURRENCIES[:4] if rng.random() < 0.8 else CURRENCIES), rng.randint(1, 999))
        for _ in range(rng.randint(1, 3) if rng.random() < 0.4 else 0)
    ]
    mentions = [name for _, _, name in named] + [f"{amount} {code}" for code, amount in money]
    paragraphs.append(", ".join(mentions) + ".")
    text = "\n\n".join([title, *paragraphs])
    offset = len(text) - len(paragraphs[-1])
    entities, cursor = [], offset
    for kind, entity_id, name in named:
        entities.append(
            Entity(
                text=name,
                start=cursor,
                end=cursor + len(name),
                type=kind,
                normal=name,
                id=entity_id,
            )
        )
        cursor += len(name) + 2
    mentions_money = []
    for code, amount in money:
        surface = f"{amount} {code}"
        mentions_money.append(
            MoneyMention(
                text=surface,
                start=cursor,
                end=cursor + len(surface),
                amount=float(amount),
                currency=code,
            )
        )
        cursor += len(surface) + 2
    published = None if rng.random() < 0.03 else date(2020, 1, 1) + timedelta(rng.randrange(2130))
    doc_id = _doc_id(number, seed)
    return EnrichedDocument(
        receipt=f"bench-{number}",
        source="cli",
        filename=f"{number}.txt",
        received_at=datetime(2025, 10, 1, tzinfo=UTC),
        size=len(text.encode()),
        encoding="utf-8",
        id=doc_id,
        title=title,
        paragraphs=paragraphs,
        published=published,
        language=language,
        language_confidence=0.99,
        cluster_id=doc_id,
        entities=entities,
        money=mentions_money,
        enrichers={"language": "1.0", "entities": "1.0", "money": "1.0", "dedupe": "1.0"},
    )


def generate(seed: int, count: int, start: int = 0) -> Iterator[EnrichedDocument]:
    """``count`` documents; 15 % are near-duplicates of a recent one (same cluster)."""
    corpus = Corpus.build(seed)
    corpus.rng.seed(seed * 1_000_003 + start)
    recent: list[EnrichedDocument] = []
    for number in range(start, start + count):
        if recent and corpus.rng.random() < 0.15:
            original = corpus.rng.choice(recent)
            doc = original.model_copy(
                update={
                    "id": _doc_id(number, seed),
                    "receipt": f"bench-{number}",
                    "paragraphs": [
                        *original.paragraphs[:-1],
                        "Обновлено.",
                        original.paragraphs[-1],
                    ],
                    "near_duplicate_of": original.id,
                    "similarity": 0.9,
                    "published": original.published,
                }
            )
        else:
            doc = _make_document(corpus, number, seed)
            recent = [*recent[-199:], doc]
        yield doc


# --- queries ------------------------------------------------------------------------------------


def query_classes(seed: int, per_class: int) -> dict[str, list[SearchQuery]]:
    corpus = Corpus.build(seed)
    rng = random.Random(seed + 1)
    lang = corpus.language

    def word(language: str | None = None) -> str:
        return corpus.query_word(language or lang())

    def some_entity() -> str:
        return rng.choice(
            [c[0] for c in COUNTRIES[:4]]
            + [c[0] for c in CITIES[:4]]
            + [o[0] for o in corpus.organisations[:20]]
            + [p[0] for p in corpus.persons[:20]]
        )

    def two_years() -> tuple[date, date]:
        since = date(2020, 1, 1) + timedelta(rng.randrange(1400))
        return since, since + timedelta(730)

    def plain() -> SearchQuery:
        language = lang()
        if rng.random() < 0.6:
            return SearchQuery(q=word(language))
        return SearchQuery(q=f"{word(language)} {word(language)}")

    def syntax() -> SearchQuery:
        language = lang()
        a, b = word(language), word(language)
        return SearchQuery(q=rng.choice([f"{a} -{b}", f'"{a} {b}"', f"{a} OR {b}"]))

    def filtered() -> SearchQuery:
        language = lang()
        since, until = two_years()
        extra: dict[str, Any] = (
            {"entity": some_entity()}
            if rng.random() < 0.5
            else {"currency": rng.choice(CURRENCIES[:4])}
        )
        return SearchQuery(q=word(language), lang=language, since=since, until=until, **extra)

    def faceted() -> SearchQuery:
        return plain().model_copy(update={"facets": True})

    def browse() -> SearchQuery:
        return SearchQuery(lang=lang(), entity=some_entity())

    makers = {
        "plain": plain,
        "syntax": syntax,
        "filtered": filtered,
        "faceted": faceted,
        "browse": browse,
    }
    return {name: [make() for _ in range(per_class)] for name, make in makers.items()}


# --- running ------------------------------------------------------------------------------------


def _batches(docs: Iterator[EnrichedDocument], size: int) -> Iterator[list[EnrichedDocument]]:
    while batch := list(islice(docs, size)):
        yield batch


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


_PG_INDEX = re.compile(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan) (?:using|on) (\w+)")
_SQLITE_INDEX = re.compile(r"USING (?:COVERING )?INDEX (\w+)|SCAN (documents_fts) VIRTUAL")
_FULL_SCAN = re.compile(r"^(?:->\s*)?(?:Seq Scan on documents|SCAN (?:d|documents)$)")


def _plan_summary(lines: list[str]) -> str:
    """The indexes a plan uses, and whether it reads the whole documents table."""
    used: dict[str, None] = {}
    for line in lines:
        for match in (*_PG_INDEX.finditer(line), *_SQLITE_INDEX.finditer(line)):
            used.setdefault(next(group for group in match.groups() if group), None)
        if _FULL_SCAN.match(line.strip()):
            used.setdefault("FULL SCAN of documents", None)
    return ", ".join(used)


def run_backend(
    name: str, backend: IndexBackend, args: argparse.Namespace, analyze: Callable[[], None]
) -> None:
    print(f"\n== {name}: {args.docs} documents")
    started = time.perf_counter()
    new = 0
    for number, batch in enumerate(_batches(generate(args.seed, args.docs), BATCH), start=1):
        new += backend.upsert_many(batch)
        if number % 20 == 0:
            rate = number * BATCH / (time.perf_counter() - started)
            print(f"   ... {number * BATCH} documents, {rate:.0f} docs/s", file=sys.stderr)
    fill = time.perf_counter() - started
    print(
        f"bulk fill (upsert_many x{BATCH}): {args.docs / fill:8.0f} docs/s   {fill:7.1f} s"
        f"   ({new} new)"
    )

    sample = list(generate(args.seed + 7, args.sample, start=10_000_000))
    started = time.perf_counter()
    new = sum(backend.upsert(doc) for doc in sample)
    single = time.perf_counter() - started
    started = time.perf_counter()
    again = sum(backend.upsert(doc) for doc in sample)
    redelivery = time.perf_counter() - started
    print(f"single upsert:                {len(sample) / single:8.0f} docs/s   ({new} new)")
    print(f"redelivered upsert:           {len(sample) / redelivery:8.0f} docs/s   ({again} new)")

    started = time.perf_counter()
    analyze()
    print(f"analyze:                      {time.perf_counter() - started:8.1f} s")
    print(f"documents in the index:       {backend.count():8d}")

    classes = query_classes(args.seed, args.queries)
    for queries in classes.values():  # warm-up: caches, prepared statements, stemmers
        for query in queries[: max(5, len(queries) // 10)]:
            backend.search(query)
    print(f"{'query':<10}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'hits':>9}  plan")
    for label, queries in classes.items():
        timings, totals = [], []
        for query in queries:
            started = time.perf_counter()
            result = backend.search(query)
            timings.append((time.perf_counter() - started) * 1000)
            totals.append(result.total)
        plan = _plan_summary(backend.explain(queries[0]))
        print(
            f"{label:<10}{_percentile(timings, 0.5):9.1f}{_percentile(timings, 0.95):9.1f}"
            f"{max(timings):9.1f}{statistics.mean(totals):9.0f}  {plan}"
        )
    if args.explain:
        for label, queries in classes.items():
            print(f"\n-- {label}: {queries[0].model_dump(exclude_defaults=True)}")
            print("\n".join(backend.explain(queries[0], analyze=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--docs", type=int, default=100_000, help="documents to index")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="server and database; a fresh schema is made inside it",
    )
    parser.add_argument("--queries", type=int, default=200, help="searches per query class")
    parser.add_argument("--sample", type=int, default=1000, help="single upserts to time")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE plans")
    parser.add_argument("--keep", action="store_true", help="keep the index afterwards")
    args = parser.parse_args()
    print(
        f"newsflow search bench: {args.docs} docs, {args.queries} queries per class, "
        f"seed {args.seed}"
    )
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="newsflow-bench-") as folder:
            path = Path(folder) / "index.db"
            with SqliteIndex(path) as index:

                def analyze() -> None:
                    # On the index's own connection, as an operator would after a bulk load.
                    index._conn.execute("ANALYZE")

                run_backend(f"sqlite ({path})", index, args, analyze)
            print(f"file size: {path.stat().st_size / 2**20:.0f} MiB")
            if args.keep:
                kept = Path(f"bench-search-{args.seed}.db")
                path.rename(kept)
                print(f"kept as {kept}")
    if args.backend in ("postgres", "both"):
        conninfo, _ = parse_index_url(args.postgres_url)
        schema = f"newsflow_bench_{secrets.token_hex(3)}"
        url = f"{args.postgres_url}{'&' if '?' in args.postgres_url else '?'}schema={schema}"
        try:
            with PostgresIndex(url) as shared_index:
                run_backend(
                    f"postgres (schema {schema})",
                    shared_index,
                    args,
                    lambda: _vacuum_analyze(conninfo, schema),
                )
                _report_size(conninfo, schema)
        finally:
            if not args.keep:
                _drop(conninfo, schema)


def _vacuum_analyze(conninfo: str, schema: str) -> None:
    """What autovacuum does after a bulk load: statistics, and the GIN pending lists merged."""
    import psycopg  # noqa: PLC0415  # only when PostgreSQL is benchmarked
    from psycopg import sql  # noqa: PLC0415

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("VACUUM ANALYZE {}.documents").format(sql.Identifier(schema)))


def _report_size(conninfo: str, schema: str) -> None:
    import psycopg  # noqa: PLC0415  # only when PostgreSQL is benchmarked

    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT pg_total_relation_size(%s), pg_relation_size(%s)",
            (f"{schema}.documents", f"{schema}.documents_tsv"),
        ).fetchone()
    if row:
        print(f"table size: {row[0] / 2**20:.0f} MiB (GIN on tsv {row[1] / 2**20:.0f} MiB)")


def _drop(conninfo: str, schema: str) -> None:
    import psycopg  # noqa: PLC0415  # only when PostgreSQL is benchmarked
    from psycopg import sql  # noqa: PLC0415

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


if __name__ == "__main__":
    main()
