"""Entity step: load time, documents per second, where the time goes, memory, and quality.

What it prints, on the Russian seeds (seeds/ without 001, ~4 KB news each) repeated ``--repeat``
times:

1. **load**: ``load_models()`` cold in this process (Natasha's embeddings and taggers, pymorphy2's
   dictionary, the gazetteer built from pycountry + the extracted GeoNames cities + the curated
   files).
2. **docs/s** of ``extract_entities_batch`` for several batch sizes, best of ``--runs`` (the
   machine is shared: the best run is the one least disturbed by other processes).
3. **ms/doc by stage**: razdel tokens, NER forward pass, CRF decoding, gazetteer, morphology for
   normal forms, and the whole step; then Natasha's own pipeline on the same texts (``Doc``:
   segment, NER, morphology, normalise) for comparison.
4. **RSS** after warm-up: peak resident memory of this process (``getrusage``).
5. **precision / recall** on the hand-labelled seeds (``bench/gold_seeds.toml``):
   exact span + type, and exact span + type + id. The gold was written on these same seeds the
   rules were developed on: it measures regressions, not accuracy on unseen news.

Timings are never asserted anywhere; this script only prints.
"""

# The entity modules are imported inside functions on purpose: the load time printed first must
# include importing Natasha, numpy and the rest.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.enrich.entities import Models

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for bench.entities_gold when run as a script
SEEDS = ROOT / "seeds"


def best_seconds(runs: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def rss_now_mb() -> float:
    """Current resident memory (Linux /proc), as opposed to getrusage's peak."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return float("nan")
    return pages * resource.getpagesize() / 2**20


def throughput(texts: list[str], runs: int) -> None:
    from services.enrich.entities import extract_entities_batch

    print("\ndocs/s of extract_entities_batch (best of runs):")
    for batch in (1, 8, 16, 32):

        def run(batch: int = batch) -> None:
            for first in range(0, len(texts), batch):
                chunk = texts[first : first + batch]
                extract_entities_batch(chunk, ["ru"] * len(chunk))

        seconds = best_seconds(runs, run)
        print(
            f"  batch {batch:>3}: {len(texts) / seconds:7.1f} docs/s"
            f"  {1000 * seconds / len(texts):6.2f} ms/doc"
        )


def stages(models: Models, texts: list[str], runs: int) -> None:
    from services.enrich.entities import extract_entities_batch
    from services.enrich.entities.ner import NER_BATCH
    from services.enrich.entities.tokens import word_tokens

    ru = models.russian
    tokens = [word_tokens(t) for t in texts]
    words = [[[t.text for t in seq] for seq in tokens[i : i + NER_BATCH]]
             for i in range(0, len(tokens), NER_BATCH)]  # fmt: skip
    emissions = [ru.ner.emissions(chunk) for chunk in words]
    items = [(seq, span) for seq, found in ru.spans(texts) for span in found]
    work: list[tuple[str, Callable[[], object]]] = [
        ("razdel tokens", lambda: [word_tokens(t) for t in texts]),
        ("NER forward pass", lambda: [ru.ner.emissions(chunk) for chunk in words]),
        ("CRF decoding", lambda: [ru.ner.decode_crf(e) for e in emissions]),
        ("gazetteer", lambda: [models.gazetteer.find(t) for t in texts]),
        ("normal forms (all spans)", lambda: ru.normal_forms(items)),
        ("whole step (batch 16)", lambda: [
            extract_entities_batch(texts[i : i + 16], ["ru"] * len(texts[i : i + 16]))
            for i in range(0, len(texts), 16)
        ]),
    ]  # fmt: skip
    print(f"\nms/doc by stage (NER batch {NER_BATCH}, best of runs):")
    for name, job in work:
        print(f"  {name:<26} {1000 * best_seconds(runs, job) / len(texts):6.2f}")


def natasha_reference(models: Models, texts: list[str], runs: int) -> None:
    import natasha  # type: ignore[import-untyped]  # no type information shipped

    segmenter, embedding = natasha.Segmenter(), natasha.NewsEmbedding()
    ner, morph = natasha.NewsNERTagger(embedding), natasha.NewsMorphTagger(embedding)

    def ner_only() -> None:
        for text in texts:
            doc = natasha.Doc(text)
            doc.segment(segmenter)
            doc.tag_ner(ner)

    def with_normal_forms() -> None:
        for text in texts:
            doc = natasha.Doc(text)
            doc.segment(segmenter)
            doc.tag_ner(ner)
            doc.tag_morph(morph)
            for span in doc.spans:
                span.normalize(models.russian.vocab)

    print("\nfor comparison, Natasha's own pipeline on the same texts:")
    for name, job in (("Doc NER", ner_only), ("Doc NER + morph + normalise", with_normal_forms)):
        seconds = best_seconds(runs, job)
        print(
            f"  {name:<28} {len(texts) / seconds:7.1f} docs/s"
            f"  {1000 * seconds / len(texts):6.2f} ms/doc"
        )


def quality() -> None:
    from bench.entities_gold import combine, gold_mentions, load_gold, score
    from services.enrich.entities import extract_entities_batch

    docs = load_gold()
    texts = [(SEEDS / d.file).read_text(encoding="utf-8") for d in docs]
    found = extract_entities_batch(texts, [d.language for d in docs])
    golds = [gold_mentions(t, d.entries) for t, d in zip(texts, docs, strict=True)]
    print("\nquality on the hand-labelled seeds (micro-averaged):")
    for label, with_id in (("span + type", False), ("span + type + id", True)):
        per_doc = [score(f, g, with_id=with_id) for f, g in zip(found, golds, strict=True)]
        total = combine(per_doc)
        print(
            f"  {label:<17} P {total.precision:.3f}  R {total.recall:.3f}  F1 {total.f1:.3f}"
            f"  ({total.true_positive} of {total.predicted} predicted, {total.gold} gold)"
        )
        for doc, item in zip(docs, per_doc, strict=True):
            print(f"    {doc.file} ({doc.language}): P {item.precision:.2f} R {item.recall:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="copies of the Russian seeds")
    parser.add_argument("--runs", type=int, default=3, help="timed runs; the best is shown")
    args = parser.parse_args()

    started = time.perf_counter()
    from services.enrich.entities import extract_entities_batch, load_models

    models = load_models()
    print(f"load (imports + models + gazetteer): {time.perf_counter() - started:.2f} s")

    paths = sorted(SEEDS.glob("*.txt"))
    russian = [p.read_text(encoding="utf-8") for p in paths if not p.name.startswith("001")]
    texts = russian * args.repeat
    size = sum(len(t.encode()) for t in russian) / len(russian)
    print(f"corpus: {len(texts)} Russian documents, {size / 1024:.1f} KB each on average")

    extract_entities_batch(texts[: len(russian)], ["ru"] * len(russian))  # warm-up
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"RSS after warm-up: {rss_now_mb():.0f} MB now, {peak:.0f} MB peak (getrusage)")

    throughput(texts, args.runs)
    stages(models, texts, args.runs)
    natasha_reference(models, texts, args.runs)
    quality()


if __name__ == "__main__":
    main()
