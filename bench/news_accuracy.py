"""newsflow and the anchor stack on the labelled real-news benchmark (``bench/data/news/``).

Both read the same articles in the same run:

- **newsflow**: each article file goes through ingest (``ingest_raw``) and enrich
  (``enrich_document``) exactly as ``newsflow enrich`` runs them, with the article's labelled
  date as the document's published date, as precise as the label (a day, or only a month or
  year, as a header line would give it; the sources carry no header rate, so none is given).
  Its offsets are into the parsed document's text; they are mapped back onto the article file
  by aligning the two texts, and a mention that falls in text the parser added (a headline cut
  from a long first line, for instance) is left out.
- **anchor**: what a newcomer would reach for: lingua restricted to the configured languages
  over the whole article, Natasha's ``NewsNERTagger`` and ``MoneyExtractor`` on every article
  whatever its language (they are Russian models; that is the point of comparing).

``report()`` prints, per language and for the dev and test halves separately: language
identification accuracy, money precision/recall/F1 (distinct (currency, amount) per document,
and every mention), the rates quoted in the text (distinct (base, quote, value) per document; the
anchor reads none), and entities by type. Scoring is ``bench/news_gold.py``. ``--misses`` lists
what newsflow got wrong on the dev half (never the test half: it is only scored).
"""

from __future__ import annotations

import argparse
import difflib
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from lingua import IsoCode639_1, LanguageDetectorBuilder
from natasha import Doc, MoneyExtractor, MorphVocab, NewsEmbedding, NewsNERTagger, Segmenter

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # when run as a script

from bench.entities_gold import Score, combine  # noqa: E402  # after the path is set
from bench.news_gold import (  # noqa: E402
    ENTITY_TYPES,
    LABELS,
    LANGUAGES,
    SPLITS,
    Article,
    EntityScore,
    Money,
    Span,
    combine_entities,
    load_articles,
    rate_key,
    score_entities,
    score_money_distinct,
    score_money_mentions,
    score_rates_distinct,
)
from newsflow.local import local_stores  # noqa: E402
from services.enrich.stage import EnrichStores, enrich_document  # noqa: E402
from services.ingest.intake import raw_file_message  # noqa: E402
from services.ingest.stage import ingest_raw  # noqa: E402
from shared.messages import DatePrecision, EnrichedDocument  # noqa: E402
from shared.settings import Settings  # noqa: E402


@dataclass(frozen=True)
class Prediction:
    language: str
    money: tuple[Money, ...]
    entities: tuple[Span, ...]
    # (base, quote, value): the rates quoted in the text (the header's is not: there is none).
    rates: tuple[tuple[str | None, str, float], ...] = ()


def published_date(value: str) -> date | None:
    """A labelled date (``2011-05-23``, ``2011-05`` or ``2011``) as the first day it may be;
    ``published_precision`` says how much of it is known."""
    parts = [int(p) for p in value.split("-")] if value else []
    if not parts:
        return None
    return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def published_precision(value: str) -> DatePrecision:
    """How precise a labelled date is: ``2011-05-23`` a day, ``2011-05`` a month, ``2011`` a year
    (what a header line ``date 2011-05 ...`` would tell newsflow)."""
    precisions: dict[int, DatePrecision] = {1: "year", 2: "month"}
    return precisions.get(len(value.split("-")), "day")


def offset_map(source: str, target: str) -> Callable[[int, int], tuple[int, int] | None]:
    """Maps a span of ``source`` onto ``target`` through the characters the two share; None for
    a span that lies in text ``target`` does not have."""
    matcher = difflib.SequenceMatcher(None, source, target, autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size]

    def at(position: int, *, end: bool) -> int | None:
        for block in blocks:
            if block.a <= position < block.a + block.size or (
                end and position == block.a + block.size
            ):
                return block.b + position - block.a
        return None

    def span(start: int, stop: int) -> tuple[int, int] | None:
        mapped_start, mapped_end = at(start, end=False), at(stop, end=True)
        if mapped_start is None or mapped_end is None or mapped_end <= mapped_start:
            return None
        # Both ends in one stretch of the target, so a span never straddles a skipped part.
        if mapped_end - mapped_start > (stop - start) * 2 + 8:
            return None
        return mapped_start, mapped_end

    return span


def enrich_article(
    article: Article,
    stores: EnrichStores,
    settings: Settings,
    received_at: datetime | None = None,
) -> EnrichedDocument:
    """One article through ingest and enrich as ``newsflow enrich`` runs them, with its labelled
    date (as precise as the label) as the published date, and ``received_at`` when given."""
    data = article.text.encode("utf-8")
    raw = raw_file_message(
        data, len(data), filename=Path(article.file).name, source="local", origin_path=None
    )
    parsed = ingest_raw(raw, data, settings)
    update: dict[str, object] = {
        "published": published_date(article.published),
        "published_precision": published_precision(article.published),
    }
    if received_at is not None:
        update["received_at"] = received_at
    return enrich_document(parsed.model_copy(update=update), stores, settings)


def run_newsflow(articles: Sequence[Article]) -> list[Prediction]:
    settings = Settings()
    predictions = []
    for article in articles:
        enriched = enrich_article(article, local_stores(), settings)
        to_file = offset_map(enriched.text, article.text)
        money = []
        for mention in enriched.money:
            span = to_file(mention.start, mention.end)
            if span:
                money.append(Money(span[0], span[1], mention.amount, mention.currency))
        entities = []
        for entity in enriched.entities:
            span = to_file(entity.start, entity.end)
            if span:
                entities.append(Span(span[0], span[1], entity.type, entity.id))
        rates = tuple((r.base, r.quote, r.value) for r in enriched.rates if r.start is not None)
        predictions.append(Prediction(enriched.language, tuple(money), tuple(entities), rates))
    return predictions


# Natasha's fact currencies are already ISO codes (RUB, USD, EUR).
NATASHA_TYPES = {"PER": "PER", "ORG": "ORG", "LOC": "LOC"}


def run_anchor(articles: Sequence[Article]) -> list[Prediction]:
    codes = [getattr(IsoCode639_1, code.upper()) for code in Settings().languages]
    detector = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()
    segmenter = Segmenter()
    ner = NewsNERTagger(NewsEmbedding())
    money_extractor = MoneyExtractor(MorphVocab())
    predictions = []
    for article in articles:
        detected = detector.detect_language_of(article.text)
        language = detected.iso_code_639_1.name.lower() if detected else "und"
        doc = Doc(article.text)
        doc.segment(segmenter)
        doc.tag_ner(ner)
        entities = tuple(
            Span(s.start, s.stop, NATASHA_TYPES[s.type])
            for s in doc.spans
            if s.type in NATASHA_TYPES
        )
        money = tuple(
            Money(m.start, m.stop, float(m.fact.amount), m.fact.currency)
            for m in money_extractor(article.text)
        )
        predictions.append(Prediction(language, money, entities))
    return predictions


# -- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One system's figures over one group of articles."""

    articles: int
    language_right: int
    money_distinct: Score
    money_mentions: Score
    rates: Score
    entities: EntityScore


def cell(articles: Sequence[Article], predictions: Sequence[Prediction]) -> Cell:
    return Cell(
        articles=len(articles),
        language_right=sum(
            p.language == a.lang for a, p in zip(articles, predictions, strict=True)
        ),
        money_distinct=combine(
            score_money_distinct(p.money, a.money)
            for a, p in zip(articles, predictions, strict=True)
        ),
        money_mentions=combine(
            score_money_mentions(p.money, a.money)
            for a, p in zip(articles, predictions, strict=True)
        ),
        rates=combine(
            score_rates_distinct(p.rates, a.rates)
            for a, p in zip(articles, predictions, strict=True)
        ),
        entities=combine_entities(
            score_entities(p.entities, a.entities)
            for a, p in zip(articles, predictions, strict=True)
        ),
    )


def groups(articles: Sequence[Article]) -> list[tuple[str, str, list[int]]]:
    """(language, split, article indexes): each language's halves, then all languages'."""
    rows = []
    for lang in (*LANGUAGES, "all"):
        for split in SPLITS:
            indexes = [
                i for i, a in enumerate(articles)
                if lang in ("all", a.lang) and a.split == split
            ]  # fmt: skip
            if indexes:
                rows.append((lang, split, indexes))
    return rows


def _prf(score: Score) -> str:
    """P / R / F1; a precision over no predictions at all is shown as «-», not as 1.00."""
    precision = f"{score.precision:>6.2f}" if score.predicted else f"{'-':>6}"
    return f"{precision}{score.recall:>6.2f}{score.f1:>6.2f}"


def _entity_type(kind: str) -> Callable[[Cell], Score]:
    return lambda c: c.entities.by_type[kind]


METRICS: tuple[tuple[str, Callable[[Cell], Score]], ...] = (
    ("money, distinct (currency, amount) per document", lambda c: c.money_distinct),
    (
        "money, every mention (overlapping span, same currency and amount)",
        lambda c: c.money_mentions,
    ),
    ("rates, distinct (base, quote, value) per document", lambda c: c.rates),
    ("entities, all types (overlapping span, same type)", lambda c: c.entities.all),
    *((f"entities, {kind}", _entity_type(kind)) for kind in ENTITY_TYPES),
)


def print_tables(
    articles: Sequence[Article], systems: dict[str, Sequence[Prediction]]
) -> dict[tuple[str, str, str], Cell]:
    cells = {}
    for lang, split, indexes in groups(articles):
        chosen = [articles[i] for i in indexes]
        for name, predictions in systems.items():
            cells[(lang, split, name)] = cell(chosen, [predictions[i] for i in indexes])
    names = list(systems)
    rows = [(lang, split) for lang, split, _ in groups(articles)]

    print("\nlanguage identification, share of articles labelled right")
    print(f"{'lang':<5}{'split':<6}{'n':>4}" + "".join(f"{n:>10}" for n in names))
    for lang, split in rows:
        first = cells[(lang, split, names[0])]
        print(
            f"{lang:<5}{split:<6}{first.articles:>4}"
            + "".join(
                f"{cells[(lang, split, n)].language_right / first.articles:>10.1%}" for n in names
            )
        )
    for title, metric in METRICS:
        print(f"\n{title}")
        print(
            f"{'lang':<5}{'split':<6}{'n':>4}{'gold':>6}"
            + "".join(f"  {n + ' P / R / F1':>19}" for n in names)
        )
        for lang, split in rows:
            first = cells[(lang, split, names[0])]
            print(
                f"{lang:<5}{split:<6}{first.articles:>4}{metric(first).gold:>6}"
                + "".join(f"  {_prf(metric(cells[(lang, split, n)])):>19}" for n in names)
            )
    print("\nentity ids: share of matched gold entities with an id that newsflow gives the same id")
    for lang, split in rows:
        scored = cells[(lang, split, "newsflow")].entities
        share = scored.id_agreed / scored.id_matched if scored.id_matched else 0.0
        print(f"{lang:<5}{split:<6}{share:>7.1%} of {scored.id_matched}")
    return cells


ORG, PER, LOC = "ORG", "PER", "LOC"


def _prf3(score: Score) -> str:
    return f"{score.precision:.2f} {score.recall:.2f} {score.f1:.2f}"


def markdown_table(cells: dict[tuple[str, str, str], Cell], rows: Iterable[tuple[str, str]]) -> str:
    """The README's table: newsflow / anchor for each figure, one row per language and half."""
    lines = [
        "| lang | half | n | language | money, distinct F1 | money, mentions F1 "
        "| entities P / R / F1 | ORG R | PER F1 | LOC F1 |",
        "| --- | --- | ---: | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for lang, split in rows:
        both = (cells[(lang, split, "newsflow")], cells[(lang, split, "anchor")])

        def pair(figure: Callable[[Cell], str], cells_: tuple[Cell, Cell] = both) -> str:
            return " / ".join(figure(c) for c in cells_)

        lines.append(
            f"| {lang} | {split} | {both[0].articles} "
            f"| {pair(lambda c: f'{c.language_right / c.articles:.0%}')} "
            f"| {pair(lambda c: f'{c.money_distinct.f1:.2f}')} "
            f"| {pair(lambda c: f'{c.money_mentions.f1:.2f}')} "
            f"| {pair(lambda c: _prf3(c.entities.all))} "
            f"| {pair(lambda c: f'{c.entities.by_type[ORG].recall:.2f}')} "
            f"| {pair(lambda c: f'{c.entities.by_type[PER].f1:.2f}')} "
            f"| {pair(lambda c: f'{c.entities.by_type[LOC].f1:.2f}')} |"
        )
    return "\n".join(lines)


def print_misses(articles: Sequence[Article], predictions: Sequence[Prediction]) -> None:
    """What newsflow got wrong on the dev half: the figures' examples, never the test half's."""
    print("\nnewsflow's errors on the dev half")
    for article, predicted in zip(articles, predictions, strict=True):
        if article.split != "dev":
            continue
        text = article.text
        lines: list[str] = []
        if predicted.language != article.lang:
            lines.append(f"  language {predicted.language} (gold {article.lang})")
        got = {(m.currency, round(m.amount, 6)) for m in predicted.money}
        wanted = {(m.currency, round(m.amount, 6)) for m in article.money}
        for m in article.money:
            if (m.currency, round(m.amount, 6)) not in got:
                lines.append(
                    f"  money missed {text[m.start : m.end]!r} = {m.amount:g} {m.currency}"
                )
        for m in predicted.money:
            if (m.currency, round(m.amount, 6)) not in wanted:
                lines.append(
                    f"  money wrong  {text[m.start : m.end]!r} -> {m.amount:g} {m.currency}"
                )
        lines.extend(_rate_misses(predicted.rates, article.rates))
        lines.extend(_entity_misses(text, predicted.entities, article.entities))
        if lines:
            print(f"{article.file}")
            print("\n".join(dict.fromkeys(lines)))


def _rate_misses(
    predicted: Iterable[tuple[str | None, str, float]], gold: Iterable[dict[str, Any]]
) -> list[str]:
    got = {(base, quote, rate_key(value)) for base, quote, value in predicted}
    lines = []
    wanted = set()
    for rate in gold:
        key = (rate["base"], rate["quote"], rate_key(rate["value"]))
        wanted.add(key)
        if key not in got:
            lines.append(f"  rate missed {rate['text']!r} = {key[0]}/{key[1]} {key[2]:g}")
    lines.extend(f"  rate wrong  {b}/{q} {v:g}" for b, q, v in sorted(got - wanted, key=str))
    return lines


def _entity_misses(text: str, predicted: Iterable[Span], gold: Iterable[Span]) -> list[str]:
    predicted, gold = list(predicted), list(gold)
    lines = []
    for g in gold:
        if not any(p.type == g.type and p.start < g.end and g.start < p.end for p in predicted):
            lines.append(f"  {g.type} missed {text[g.start : g.end]!r}")
    for p in predicted:
        if not any(p.type == g.type and p.start < g.end and g.start < p.end for g in gold):
            lines.append(f"  {p.type} wrong  {text[p.start : p.end]!r}")
    return lines


def report(
    show_misses: bool = False, labels: Path = LABELS, *, markdown: bool = False
) -> dict[Any, Cell]:
    articles = load_articles(labels)
    counts = {lang: sum(a.lang == lang for a in articles) for lang in LANGUAGES}
    print(
        f"== news ({labels.parent.relative_to(ROOT)}: {len(articles)} hand-labelled articles, "
        + ", ".join(f"{lang} {n}" for lang, n in counts.items())
        + "; dev = odd-numbered files, test = even)"
    )
    started = time.perf_counter()
    newsflow = run_newsflow(articles)
    middle = time.perf_counter()
    anchor = run_anchor(articles)
    ended = time.perf_counter()
    print(
        f"newsflow {middle - started:.1f} s, anchor (lingua + Natasha NER + MoneyExtractor) "
        f"{ended - middle:.1f} s, models loading included"
    )
    cells = print_tables(articles, {"newsflow": newsflow, "anchor": anchor})
    if markdown:
        print("\n" + markdown_table(cells, [(lang, split) for lang, split, _ in groups(articles)]))
    if show_misses:
        print_misses(articles, newsflow)
    return cells


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list newsflow's dev-half errors")
    parser.add_argument("--markdown", action="store_true", help="also print the README's table")
    args = parser.parse_args()
    report(show_misses=args.misses, markdown=args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
