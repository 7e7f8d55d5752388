"""Natasha's slovnet CNN-CRF taggers (NER, morphology) run by a leaner loop than slovnet's own.

Natasha (slovnet) ships a small CNN-CRF tagger: navec word vectors + word-shape vectors, three
1-d convolutions, a projection and a CRF. Its own inference pads every document of a batch to the
longest, builds the convolution windows by copying (im2col) and decodes the CRF one position at a
time per batch of 8. ``CnnTagger`` runs the *same weights and the same arithmetic* with the
documents laid end to end (a zero row between them stands for the padding each document would get,
so no position is wasted on padding) and one matrix product per layer; the CRF is decoded for all
documents of a batch at once. ``tests/unit/test_enrich_entities.py`` checks that the spans equal
Natasha's own. With the span-only morphology (``morphology``), the whole step runs at ~210 docs/s
on ~4 KB news where Natasha's ``Doc`` pipeline gives ~50 (``bench/entities_speed.py``).

Pure numpy over the weights it is given: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

# slovnet ships no type information; what crosses from it into this module is converted to plain
# types right here.
from slovnet.shape import word_shape  # type: ignore[import-untyped]  # ships no type hints

from services.enrich.entities.string_table import StringTable
from shared import caches

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Rows (tokens) per forward pass of a tagger: a 4 KB article is ~700, a batch of 16 ~11,000.
# A pass's matrices take ~3 KB a row, so this bounds what a batch adds to a worker child at its
# peak (6 MB here, 25 MB at 8192 rows), at the same CPU time within the noise.
_WINDOW_ROWS = 2048


@dataclass(frozen=True)
class _Layer:
    """One convolution with its batch norm folded in. The norm's scale is positive in every
    layer of Natasha's taggers (checked at load), and ``relu(v) * s == relu(v * s)`` for
    ``s > 0``, so the scale is multiplied into the weights and the bias once at load instead
    of into every row's output; only the shift is left to add after the ReLU."""

    weights: FloatArray  # in x (kernel * filters): all kernel offsets in one product, scaled
    bias: FloatArray  # scaled
    shift: FloatArray
    filters: int


class CnnTagger:
    """One slovnet tagger (NER or morphology) as plain numpy arrays."""

    def __init__(self, api: Any, words: StringTable | None = None) -> None:
        """``words``: the word ids of another tagger over the same vocabulary (Natasha's NER and
        morphology taggers both read navec's), so that it is held once."""
        model, encoder = api.infer.model, api.infer.encoder
        # Not slovnet's dict: a quarter of a million words as str objects (~30 MB a tagger),
        # whose pages a prefork child would copy as it reads them (see ``string_table``).
        self.words = words if words is not None else StringTable.of_list(encoder.words_vocab.items)
        self._word_unk = int(encoder.words_vocab.unk_id)
        self._shapes: dict[str, int] = encoder.shapes_vocab.item_ids
        # The shapes vocabulary has no <unk>: slovnet maps unseen shapes to id None and crashes;
        # every shape word_shape() can produce is in it, OTHER covers the rest.
        self._shape_unk = int(encoder.shapes_vocab.item_ids["OTHER"])
        self._shape_count = len(self._shapes)
        # A token's row key (``_token_key``), remembered per token text.
        self._key_cache: dict[str, int] = {}
        # navec's product-quantised vectors: a word's vector is, for each of its subspaces, one
        # of that subspace's centroids. The centroids are kept as one table of rows, so that a
        # word's parts are one ``take`` of row numbers (subspace * centroids + its index).
        self._indexes: npt.NDArray[np.uint8] = model.emb.word.indexes.array
        subspaces, centroids, width = model.emb.word.codes.array.shape
        self._centroids: FloatArray = np.ascontiguousarray(
            model.emb.word.codes.array.reshape(subspaces * centroids, width)
        )
        self._subspace_rows = np.arange(subspaces, dtype=np.intp) * centroids
        self._word_width = subspaces * width
        self._shape_emb: FloatArray = model.emb.shape.weight.array
        layers = []
        for layer in model.encoder.layers:
            weight: FloatArray = layer.conv.weight.array  # filters x in x kernel
            if int(layer.conv.padding) * 2 + 1 != weight.shape[2]:
                raise ValueError("only 'same' convolutions are supported")
            scale = layer.norm.weight.array / layer.norm.std.array
            if not (scale > 0).all():
                raise ValueError("a batch norm scale that is not positive cannot be folded")
            kernels = weight.shape[2]
            layers.append(
                _Layer(
                    weights=np.ascontiguousarray(
                        np.concatenate([weight[:, :, k].T * scale for k in range(kernels)], 1),
                        dtype=np.float32,
                    ),
                    bias=(layer.conv.bias.array * scale).astype(np.float32),
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

    def _token_key(self, word: str) -> int:
        """The token's row key, ``word id * shapes + shape id``: the two embeddings its row is
        made of. One dict lookup per token instead of lower-casing it and looking up the word and
        the shape apart (a tenth of the tagger's time)."""
        found = self._key_cache.get(word)
        if found is None:
            word_id = self.words.get(word.lower())
            if word_id is None:
                word_id = self._word_unk
            shape_id = self._shapes.get(str(word_shape(word)), self._shape_unk)
            found = word_id * self._shape_count + shape_id
            # Word-sized keys only: the cache lives as long as the worker (see the gazetteer's).
            if len(word) <= 64:
                caches.remember(self._key_cache, word, found, caches.TOKENS)
        return found

    def emissions(self, sequences: Sequence[Sequence[str]]) -> list[FloatArray]:
        """Per-token tag scores for each word sequence, all sequences in one forward pass."""
        if not sequences:
            return []
        rows = sum(len(seq) for seq in sequences) + len(sequences) + 1
        # A separator row's key is -1 (its row is zero); every other row's is its token's.
        keys = np.full(rows, -1, dtype=np.int64)
        offsets = []
        position = 1
        key = self._key_cache.get
        for seq in sequences:
            offsets.append(position)
            end = position + len(seq)
            keys[position:end] = [key(w) or self._token_key(w) for w in seq]
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
            window = self._forward(keys[lo:hi])
            scores[first:last] = window[first - lo : last - lo]
        return [scores[o : o + len(seq)] for o, seq in zip(offsets, sequences, strict=True)]

    def _forward(self, keys: IntArray) -> FloatArray:
        """Tag scores of consecutive rows (``_token_key``s, -1 for a separator); the first and
        last come out right only where they are the sequence's own ends (separators), the rest
        as far in as there are layers."""
        separator = keys < 0
        # The first layer's product of a row depends on that row's token alone (the convolution
        # adds the neighbours' products afterwards), so it is computed once per distinct token:
        # a news article's rows are about two thirds distinct tokens, and the first layer is
        # two thirds of the arithmetic. A separator's row is zero, and so is its product.
        distinct, row_of = np.unique(keys, return_inverse=True)
        word_ids, shape_ids = np.divmod(np.maximum(distinct, 0), self._shape_count)
        parts = self._indexes[word_ids].astype(np.intp)
        parts += self._subspace_rows
        x = np.empty((len(distinct), self._word_width + self._shape_emb.shape[1]), np.float32)
        x[:, : self._word_width] = self._centroids.take(parts.ravel(), axis=0).reshape(
            len(distinct), self._word_width
        )
        x[:, self._word_width :] = self._shape_emb.take(shape_ids, axis=0)
        x[distinct < 0] = 0.0
        first = self._layers[0]
        x = self._convolve(first, x @ first.weights, separator, row_of)
        for layer in self._layers[1:]:
            x = self._convolve(layer, x @ layer.weights, separator)
        scores: FloatArray = x @ self._proj_w + self._proj_b
        return scores

    @staticmethod
    def _convolve(
        layer: _Layer, z: FloatArray, separator: BoolArray, row_of: IntArray | None = None
    ) -> FloatArray:
        """One layer on the products with all kernel offsets (``z``): each row's own and its
        neighbours' parts summed, then bias, ReLU and the batch norm's shift. ``row_of``: the
        row of ``z`` each position reads (the first layer's products are per distinct token),
        taken kernel part by kernel part rather than expanded to every position first."""
        f = layer.filters
        rows = len(separator)
        y = np.empty((rows, f), dtype=np.float32)
        inner = y[1:-1]
        if row_of is None:
            np.add(z[:-2, :f], z[1:-1, f : 2 * f], out=inner)
            inner += z[2:, 2 * f :]
        else:
            np.take(np.ascontiguousarray(z[:, :f]), row_of[:-2], axis=0, out=inner)
            inner += np.ascontiguousarray(z[:, f : 2 * f]).take(row_of[1:-1], axis=0)
            inner += np.ascontiguousarray(z[:, 2 * f :]).take(row_of[2:], axis=0)
        inner += layer.bias
        np.maximum(inner, 0.0, out=inner)
        inner += layer.shift
        # Padding positions are zero between layers, as slovnet masks them. The end rows have
        # a neighbour missing: zero, as in a sequence's padding (inside a window they are in
        # its halo and discarded).
        y[0] = y[-1] = 0.0
        y[separator] = 0.0
        return y

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
        # pos x batch x from x to: each step's scores of every transition, kept, so that the
        # best predecessors are found for all steps in one argmax after the loop; the loop does
        # only what must be sequential (a running maximum), two ufunc calls a step.
        steps = padded.transpose(1, 0, 2)[:, :, None, :] + self._transitions
        score = padded[:, 0].copy()
        shortest = int(lengths.min())
        for t in range(1, longest):
            candidate = steps[t]
            candidate += score[:, :, None]
            best = np.maximum.reduce(candidate, axis=1)
            score = best if t < shortest else np.where((t < lengths)[:, None], best, score)
        history = steps.argmax(2)  # pos x batch x to: the best predecessor of each tag
        paths: list[list[int]] = []
        for i, size in enumerate(lengths.tolist()):
            if size == 0:
                paths.append([])
                continue
            tag = int(score[i].argmax())
            path = [tag]
            column = history[:size, i].tolist()  # plain ints: read one at a time below
            for t in range(size - 1, 0, -1):
                tag = column[t][tag]
                path.append(tag)
            path.reverse()
            paths.append(path)
        return paths

    def argmax_tags(self, emissions: Sequence[FloatArray]) -> list[list[str]]:
        return [[self.tags[int(i)] for i in e.argmax(-1)] for e in emissions]
