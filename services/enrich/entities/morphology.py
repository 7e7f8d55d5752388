"""Normal (nominative) forms of Russian NER spans, from Natasha's morphology tagger and pymorphy2.

Natasha normalises a span from morphological tags of the whole document (``Doc.tag_morph``),
which costs as much again as NER. We tag only each span with two tokens of context on each side,
which gives the same normal forms on our seeds at a fraction of the cost, then inflect with
pymorphy2 to the nominative as Natasha does.

Never does I/O beyond reading the dictionary the installed package ships.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

# Natasha and pymorphy2 ship no type information; everything that crosses from them into this
# module is converted to plain types right here.
import natasha  # type: ignore[import-untyped]  # ships no type hints
import pymorphy2_dicts_ru  # type: ignore[import-untyped]  # ships no type hints
from natasha.morph.vocab import MorphForm  # type: ignore[import-untyped]  # ships no type hints
from natasha.norm import inflect_word  # type: ignore[import-untyped]  # ships no type hints
from natasha.shape import recover_shape  # type: ignore[import-untyped]  # ships no type hints
from pymorphy2.analyzer import MorphAnalyzer  # type: ignore[import-untyped]  # ships no type hints

from services.enrich.entities.keys import fold
from services.enrich.entities.ner import NerSpan
from services.enrich.entities.tagger import CnnTagger
from services.enrich.entities.tokens import WordToken
from shared import caches

CONTEXT_TOKENS = 2


class Vocab(natasha.MorphVocab):  # type: ignore[misc]  # untyped base class
    """Natasha's MorphVocab, given its dictionary path instead of looking it up.

    pymorphy2 finds its dictionary through ``pkg_resources`` entry points, and current setuptools
    no longer ships ``pkg_resources``; passing the path the dictionary package reports skips that
    lookup entirely, so nothing here needs setuptools at run time.
    """

    def __init__(self) -> None:
        MorphAnalyzer.__init__(self, path=pymorphy2_dicts_ru.get_path(), result_type=MorphForm)

    # Natasha caches 10 000 words' parses for the life of the process, ~1.8 KB each (every
    # reading of a word, its grammemes as a dict): 18 MB in each child once full. The words parsed
    # here are those of names being declined, whose results the declension cache keeps anyway.
    parse = lru_cache(maxsize=caches.PARSES)(MorphAnalyzer.parse)
    __call__ = parse


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


def normal_forms(
    tagger: CnnTagger, vocab: Vocab, items: Sequence[tuple[Sequence[WordToken], NerSpan]]
) -> list[str]:
    """The nominative form of each span, from tags of the span and a little context."""
    windows: list[list[WordToken]] = []
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
    tag_rows = tagger.argmax_tags(tagger.emissions([[t.text for t in w] for w in windows]))
    normals = []
    for (_, span), window, (a, b), tags in zip(items, windows, inside, tag_rows, strict=True):
        normals.append(_normalize(vocab, window[a:b], tags[a:b], span.type))
    return normals


def _normalize(vocab: Vocab, tokens: Sequence[WordToken], tags: Sequence[str], kind: str) -> str:
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
        word = _inflect(vocab, token.text, pos, feats, person=kind == "PER")
        words.append(str(recover_shape(word, token.text)))
        head_seen = head_seen or pos in ("NOUN", "PROPN")
    parts = [words[0]]
    for previous, token, word in zip(tokens, tokens[1:], words[1:], strict=False):
        parts.append(" " if token.start > previous.end else "")
        parts.append(word)
    return "".join(parts)


@lru_cache(maxsize=caches.WORD_KEYS)
def _inflect_cached(vocab: Vocab, word: str, pos: str, feats: tuple[tuple[str, str], ...],
                    person: bool) -> str:  # fmt: skip
    feats_dict = dict(feats)
    result = str(inflect_word(vocab, _MorphToken(word, pos, feats_dict)))
    case = feats_dict.get("Case")
    # pymorphy2 answers in lower case without «ё»: unchanged means equal to the folded word.
    if not person or case in (None, "Nom") or result != fold(word):
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
                return fold(str(nominative.word))
    return result


def _inflect(vocab: Vocab, word: str, pos: str, feats: dict[str, str], *, person: bool) -> str:
    return _inflect_cached(vocab, word, pos, tuple(sorted(feats.items())), person)
