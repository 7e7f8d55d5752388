"""Russian NER and normal forms with Natasha's models, run by a leaner loop than Natasha's own.

Natasha (slovnet) ships a small CNN-CRF tagger: navec word vectors + word-shape vectors, three
1-d convolutions, a projection and a CRF. Its own inference pads every document of a batch to the
longest, builds the convolution windows by copying (im2col) and decodes the CRF one position at a
time per batch of 8. This module runs the *same weights and the same arithmetic* with the
documents laid end to end (a zero row between them stands for the padding each document would get,
so no position is wasted on padding) and one matrix product per layer; the CRF is decoded for all
documents of a batch at once. ``tests/unit/test_enrich_entities.py`` checks that the spans equal
Natasha's own. With the span-only morphology below, the whole step runs at ~210 docs/s on ~4 KB
news where Natasha's ``Doc`` pipeline gives ~50 (``bench/entities_speed.py``).

Normal forms: Natasha normalises a span from morphological tags of the whole document
(``Doc.tag_morph``), which costs as much again as NER. We tag only each span with two tokens of
context on each side, which gives the same normal forms on our seeds at a fraction of the cost,
then inflect with pymorphy2 to the nominative as Natasha does.

Never does I/O beyond reading the models the installed packages ship.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Natasha, slovnet, razdel and pymorphy2 ship no type information; everything that crosses from
# them into this module is converted to plain types right here.
import natasha  # type: ignore[import-untyped]  # ships no type hints
import numpy as np
import numpy.typing as npt
import pymorphy2_dicts_ru  # type: ignore[import-untyped]  # ships no type hints
from natasha.morph.vocab import MorphForm  # type: ignore[import-untyped]  # ships no type hints
from natasha.norm import inflect_word  # type: ignore[import-untyped]  # ships no type hints
from natasha.shape import recover_shape  # type: ignore[import-untyped]  # ships no type hints
from pymorphy2.analyzer import MorphAnalyzer  # type: ignore[import-untyped]  # ships no type hints
from slovnet.shape import word_shape  # type: ignore[import-untyped]  # ships no type hints

from services.enrich.tokens import WordToken, word_tokens

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Natasha's slovnet taggers decode a whole document in one sequence; 8 documents a batch was the
# fastest on ~4 KB news here (bench/entities_speed.py measures it).
NER_BATCH = 8
CONTEXT_TOKENS = 2
# Rows (tokens) per forward pass of a tagger: a 4 KB article is ~700.
_WINDOW_ROWS = 8192


# A token as razdel makes it: (start, end, text).
Token = WordToken


@dataclass(frozen=True)
class NerSpan:
    start: int
    end: int
    type: str  # PER | LOC | ORG


@dataclass(frozen=True)
class _Layer:
    weights: FloatArray  # in x (kernel * filters): all kernel offsets in one product
    bias: FloatArray
    scale: FloatArray  # batch norm folded into one multiply-add
    shift: FloatArray
    filters: int


class CnnTagger:
    """One slovnet tagger (NER or morphology) as plain numpy arrays."""

    def __init__(self, api: Any) -> None:
        model, encoder = api.infer.model, api.infer.encoder
        self._words: dict[str, int] = encoder.words_vocab.item_ids
        self._word_unk = int(encoder.words_vocab.unk_id)
        self._shapes: dict[str, int] = encoder.shapes_vocab.item_ids
        # The shapes vocabulary has no <unk>: slovnet maps unseen shapes to id None and crashes;
        # every shape word_shape() can produce is in it, OTHER covers the rest.
        self._shape_unk = int(encoder.shapes_vocab.item_ids["OTHER"])
        self._shape_cache: dict[str, int] = {}
        self._indexes: npt.NDArray[np.uint8] = model.emb.word.indexes.array
        self._codes: FloatArray = model.emb.word.codes.array
        self._qdims = np.arange(self._codes.shape[0])
        self._shape_emb: FloatArray = model.emb.shape.weight.array
        layers = []
        for layer in model.encoder.layers:
            weight: FloatArray = layer.conv.weight.array  # filters x in x kernel
            if int(layer.conv.padding) * 2 + 1 != weight.shape[2]:
                raise ValueError("only 'same' convolutions are supported")
            scale = layer.norm.weight.array / layer.norm.std.array
            layers.append(
                _Layer(
                    weights=np.ascontiguousarray(
                        np.concatenate([weight[:, :, k].T for k in range(weight.shape[2])], 1)
                    ),
                    bias=layer.conv.bias.array,
                    scale=scale.astype(np.float32),
                    shift=(layer.norm.bias.array - layer.norm.mean.array * scale).astype(
                        np.float32
                    ),
                    filters=int(weight.shape[0]),
                )
            )
        self._layers = tuple(layers)
        self._proj_w: FloatArray = model.head.proj.weight.array
        self._proj_b: FloatArray = model.head.proj.bias.array
        self.tags: tuple[str, ...] = tuple(api.infer.decoder.tags_vocab.items)
        crf = getattr(model.head, "crf", None)
        self._transitions: FloatArray | None = None if crf is None else crf.transitions.array

    def _shape_id(self, word: str) -> int:
        found = self._shape_cache.get(word)
        if found is None:
            found = self._shapes.get(str(word_shape(word)), self._shape_unk)
            # Word-sized keys only: the cache lives as long as the worker (see the gazetteer's).
            if len(self._shape_cache) < 200_000 and len(word) <= 64:
                self._shape_cache[word] = found
        return found

    def emissions(self, sequences: Sequence[Sequence[str]]) -> list[FloatArray]:
        """Per-token tag scores for each word sequence, all sequences in one forward pass."""
        if not sequences:
            return []
        rows = sum(len(seq) for seq in sequences) + len(sequences) + 1
        word_ids = np.full(rows, self._word_unk, dtype=np.int64)
        shape_ids = np.zeros(rows, dtype=np.int64)
        separator = np.ones(rows, dtype=bool)
        offsets = []
        position = 1
        for seq in sequences:
            offsets.append(position)
            end = position + len(seq)
            word_ids[position:end] = [self._words.get(w.lower(), self._word_unk) for w in seq]
            shape_ids[position:end] = [self._shape_id(w) for w in seq]
            separator[position:end] = False
            position = end + 1
        # Computed over windows of rows, not all at once: the layers hold several floats per
        # row and filter (~8 KB a token), so a text of 100 000 one-character tokens took 800 MB
        # and 7 s in one pass (far from the CPU caches). Each window is computed with as many
        # extra rows on each side as there are layers (each layer sees one neighbour each
        # side), so its own rows come out as in one pass. A news article fits one window.
        scores: FloatArray = np.empty((rows, self._proj_w.shape[1]), dtype=np.float32)
        halo = len(self._layers)
        for first in range(0, rows, _WINDOW_ROWS):
            last = min(rows, first + _WINDOW_ROWS)
            lo, hi = max(0, first - halo), min(rows, last + halo)
            window = self._forward(word_ids[lo:hi], shape_ids[lo:hi], separator[lo:hi])
            scores[first:last] = window[first - lo : last - lo]
        return [scores[o : o + len(seq)] for o, seq in zip(offsets, sequences, strict=True)]

    def _forward(self, word_ids: IntArray, shape_ids: IntArray, separator: BoolArray) -> FloatArray:
        """Tag scores of consecutive rows; the first and last come out right only where they
        are the sequence's own ends (separators), the rest as far in as there are layers."""
        rows = len(word_ids)
        words = self._codes[self._qdims, self._indexes[word_ids]].reshape(rows, -1)
        x = np.concatenate([words, self._shape_emb[shape_ids]], axis=1)
        x[separator] = 0.0
        for layer in self._layers:
            f = layer.filters
            z = x @ layer.weights
            y = np.zeros((rows, f), dtype=np.float32)
            y[1:-1] = z[:-2, :f] + z[1:-1, f : 2 * f] + z[2:, 2 * f :]
            y += layer.bias
            np.maximum(y, 0.0, out=y)
            y *= layer.scale
            y += layer.shift
            # Padding positions are zero between layers, as slovnet masks them.
            y[separator] = 0.0
            x = y
        scores: FloatArray = x @ self._proj_w + self._proj_b
        return scores

    def decode_crf(self, emissions: Sequence[FloatArray]) -> list[list[int]]:
        """Viterbi paths, all sequences decoded together (same maths as slovnet's CRF.decode)."""
        if self._transitions is None:
            raise ValueError("this tagger has no CRF")
        lengths = np.array([len(e) for e in emissions], dtype=np.int64)
        longest = int(lengths.max(initial=0))
        if longest == 0:
            return [[] for _ in emissions]
        tags = len(self.tags)
        padded = np.zeros((len(emissions), longest, tags), dtype=np.float32)
        for i, e in enumerate(emissions):
            padded[i, : len(e)] = e
        steps = padded[:, :, None, :] + self._transitions  # batch x pos x from x to
        score = padded[:, 0].copy()
        history = np.zeros((longest, len(emissions), tags), dtype=np.int64)
        shortest = int(lengths.min())
        for t in range(1, longest):
            candidate = score[:, :, None] + steps[:, t]
            history[t] = candidate.argmax(1)
            best = candidate.max(1)
            score = best if t < shortest else np.where((t < lengths)[:, None], best, score)
        paths: list[list[int]] = []
        for i, size in enumerate(lengths.tolist()):
            if size == 0:
                paths.append([])
                continue
            tag = int(score[i].argmax())
            path = [tag]
            column = history[:size, i]
            for t in range(size - 1, 0, -1):
                tag = int(column[t, tag])
                path.append(tag)
            path.reverse()
            paths.append(path)
        return paths

    def argmax_tags(self, emissions: Sequence[FloatArray]) -> list[list[str]]:
        return [[self.tags[int(i)] for i in e.argmax(-1)] for e in emissions]


def tokenize(text: str) -> list[Token]:
    """razdel's tokens: the tokenisation the taggers were trained on."""
    return word_tokens(text)


def bio_spans(tokens: Sequence[Token], tags: Sequence[str]) -> list[NerSpan]:
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


class _Vocab(natasha.MorphVocab):  # type: ignore[misc]  # untyped base class
    """Natasha's MorphVocab, given its dictionary path instead of looking it up.

    pymorphy2 finds its dictionary through ``pkg_resources`` entry points, and current setuptools
    no longer ships ``pkg_resources``; passing the path the dictionary package reports skips that
    lookup entirely, so nothing here needs setuptools at run time.
    """

    def __init__(self) -> None:
        MorphAnalyzer.__init__(self, path=pymorphy2_dicts_ru.get_path(), result_type=MorphForm)


@dataclass(frozen=True)
class _MorphToken:
    """The shape natasha.norm expects of a token."""

    text: str
    pos: str
    feats: dict[str, str]


def _parse_tag(tag: str) -> tuple[str, dict[str, str]]:
    pos, _, rest = tag.partition("|")
    feats = dict(item.split("=", 1) for item in rest.split("|") if "=" in item)
    return pos, feats


class RussianModels:
    """Natasha's NER and morphology models and pymorphy2's dictionary, loaded once."""

    def __init__(self) -> None:
        embedding = natasha.NewsEmbedding()
        self.ner = CnnTagger(natasha.NewsNERTagger(embedding))
        self.morph = CnnTagger(natasha.NewsMorphTagger(embedding))
        self.vocab = _Vocab()

    def spans(self, texts: Sequence[str]) -> list[tuple[list[Token], list[NerSpan]]]:
        """NER spans for each text, with the text's tokens."""
        out: list[tuple[list[Token], list[NerSpan]]] = []
        for first in range(0, len(texts), NER_BATCH):
            chunk = texts[first : first + NER_BATCH]
            tokens = [tokenize(text) if text.strip() else [] for text in chunk]
            emissions = self.ner.emissions([[t.text for t in seq] for seq in tokens])
            paths = self.ner.decode_crf(emissions)
            for seq, path in zip(tokens, paths, strict=True):
                tags = [self.ner.tags[i] for i in path]
                out.append((seq, bio_spans(seq, tags)))
        return out

    def normal_forms(self, items: Sequence[tuple[Sequence[Token], NerSpan]]) -> list[str]:
        """The nominative form of each span, from tags of the span and a little context."""
        windows: list[list[Token]] = []
        inside: list[tuple[int, int]] = []
        # One list of token starts per document, not per span: the spans of one document share
        # its token list, and rebuilding it for each span was quadratic in the text's length.
        starts_by_tokens: dict[int, list[int]] = {}
        for tokens, span in items:
            starts = starts_by_tokens.get(id(tokens))
            if starts is None:
                starts = starts_by_tokens[id(tokens)] = [t.start for t in tokens]
            first = bisect.bisect_left(starts, span.start)
            last = bisect.bisect_left(starts, span.end)
            lo, hi = max(0, first - CONTEXT_TOKENS), min(len(tokens), last + CONTEXT_TOKENS)
            windows.append(list(tokens[lo:hi]))
            inside.append((first - lo, last - lo))
        tag_rows = self.morph.argmax_tags(
            self.morph.emissions([[t.text for t in w] for w in windows])
        )
        normals = []
        for (_, span), window, (a, b), tags in zip(items, windows, inside, tag_rows, strict=True):
            normals.append(self._normalize(window[a:b], tags[a:b], span.type))
        return normals

    def _normalize(self, tokens: Sequence[Token], tags: Sequence[str], kind: str) -> str:
        if not tokens:
            return ""
        words: list[str] = []
        # A person's name agrees in every token; an organisation or place is inflected up to its
        # head noun only: «Парка высоких технологий» -> «Парк высоких технологий», not «Парк
        # высокие технологии» as inflecting every word gives.
        head_seen = False
        for token, tag in zip(tokens, tags, strict=True):
            pos, feats = _parse_tag(tag)
            if kind != "PER" and head_seen:
                words.append(token.text)
                continue
            word = _inflect(self.vocab, token.text, pos, feats, person=kind == "PER")
            words.append(str(recover_shape(word, token.text)))
            head_seen = head_seen or pos in ("NOUN", "PROPN")
        parts = [words[0]]
        for previous, token, word in zip(tokens, tokens[1:], words[1:], strict=False):
            parts.append(" " if token.start > previous.end else "")
            parts.append(word)
        return "".join(parts)


@lru_cache(maxsize=50_000)
def _inflect_cached(vocab: _Vocab, word: str, pos: str, feats: tuple[tuple[str, str], ...],
                    person: bool) -> str:  # fmt: skip
    feats_dict = dict(feats)
    result = str(inflect_word(vocab, _MorphToken(word, pos, feats_dict)))
    case = feats_dict.get("Case")
    if not person or case in (None, "Nom") or result != word.lower().replace("ё", "е"):
        return result
    # For a surname pymorphy only guesses («Румасу»), its first guess is often "indeclinable"
    # (Fixd), which leaves the dative as the normal form. For names in an oblique case we take
    # the first declinable analysis in the tagged case instead.
    for form in vocab(word.lower()):
        if (
            form.feats.get("Case") == case
            and form.pos in ("NOUN", "PROPN")
            and "Fixd" not in form.tag
        ):
            nominative = form.inflect({"Nom"})
            if nominative is not None:
                return str(nominative.word).replace("ё", "е")
    return result


def _inflect(vocab: _Vocab, word: str, pos: str, feats: dict[str, str], *, person: bool) -> str:
    return _inflect_cached(vocab, word, pos, tuple(sorted(feats.items())), person)
