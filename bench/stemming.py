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

Run ``python bench/stemming.py`` (about half a minute).
"""

from __future__ import annotations

import argparse
import itertools
import random
import resource
import statistics
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

from services.index import lemmas
from services.index.stemming import query_variants, stem_word, tokenize

BE_PARADIGMS = Path(__file__).resolve().parent / "data" / "be_paradigms.toml"
_UK_LETTERS = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"
_UK_POS = {"NOUN", "ADJF", "VERB", "INFN"}
_MAX_CROSS_PAIRS = 20_000

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


def _query_cost(words: list[str]) -> float:
    lemmas.ukrainian_query_forms.cache_clear()
    sample = words[:200]
    started = time.perf_counter()
    for word in sample:
        lemmas.ukrainian_query_forms(word)
    return (time.perf_counter() - started) / len(sample) * 1e6


if __name__ == "__main__":
    main()
