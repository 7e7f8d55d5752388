"""Language identification with lingua, restricted to the languages we expect.

Restricting the candidate set is what makes short Cyrillic texts tractable (ru/be/uk differ by a
handful of letters and words). Below a confidence threshold, or on too little text, we say
``und`` rather than guess: a wrong language label is worse for search than no label.

Two results per document: the document's language (from its title and body together, the most
evidence) and, for mixed documents, each language's share of the text, from paragraph-level
detection.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from lingua import IsoCode639_1, LanguageDetector, LanguageDetectorBuilder

from shared.messages import LanguageShare

VERSION = "4"
UNDETERMINED = "und"
# Detection is linear in text length and a news lead settles the language; the tail adds cost,
# not accuracy. A paragraph's first few hundred characters settle that paragraph likewise.
MAX_CHARS = 4000
MAX_PARAGRAPH_CHARS = 500
# Paragraphs judged per document, at most, spread evenly over it: each lingua call costs
# 0.1-0.5 ms, so a file of a million short lines took minutes, and a few hundred paragraphs
# estimate the shares as well as all of them. A news article has a few dozen.
MAX_PARAGRAPHS = 256
# Letters Kazakh has and Ukrainian/Belarusian lack. lingua scores some Ukrainian sentences as
# Kazakh with full confidence (measured: 8 of 200 in the lingua test sentences); a "Kazakh" text
# without any of these letters is re-decided without Kazakh.
_KAZAKH_LETTERS = frozenset("әғқңөұүһӘҒҚҢӨҰҮҺ")


@dataclass(frozen=True)
class LanguageGuess:
    language: str
    confidence: float


@lru_cache(maxsize=8)
def detector_for(languages: tuple[str, ...]) -> LanguageDetector:
    """One detector per process and language set (its models load lazily and are shared)."""
    return LanguageDetectorBuilder.from_iso_codes_639_1(*_codes(languages)).build()


def preload_models(languages: tuple[str, ...]) -> None:
    """Load every model of ``languages`` now, for a worker to do once before it forks.

    lingua loads a model the first time a text needs it: a text's script and length decide
    which (one Latin warm-up sentence left every Cyrillic model to each prefork child, which
    then spent 1-2 s on its first Russian document, inside the stage's time limit, and held
    its own copy). Loaded models live in one store that every detector of the process shares
    (lingua's documented behaviour), so the detector built here only fills that store and is
    dropped; ``detector_for``'s detector finds the models there.
    """
    LanguageDetectorBuilder.from_iso_codes_639_1(
        *_codes(languages)
    ).with_preloaded_language_models().build()


def _codes(languages: tuple[str, ...]) -> list[IsoCode639_1]:
    return [getattr(IsoCode639_1, code.upper()) for code in languages]


def _best(sample: str, languages: tuple[str, ...]) -> LanguageGuess:
    values = detector_for(languages).compute_language_confidence_values(sample)
    if not values:
        return LanguageGuess(UNDETERMINED, 0.0)
    best = values[0]
    code = best.language.iso_code_639_1.name.lower()
    if code == "kk" and len(languages) > 2 and not _KAZAKH_LETTERS.intersection(sample):
        return _best(sample, tuple(lang for lang in languages if lang != "kk"))
    return LanguageGuess(code, round(float(best.value), 4))


def detect_language(
    text: str, languages: tuple[str, ...], *, min_confidence: float, min_letters: int
) -> LanguageGuess:
    """The most likely language of ``text`` as ISO 639-1, or ``und`` with the best confidence."""
    sample = text[:MAX_CHARS]
    if _letters(sample) < min_letters:
        return LanguageGuess(UNDETERMINED, 0.0)
    return _judged(sample, languages, min_confidence)


def _letters(text: str) -> int:
    # map() over the str method, not a generator: this runs on every paragraph.
    return sum(map(str.isalpha, text))


def _judged(sample: str, languages: tuple[str, ...], min_confidence: float) -> LanguageGuess:
    """lingua's best guess for a sample with enough letters; ``und`` below ``min_confidence``."""
    guess = _best(sample, languages)
    if guess.confidence < min_confidence:
        return LanguageGuess(UNDETERMINED, guess.confidence)
    return guess


@dataclass(frozen=True)
class LanguageProfile:
    document: LanguageGuess
    shares: list[LanguageShare]


def language_profile(
    paragraphs: Sequence[str],
    languages: tuple[str, ...],
    *,
    min_confidence: float,
    min_letters: int,
) -> LanguageProfile:
    """The document's language and each language's share of its text (by characters).

    Each paragraph is judged on its own (its first few hundred characters). Paragraphs too short
    to judge (datelines, captions) are left out rather than counted as ``und``; a paragraph long
    enough but below the confidence threshold counts as ``und``. Of more than ``MAX_PARAGRAPHS``
    such paragraphs an evenly spread sample is judged. When one language holds at least half of
    the text it is the document's language, with the paragraphs' length-weighted confidence:
    judging the whole text again would only repeat the work (it was a third of the enrich
    stage's time). Otherwise (no majority, or mostly ``und``) the start of the text decides.
    """
    judgeable = [
        (paragraph, sample)
        for paragraph in paragraphs
        if _letters(sample := paragraph[:MAX_PARAGRAPH_CHARS]) >= min_letters
    ]
    if len(judgeable) > MAX_PARAGRAPHS:
        step = len(judgeable) / MAX_PARAGRAPHS
        judgeable = [judgeable[int(i * step)] for i in range(MAX_PARAGRAPHS)]
    sizes: dict[str, int] = defaultdict(int)
    confidence: dict[str, float] = defaultdict(float)
    for paragraph, sample in judgeable:
        guess = _judged(sample, languages, min_confidence)
        sizes[guess.language] += len(paragraph)
        confidence[guess.language] += guess.confidence * len(paragraph)
    total = sum(sizes.values())
    shares = sorted(
        (LanguageShare(code=code, share=round(n / total, 4)) for code, n in sizes.items()),
        key=lambda share: (-share.share, share.code),
    )
    if shares and shares[0].code != UNDETERMINED and shares[0].share >= 0.5:
        top = shares[0].code
        document = LanguageGuess(top, round(confidence[top] / sizes[top], 4))
    else:
        document = detect_language(
            _head(paragraphs, MAX_CHARS),
            languages,
            min_confidence=min_confidence,
            min_letters=min_letters,
        )
    return LanguageProfile(document, shares)


def _head(paragraphs: Sequence[str], size: int) -> str:
    """The first ``size`` characters of the paragraphs joined by blank lines, without joining
    all of them (a document can be megabytes)."""
    parts: list[str] = []
    length = 0
    for paragraph in paragraphs:
        parts.append(paragraph)
        length += len(paragraph) + 2
        if length >= size:
            break
    return "\n\n".join(parts)[:size]
