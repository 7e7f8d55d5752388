"""Belarusian and Ukrainian word forms in search: how often they find each other, how often
they find a wrong word, and what it costs. Prints figures; judges nothing.

For each language, lexemes (a word with all its forms) are the gold:

- Ukrainian: ``--lexemes`` lexemes of nouns, adjectives and verbs from pymorphy3-dicts-uk, drawn
  with a fixed seed (the first dictionary word under random two-letter prefixes). The same
  dictionary drives the lemmatizer, so this measures how the index uses it (one stored lemma per
  word, a query word widened to every lemma its lexemes' forms are stored under), not the
  dictionary's coverage.
- Belarusian: ``bench/data/be_paradigms.toml``, written by hand from the declension and
  conjugation tables (no package ships Belarusian morphology), with stem alternations a suffix
  stemmer cannot join on purpose.

Figures, for today's index and for the index before Belarusian and Ukrainian were stemmed (a
document's words stored as they are, a Cyrillic query word as itself and its Russian stem):

- ``pair recall``: of all ordered pairs (query form, document form) of one lexeme, the share
  where the query finds the document (the document's stored stem is one of the query word's
  variants), averaged over lexemes;
- ``wrong matches``: of pairs of forms of two different lexemes (all pairs, or 20 000 drawn at
  random), the share where the query finds the document: what stemming adds in false hits;
- ``stems per lexeme``: distinct stored stems of one lexeme's forms (1 is ideal);
- cost: microseconds per word to stem a document's words (cold: first sight of each word; warm:
  words seen before, as in a stream of news), and the memory pymorphy3's Ukrainian dictionary
  takes (RSS growth on first use).

On the real news of ``bench/data/news/`` (``--news``, the default part too), with the
hand-labelled entities standing in for enrich's (each mention's text as its normal form too, so
only the index is measured, never the enricher):

- ``word forms``: every pair of two Belarusian (or Ukrainian) articles that name one entity in
  two different one-word forms of one word («Беларусі» / «Беларусь», «Нацбанка» / «Нацбанку»;
  forms sharing their first four letters, so spelling variants such as «Мінск» / «Менск» are
  not counted): does a full-text search for the one form, in that language, find the other
  article?
- ``entity names``: for every labelled name of an entity that has an id, ``--entity NAME``
  (no type) in an index of the articles of the four other languages (so the name as written is
  mostly not there): recall over the articles labelled with that id, and the share of hits that
  are such articles (precision, over the names that found anything); per language of the name.

Run ``python bench/stemming.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import resource
import statistics
import time
import tomllib
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from services.index import fields, lemmas
from services.index.backend import SearchQuery
from services.index.sqlite import SqliteIndex
from services.index.stemming import query_variants, stem_word, tokenize
from shared.messages import EnrichedDocument, Entity

BE_PARADIGMS = Path(__file__).resolve().parent / "data" / "be_paradigms.toml"
NEWS = Path(__file__).resolve().parent / "data" / "news"
NEWS_LANGUAGES = ("ru", "be", "uk", "de", "en")
_UK_LETTERS = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"
_UK_POS = {"NOUN", "ADJF", "VERB", "INFN"}
_MAX_CROSS_PAIRS = 20_000
_SAME_WORD_PREFIX = 4

Lexeme = list[str]


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ukrainian_lexemes(count: int, seed: int) -> list[Lexeme]:
    """``count`` lexemes of content words from pymorphy3's Ukrainian dictionary."""
    analyzer = lemmas._ukrainian()  # the very analyzer the index uses
    rng = random.Random(seed)
    prefixes = ["".join(pair) for pair in itertools.product(_UK_LETTERS, repeat=2)]
    rng.shuffle(prefixes)
    found: dict[str, Lexeme] = {}
    for prefix in prefixes:
        if len(found) >= count:
            break
        for word, tag, normal, _, _ in analyzer.dictionary.iter_known_words(prefix):
            if tag.POS not in _UK_POS or normal in found:
                continue
            parse = next(p for p in analyzer.parse(word) if p.normal_form == normal)
            forms = sorted({str(form.word) for form in parse.lexeme})
            if len(forms) > 1:
                found[normal] = forms
            break
    return list(found.values())


def belarusian_lexemes() -> list[Lexeme]:
    data = tomllib.loads(BE_PARADIGMS.read_text("utf-8"))
    return [
        [tokenize(form)[0] for form in forms] for group in data.values() for forms in group.values()
    ]


def _old_variants(word: str) -> set[str]:
    # Before: Belarusian and Ukrainian documents stored words as they are; a Cyrillic query word
    # was itself and its Russian stem.
    return {word, stem_word(word, "russian")}


def measure(
    lexemes: list[Lexeme],
    stored: Callable[[str], str],
    variants: Callable[[str], set[str]],
    rng: random.Random,
) -> tuple[float, float, float]:
    """(pair recall, wrong-match rate, stems per lexeme)."""
    recalls = []
    for forms in lexemes:
        pairs = [(a, b) for a in forms for b in forms if a != b]
        hits = sum(stored(b) in variants(a) for a, b in pairs)
        recalls.append(hits / len(pairs) if pairs else 1.0)
    cross = [
        (a, b)
        for i, first in enumerate(lexemes)
        for j, second in enumerate(lexemes)
        if i != j
        for a in first
        for b in second
        if a != b
    ]
    if len(cross) > _MAX_CROSS_PAIRS:
        cross = rng.sample(cross, _MAX_CROSS_PAIRS)
    wrong = sum(stored(b) in variants(a) for a, b in cross) / len(cross)
    stems = statistics.mean(len({stored(form) for form in forms}) for forms in lexemes)
    return statistics.mean(recalls), wrong, stems


def cost_us(
    words: list[str], stem: Callable[[str], str], clear: Callable[[], None]
) -> tuple[float, float]:
    """Microseconds per word, cold (caches cleared) and warm (every word seen before)."""
    clear()
    started = time.perf_counter()
    for word in words:
        stem(word)
    cold = (time.perf_counter() - started) / len(words) * 1e6
    started = time.perf_counter()
    for word in words:
        stem(word)
    warm = (time.perf_counter() - started) / len(words) * 1e6
    return cold, warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lexemes", type=int, default=300, help="Ukrainian lexemes to draw")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    before = _rss_mib()
    lemmas.ukrainian_lemma("київ")
    dictionary_mib = _rss_mib() - before
    uk = ukrainian_lexemes(args.lexemes, args.seed)
    be = belarusian_lexemes()

    print(f"{'language':<10}{'lexemes':>8}{'forms':>7}  {'index':<8}{'pair recall':>12}"
          f"{'wrong matches':>15}{'stems/lexeme':>14}")  # fmt: skip
    for code, algorithm, lexemes in (("uk", "ukrainian", uk), ("be", "belarusian", be)):
        forms = sum(len(forms) for forms in lexemes)
        for label, stored, variants in (
            ("before", lambda w: w, _old_variants),
            ("now", lambda w, a=algorithm: stem_word(w, a), query_variants),
        ):
            recall, wrong, stems = measure(lexemes, stored, variants, rng)
            print(f"{code:<10}{len(lexemes):>8}{forms:>7}  {label:<8}{recall:>12.1%}"
                  f"{wrong:>15.3%}{stems:>14.2f}")  # fmt: skip

    print()
    words = [form for forms in uk for form in forms]
    cold, warm = cost_us(words, lemmas.ukrainian_lemma, lemmas.ukrainian_lemma.cache_clear)
    print(
        f"uk stem a document word: {cold:.1f} us cold, {warm:.2f} us warm;"
        f" query word widened: {_query_cost(words):.0f} us cold;"
        f" dictionary in memory: {dictionary_mib:.0f} MiB RSS"
    )
    words = [form for forms in be for form in forms] * 50
    cold, warm = cost_us(words, lemmas.belarusian_stem, lemmas.belarusian_stem.cache_clear)
    print(f"be stem a document word: {cold:.2f} us cold, {warm:.2f} us warm")

    print(f"\nreal news, {NEWS}:")
    docs = news_documents()
    with SqliteIndex(":memory:") as index:
        index.upsert_many(docs)
        news_word_forms(index, docs)
    news_entity_names(docs)


def news_documents() -> list[EnrichedDocument]:
    """The labelled articles as the index would get them, entities from the labels."""
    docs = []
    for line in (NEWS / "labels.jsonl").read_text("utf-8").splitlines():
        label = json.loads(line)
        text = (NEWS / label["file"]).read_text("utf-8")
        title, _, body = text.strip().partition("\n")
        paragraphs = [p.strip() for p in body.split("\n\n") if p.strip()] or [title]
        docs.append(
            EnrichedDocument(
                receipt=label["file"], source="cli", filename=label["file"],
                received_at=datetime(2026, 1, 1, tzinfo=UTC), size=len(text), encoding="utf-8",
                id=label["file"], title=title, paragraphs=paragraphs, language=label["lang"],
                language_confidence=1.0,
                entities=[
                    Entity(text=e["text"], start=e["start"], end=e["end"], type=e["type"],
                           normal=e["text"], id=e["id"] or f"unlinked:{e['text']}")
                    for e in label["entities"]
                ],
            )
        )  # fmt: skip
    return docs


def news_word_forms(index: SqliteIndex, docs: list[EnrichedDocument]) -> None:
    """Full text: one-word forms of one entity in two articles of one language."""
    print(f"{'language':<10}{'pairs':>7}{'before':>9}{'now':>9}   (word forms of one entity)")
    for language in ("be", "uk"):
        forms: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        words: dict[str, set[str]] = {}
        for doc in docs:
            if doc.language != language:
                continue
            words[doc.id] = set(tokenize(doc.title + " " + doc.body))
            for entity in doc.entities:
                if entity.id.startswith("unlinked:") or len(tokenize(entity.text)) != 1:
                    continue
                forms[entity.id][tokenize(entity.text)[0]].add(doc.id)
        # Forms of one word share their first letters; names spelt otherwise (Мінск / Менск /
        # Minsk) are variants no stemmer is meant to join, and are left out.
        pairs = [
            (a, other)
            for by_form in forms.values()
            for a, b in itertools.permutations(by_form, 2)
            if a[:_SAME_WORD_PREFIX] == b[:_SAME_WORD_PREFIX]
            for other in by_form[b] - by_form[a]
        ]
        before = sum(bool(_old_variants(a) & words[other]) for a, other in pairs)
        found = {
            a: {hit.id for hit in index.search(SearchQuery(q=a, lang=language, limit=1000)).hits}
            for a in {a for a, _ in pairs}
        }
        now = sum(other in found[a] for a, other in pairs)
        print(f"{language:<10}{len(pairs):>7}{before / len(pairs):>9.1%}{now / len(pairs):>9.1%}")


def news_entity_names(docs: list[EnrichedDocument]) -> None:
    """``--entity NAME`` with every labelled name of a linked entity, searched in an index of the
    articles of the four other languages only, so that the name as written is not there to be
    found: only a key, or an id learnt from another form, can find them."""
    print(f"\n{'name in':<10}{'names':>7}{'recall before':>15}{'now':>8}"
          f"{'precision':>11}   (--entity NAME, articles in the other languages)")  # fmt: skip
    for language in NEWS_LANGUAGES:
        others = [doc for doc in docs if doc.language != language]
        by_id: dict[str, set[str]] = defaultdict(set)
        for doc in others:
            for entity in doc.entities:
                by_id[entity.id].add(doc.id)
        names = {
            (entity.text, entity.id)
            for doc in docs
            if doc.language == language
            for entity in doc.entities
            if not entity.id.startswith("unlinked:") and by_id[entity.id]
        }
        texts = {doc.id: {fields.fold_name(e.text) for e in doc.entities} for doc in others}
        before: list[float] = []
        recall: list[float] = []
        precision: list[float] = []
        with SqliteIndex(":memory:") as index:
            index.upsert_many(others)
            for name, entity_id in sorted(names):
                wanted = by_id[entity_id]
                folded = fields.fold_name(name)
                old = {doc_id for doc_id, found in texts.items() if folded in found}
                query = SearchQuery(entity=name, collapse=False, limit=1000)
                now = {hit.id for hit in index.search(query).hits}
                before.append(len(old & wanted) / len(wanted))
                recall.append(len(now & wanted) / len(wanted))
                if now:
                    precision.append(len(now & wanted) / len(now))
        print(f"{language:<10}{len(names):>7}{statistics.mean(before):>15.1%}"
              f"{statistics.mean(recall):>8.1%}{statistics.mean(precision):>11.1%}")  # fmt: skip


def _query_cost(words: list[str]) -> float:
    lemmas.ukrainian_query_forms.cache_clear()
    sample = words[:200]
    started = time.perf_counter()
    for word in sample:
        lemmas.ukrainian_query_forms(word)
    return (time.perf_counter() - started) / len(sample) * 1e6


if __name__ == "__main__":
    main()
