"""Does Natasha's Russian NER help as a candidate source on Belarusian and Ukrainian news?

Belarusian and Ukrainian get the gazetteer, the organisation patterns and the person rules;
Natasha's NER is a Russian model. This measures, on the labelled real news
(``bench/data/news/``), what adding its spans does there: newsflow with rules only, then plus
every NER span that overlaps none of newsflow's own entities (all types, and each type alone),
and newsflow as shipped (NER candidates in the languages of
``extract.NER_CANDIDATE_LANGUAGES``), scored like ``bench/accuracy.py news`` (overlapping span,
same type).

    python bench/ner_candidates.py

A language gets NER candidates only where they raise F1 on the dev half.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # when run as a script

from bench.news_accuracy import run_newsflow  # noqa: E402  # after the path is set
from bench.news_gold import (  # noqa: E402
    SPLITS,
    Article,
    Span,
    combine_entities,
    load_articles,
    score_entities,
)
from services.enrich.entities import extract, load_models  # noqa: E402

LANGUAGES = ("be", "uk")
VARIANTS = (
    ("rules only", frozenset()),
    ("+ NER, all types", frozenset({"PER", "ORG", "LOC"})),
    ("+ NER, PER only", frozenset({"PER"})),
    ("+ NER, ORG only", frozenset({"ORG"})),
    ("+ NER, LOC only", frozenset({"LOC"})),
)


def with_candidates(
    own: Sequence[Span], ner: Sequence[Span], types: frozenset[str]
) -> tuple[Span, ...]:
    """newsflow's entities plus the NER spans of ``types`` that overlap none of them."""
    extra = [
        s for s in ner
        if s.type in types and not any(o.start < s.end and s.start < o.end for o in own)
    ]  # fmt: skip
    return (*own, *extra)


def main() -> int:
    articles: list[Article] = [a for a in load_articles() if a.lang in LANGUAGES]
    shipped = run_newsflow(articles)
    # newsflow without any NER outside Russian: the base the candidates are added to.
    candidate_languages = extract.NER_CANDIDATE_LANGUAGES
    extract.NER_CANDIDATE_LANGUAGES = frozenset()
    try:
        predictions = run_newsflow(articles)
    finally:
        extract.NER_CANDIDATE_LANGUAGES = candidate_languages
    russian = load_models().russian
    ner = [
        tuple(Span(s.start, s.end, s.type, "") for s in spans)
        for _, spans in russian.spans([a.text for a in articles])
    ]
    print("entities, all types, on Belarusian and Ukrainian news (overlapping span, same type)")
    print(f"{'lang':4} {'split':5} {'variant':18} {'P':>5} {'R':>5} {'F1':>5}")
    for lang in (*LANGUAGES, "be+uk"):
        for split in SPLITS:
            chosen = [
                i for i, a in enumerate(articles)
                if a.split == split and lang in ("be+uk", a.lang)
            ]  # fmt: skip
            for name, types in VARIANTS:
                total = combine_entities(
                    score_entities(
                        with_candidates(predictions[i].entities, ner[i], types),
                        articles[i].entities,
                    )
                    for i in chosen
                ).all
                print(
                    f"{lang:4} {split:5} {name:18} {total.precision:5.2f} {total.recall:5.2f}"
                    f" {total.f1:5.2f}"
                )
            total = combine_entities(
                score_entities(shipped[i].entities, articles[i].entities) for i in chosen
            ).all
            label = "as shipped (" + ",".join(sorted(candidate_languages)) + ")"
            print(
                f"{lang:4} {split:5} {label:18} {total.precision:5.2f} {total.recall:5.2f}"
                f" {total.f1:5.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
