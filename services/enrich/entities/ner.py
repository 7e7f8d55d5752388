"""Russian NER spans (PER, LOC, ORG) from Natasha's NER tagger run by ``tagger.CnnTagger``.

``tests/unit/test_enrich_entities.py`` checks that the spans equal Natasha's own. Pure given the
tagger: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.enrich.entities.tagger import CnnTagger
from services.enrich.entities.tokens import WordToken, word_tokens

# Documents tagged together. The CRF's Viterbi loop runs once per position of the longest of
# them, whatever their number, so its per-step cost is shared by more documents in a larger
# batch; the convolutions are computed over windows of rows (``tagger._WINDOW_ROWS``), so a
# larger batch does not hold more memory at once. 16 (the enrich worker's batch) took NER from
# 3.60 to 3.34 ms per ~4 KB news article here, against 8.
NER_BATCH = 16


@dataclass(frozen=True)
class NerSpan:
    start: int
    end: int
    type: str  # PER | LOC | ORG


def bio_spans(tokens: Sequence[WordToken], tags: Sequence[str]) -> list[NerSpan]:
    """Spans from BIO tags, as slovnet reads them (an I- without a B- extends nothing)."""
    spans: list[NerSpan] = []
    current: str | None = None
    start = end = 0
    for token, tag in zip(tokens, tags, strict=True):
        part, _, kind = tag.partition("-")
        if part == "B":
            if current:
                spans.append(NerSpan(start, end, current))
            current, start, end = kind, token.start, token.end
        elif part == "I":
            end = token.end
        elif current:
            spans.append(NerSpan(start, end, current))
            current = None
    if current:
        spans.append(NerSpan(start, end, current))
    return spans


def ner_spans(
    tagger: CnnTagger, texts: Sequence[str]
) -> list[tuple[list[WordToken], list[NerSpan]]]:
    """NER spans for each text, with the text's tokens (razdel's: the taggers were trained on
    them)."""
    out: list[tuple[list[WordToken], list[NerSpan]]] = []
    for first in range(0, len(texts), NER_BATCH):
        chunk = texts[first : first + NER_BATCH]
        tokens = [word_tokens(text) if text.strip() else [] for text in chunk]
        emissions = tagger.emissions([[t.text for t in seq] for seq in tokens])
        paths = tagger.decode_crf(emissions)
        for seq, path in zip(tokens, paths, strict=True):
            tags = [tagger.tags[i] for i in path]
            out.append((seq, bio_spans(seq, tags)))
    return out
