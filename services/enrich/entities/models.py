"""Everything the entity extractor reads, loaded once per process: Natasha's taggers, pymorphy2's
dictionary, the gazetteer, the first names, the well-known surnames and wordfreq's word lists.

Loading reads only files that installed packages and this repository ship. The loaded models are
read-only afterwards, so the enrich worker loads them before it forks and its children share them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import natasha  # type: ignore[import-untyped]  # ships no type hints

from services.enrich.entities import commonness
from services.enrich.entities.gazetteer import Gazetteer
from services.enrich.entities.morphology import Vocab, normal_forms
from services.enrich.entities.ner import NerSpan, ner_spans
from services.enrich.entities.persons import FirstNames, first_names, known_surnames
from services.enrich.entities.sources import build_gazetteer
from services.enrich.entities.tagger import CnnTagger
from services.enrich.entities.tokens import WordToken


class RussianModels:
    """Natasha's NER and morphology models and pymorphy2's dictionary, loaded once."""

    def __init__(self) -> None:
        embedding = natasha.NewsEmbedding()
        ner, morph = natasha.NewsNERTagger(embedding), natasha.NewsMorphTagger(embedding)
        self.ner = CnnTagger(ner)
        # Both read navec's words; one table for the two when their vocabularies are the same.
        same_words = ner.infer.encoder.words_vocab.items == morph.infer.encoder.words_vocab.items
        self.morph = CnnTagger(morph, words=self.ner.words if same_words else None)
        self.vocab = Vocab()

    def spans(self, texts: Sequence[str]) -> list[tuple[list[WordToken], list[NerSpan]]]:
        """NER spans for each text, with the text's tokens."""
        return ner_spans(self.ner, texts)

    def normal_forms(self, items: Sequence[tuple[Sequence[WordToken], NerSpan]]) -> list[str]:
        """The nominative form of each span, from tags of the span and a little context."""
        return normal_forms(self.morph, self.vocab, items)


@dataclass(frozen=True)
class Models:
    russian: RussianModels
    gazetteer: Gazetteer
    first_names: FirstNames


@cache
def load_models() -> Models:
    """Every model and the gazetteer, loaded once per process (~2 s, ~270 MB resident)."""
    commonness.load()
    # Read here, before the worker forks, like everything else: ``persons`` asks for it by itself.
    known_surnames()
    return Models(RussianModels(), build_gazetteer(), first_names())
