"""Language identification with lingua, restricted to the languages we expect.

Restricting the candidate set is what makes short Cyrillic texts tractable (ru/be/uk differ by a
handful of letters and words). Below a confidence threshold we say ``und`` rather than guess: a
wrong language label is worse for search than no label.

Two results per document: the document's language and each language's share of its letters,
from detection on pieces of at most a few hundred characters (a paragraph, or a stretch of a long
one), each judged on its start. The language holding most of the letters is the document's: a
Russian article with a long English quote is Russian.

A short text (fewer than ``min_letters`` letters: a headline, a caption) is not refused out of
hand: lingua judges it among the languages whose alphabets can write it, and a confident verdict
stands. What it must never do is label a lone word (a name, «Минск») from its spelling alone.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from lingua import ConfidenceValue, IsoCode639_1, LanguageDetector, LanguageDetectorBuilder

from shared.messages import LanguageShare
from shared.settings import DEFAULT_FULL_MODEL_LANGUAGES

VERSION = "6"
UNDETERMINED = "und"
# Detection is linear in text length and a news lead settles the language; the tail adds cost,
# not accuracy.
MAX_CHARS = 4000
# A piece judged on its own: a paragraph, or a stretch of a longer one. lingua is as sure on a
# few hundred characters as on more, and a long paragraph judged only by its start would give all
# its letters to the language it starts in (an English quote opening a Russian paragraph).
MAX_PIECE_CHARS = 500
# Characters of a piece lingua reads: its verdict on a few sentences is as sure as on more, and
# reading all of every piece made the step a fifth slower than reading each paragraph's first
# 500 characters did. The piece's letters all count for the language so found.
PIECE_SAMPLE_CHARS = 250
# Pieces judged per document, at most, spread evenly over it: each lingua call costs 0.1-0.5 ms,
# so a file of a million short lines took minutes, and a few hundred pieces estimate the shares
# as well as all of them. A news article has a few dozen.
MAX_PIECES = 256
# Letters Kazakh has and Ukrainian/Belarusian lack. lingua scores some Ukrainian sentences as
# Kazakh with full confidence (measured: 8 of 200 in the lingua test sentences); a "Kazakh" text
# without any of these letters is re-decided without Kazakh.
_KAZAKH_LETTERS = frozenset("әғқңөұүһӘҒҚҢӨҰҮҺ")
# Letters each Cyrillic language's alphabet lacks (Russian has no і/ї/є/ґ/ў, Ukrainian no
# ё/ъ/ы/э/ў, Belarusian no и/щ/ъ/ї/є, Kazakh no ї/є/ґ/ў). Used on short texts only, where one
# such letter is evidence lingua's scores on a few words do not weigh enough («Вот и он.»: 0.49
# Russian, and 0.25 to Kazakh and Belarusian, which has no «и»). A long text may quote a name in
# another alphabet («Київ» in Russian news), so there lingua's verdict stands alone.
# The languages lingua judges with all its models by default (``Settings.language_full_models``).
# lingua judges a text of under 120 letters with its unigram to fivegram models, ~22 MB of
# memory a language, and a longer one with its trigram models alone, in any mode. Russian,
# Belarusian and Ukrainian share most of their letters and words, and a short line needs all
# the models to tell them apart; the other configured languages (German, English, Polish,
# Kazakh) differ in letters and trigrams, and lingua's low-accuracy mode, trigrams only, tells
# them apart on all but the shortest lines («It rains.» is ``und``). Their full models cost an
# enrich worker 80 MB, a fifth of its memory, for those lines.
FULL_MODEL_LANGUAGES = frozenset(DEFAULT_FULL_MODEL_LANGUAGES)
# The languages lingua knows that are written in Cyrillic.
_CYRILLIC_SCRIPT = frozenset({"be", "bg", "kk", "mk", "mn", "ru", "sr", "uk"})
_NOT_IN_ALPHABET = {
    "ru": frozenset("іїєґўІЇЄҐЎ"),
    "uk": frozenset("ёъыэўЁЪЫЭЎ"),
    "be": frozenset("ищъїєИЩЪЇЄ"),
    "kk": frozenset("їєґўЇЄҐЎ"),
}
# Words a short text needs to be judged: a single word is a name, a heading or a label, spelled
# alike in several of the languages («Минск», «Фото», «Berlin»), so its spelling says where it
# is used, not what language the line is in.
SHORT_MIN_WORDS = 2
_WORD = re.compile(r"[^\W\d_]+")
# Latin words with only spaces, digits and punctuation between them; possessive, so a run that
# meets a Cyrillic letter gives up at once instead of backtracking through it.
_LATIN_RUN = re.compile(r"[A-Za-z\u00c0-\u024f]++(?:[\W\d_]++[A-Za-z\u00c0-\u024f]++)*+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# Letters a Latin run inside Cyrillic text needs to be judged apart: about ten words, a quote
# rather than a name or an abbreviation.
MIN_QUOTE_LETTERS = 60


@dataclass(frozen=True)
class LanguageGuess:
    language: str
    confidence: float


@lru_cache(maxsize=8)
def _tiers(
    languages: tuple[str, ...], full_models: frozenset[str]
) -> tuple[tuple[str, ...], frozenset[str]]:
    """The configured languages lingua judges with all its models (those in ``full_models``),
    and those it recognises on trigrams only. One tier, the whole set in full, when fewer than
    two of the languages have full models or none is trigram-only."""
    full = tuple(code for code in languages if code in full_models)
    recognised = frozenset(languages) - frozenset(full)
    if len(full) < 2 or not recognised:
        return languages, frozenset()
    return full, recognised


@lru_cache(maxsize=8)
def detector_for(languages: tuple[str, ...]) -> LanguageDetector:
    """A detector among ``languages`` in lingua's high-accuracy mode: one per process and
    language set, its models loaded lazily and shared by every detector of the process."""
    return LanguageDetectorBuilder.from_iso_codes_639_1(*_codes(languages)).build()


@lru_cache(maxsize=8)
def _recogniser_for(languages: tuple[str, ...]) -> LanguageDetector:
    """lingua in low-accuracy mode (trigrams only) over every configured language: says whether
    a text is in one of the trigram-only languages."""
    return (
        LanguageDetectorBuilder.from_iso_codes_639_1(*_codes(languages))
        .with_low_accuracy_mode()
        .build()
    )


def preload_models(
    languages: tuple[str, ...], full_models: frozenset[str] = FULL_MODEL_LANGUAGES
) -> None:
    """Load every model of ``languages`` now, for a worker to do once before it forks.

    lingua loads a model the first time a text needs it: a text's script and length decide
    which (one Latin warm-up sentence left every Cyrillic model to each prefork child, which
    then spent 1-2 s on its first Russian document, inside the stage's time limit, and held
    its own copy). Loaded models live in one store that every detector of the process shares
    (lingua's documented behaviour), so the detectors built here only fill that store and are
    dropped; ``detector_for``'s and ``_recogniser_for``'s find the models there. The
    trigram-only languages get their trigram models and nothing else.
    """
    full, recognised = _tiers(languages, full_models)
    LanguageDetectorBuilder.from_iso_codes_639_1(
        *_codes(full)
    ).with_preloaded_language_models().build()
    if recognised:
        LanguageDetectorBuilder.from_iso_codes_639_1(
            *_codes(languages)
        ).with_low_accuracy_mode().with_preloaded_language_models().build()


def _codes(languages: Iterable[str]) -> list[IsoCode639_1]:
    return [getattr(IsoCode639_1, code.upper()) for code in languages]


def _may_be_recognised(sample: str, recognised: frozenset[str]) -> bool:
    """Whether the text could be in one of the trigram-only languages: Kazakh only with a letter
    of its own (as ``_best`` rules), a language of another script only without Cyrillic (a
    piece is one script: ``pieces`` cuts quotes out), a Cyrillic one only with it. A Russian,
    Belarusian or Ukrainian text is then judged by the full tier alone, in one lingua call."""
    cyrillic = _CYRILLIC.search(sample) is not None
    for code in recognised:
        if code == "kk":
            if not _KAZAKH_LETTERS.isdisjoint(sample):
                return True
        elif cyrillic == (code in _CYRILLIC_SCRIPT):
            return True
    return False


def _ranked(
    sample: str, languages: tuple[str, ...], full_models: frozenset[str]
) -> list[ConfidenceValue]:
    """lingua's confidence in each language, best first: a trigram-only language when the
    trigram tier puts it first, else the full tier's scores of its languages."""
    full, recognised = _tiers(languages, full_models)
    if recognised and _may_be_recognised(sample, recognised):
        values = _recogniser_for(languages).compute_language_confidence_values(sample)
        if values and values[0].language.iso_code_639_1.name.lower() in recognised:
            return values
    return detector_for(full).compute_language_confidence_values(sample)


def _values(
    sample: str, languages: tuple[str, ...], full_models: frozenset[str]
) -> list[tuple[str, float]]:
    """lingua's confidence in each language, best first (empty when it cannot say)."""
    return [
        (value.language.iso_code_639_1.name.lower(), float(value.value))
        for value in _ranked(sample, languages, full_models)
    ]


def _best(sample: str, languages: tuple[str, ...], full_models: frozenset[str]) -> LanguageGuess:
    # Only the first value is read: converting all of them (``_values``) costs on every piece.
    values = _ranked(sample, languages, full_models)
    if not values:
        return LanguageGuess(UNDETERMINED, 0.0)
    best = values[0]
    code = best.language.iso_code_639_1.name.lower()
    if code == "kk" and len(languages) > 2 and not _KAZAKH_LETTERS.intersection(sample):
        return _best(sample, tuple(lang for lang in languages if lang != "kk"), full_models)
    return LanguageGuess(code, round(float(best.value), 4))


def _best_short(
    sample: str, languages: tuple[str, ...], full_models: frozenset[str]
) -> LanguageGuess:
    """lingua's verdict on a short text among the languages that can write its letters.

    lingua's confidences sum to one over the configured languages; the ones left once the
    impossible languages go are scaled to sum to one again (the same evidence, given that the
    text is not in those), so a text lingua split between Russian and Belarusian is Russian when
    it holds an «и». When lingua's own first choice cannot write the text, the letters and the
    scores disagree (a mixed line, «Минск Мінск»): ``und``, with lingua's confidence in it."""
    values = _values(sample, languages, full_models)
    if not values:
        return LanguageGuess(UNDETERMINED, 0.0)
    letters = frozenset(sample)
    possible = [(code, value) for code, value in values if _can_write(code, letters)]
    total = sum(value for _, value in possible)
    if not possible or possible[0] != values[0] or total <= 0.0:
        return LanguageGuess(UNDETERMINED, round(values[0][1], 4))
    code, value = possible[0]
    return LanguageGuess(code, round(value / total, 4))


def _can_write(code: str, letters: frozenset[str]) -> bool:
    """Whether language ``code``'s alphabet has every Cyrillic letter of a short text (Kazakh:
    and the text has a letter only Kazakh has, as in ``_best``)."""
    if _NOT_IN_ALPHABET.get(code, frozenset()) & letters:
        return False
    return code != "kk" or bool(_KAZAKH_LETTERS & letters)


def detect_language(
    text: str,
    languages: tuple[str, ...],
    *,
    min_confidence: float,
    min_letters: int,
    full_models: frozenset[str] = FULL_MODEL_LANGUAGES,
) -> LanguageGuess:
    """The most likely language of ``text`` as ISO 639-1, or ``und`` with the best confidence.

    A text of fewer than ``min_letters`` letters is judged by ``_best_short`` when it has at
    least ``SHORT_MIN_WORDS`` words, and is ``und`` otherwise."""
    sample = text[:MAX_CHARS]
    letters = _letters(sample)
    if letters >= min_letters:
        return _judged(_best(sample, languages, full_models), min_confidence)
    if letters == 0 or len(_WORD.findall(sample)) < SHORT_MIN_WORDS:
        return LanguageGuess(UNDETERMINED, 0.0)
    return _judged(_best_short(sample, languages, full_models), min_confidence)


def _letters(text: str) -> int:
    # map() over the str method, not a generator: this runs on every piece.
    return sum(map(str.isalpha, text))


def _judged(guess: LanguageGuess, min_confidence: float) -> LanguageGuess:
    """``guess``, or ``und`` with its confidence when that is below ``min_confidence``."""
    if guess.confidence < min_confidence:
        return LanguageGuess(UNDETERMINED, guess.confidence)
    return guess


@dataclass(frozen=True)
class LanguageProfile:
    document: LanguageGuess
    shares: list[LanguageShare]


def pieces(paragraph: str) -> Iterator[str]:
    """``paragraph`` in stretches of at most ``MAX_PIECE_CHARS``, cut around a long run of Latin
    words inside Cyrillic text (a quote: ``_script_runs``), then after a sentence's end in the
    second half of a stretch, else at a space there, else at the limit. Together they are the
    paragraph; linear in its length."""
    for run in _script_runs(paragraph):
        start = 0
        while len(run) - start > MAX_PIECE_CHARS:
            limit = start + MAX_PIECE_CHARS
            half = start + MAX_PIECE_CHARS // 2
            cut = max(run.rfind(end, half, limit) for end in (". ", "! ", "? ", "… "))
            if cut >= 0:
                cut += 1
            elif (cut := run.rfind(" ", half, limit)) < 0:
                cut = limit
            yield run[start:cut]
            start = cut
        yield run[start:] if start else run


def _script_runs(paragraph: str) -> Iterator[str]:
    """``paragraph`` cut before and after each run of Latin words of at least
    ``MIN_QUOTE_LETTERS`` letters when it also holds Cyrillic: lingua gives a piece one
    language, so a Russian sentence and the English quote that follows it in one piece would
    lend all their letters to whichever wins. Shorter Latin runs (names, «USD», a title) stay
    where they are."""
    if not _CYRILLIC.search(paragraph):
        yield paragraph
        return
    start = 0
    for match in _LATIN_RUN.finditer(paragraph):
        if _letters(match.group()) >= MIN_QUOTE_LETTERS:
            if match.start() > start:
                yield paragraph[start : match.start()]
            yield match.group()
            start = match.end()
    yield paragraph[start:] if start else paragraph


def language_profile(
    paragraphs: Sequence[str],
    languages: tuple[str, ...],
    *,
    min_confidence: float,
    min_letters: int,
    full_models: frozenset[str] = FULL_MODEL_LANGUAGES,
) -> LanguageProfile:
    """The document's language and each language's share of its letters.

    Each piece (a paragraph, or a stretch of at most ``MAX_PIECE_CHARS`` of a long one) is judged
    on its own and weighs its letters: spaces, digits and punctuation say nothing of a language
    (English spends more of its characters on spaces than Russian). Pieces with fewer than
    ``min_letters`` letters (datelines, captions) are left out rather than counted as ``und``; a
    piece long enough but below the confidence threshold counts as ``und``. Of more than
    ``MAX_PIECES`` pieces an evenly spread sample is judged. The language with the most letters
    is the document's, with its pieces' letter-weighted confidence, unless ``und`` holds more
    than half of them: then (or when nothing could be judged) the start of the text decides.
    Judging the whole text again only to confirm would repeat the work (it was a third of the
    enrich stage's time).
    """
    # A piece shorter than min_letters characters cannot have min_letters letters: the length
    # filter comes before the sample so that the sample is of pieces that can count.
    candidates = [
        piece
        for paragraph in paragraphs
        for piece in pieces(paragraph)
        if len(piece) >= min_letters
    ]
    if len(candidates) > MAX_PIECES:
        step = len(candidates) / MAX_PIECES
        candidates = [candidates[int(i * step)] for i in range(MAX_PIECES)]
    sizes: dict[str, int] = defaultdict(int)
    confidence: dict[str, float] = defaultdict(float)
    for piece in candidates:
        letters = _letters(piece)
        if letters < min_letters:
            continue
        guess = _judged(_best(piece[:PIECE_SAMPLE_CHARS], languages, full_models), min_confidence)
        sizes[guess.language] += letters
        confidence[guess.language] += guess.confidence * letters
    total = sum(sizes.values())
    shares = sorted(
        (LanguageShare(code=code, share=round(n / total, 4)) for code, n in sizes.items()),
        key=lambda share: (-share.share, share.code),
    )
    judged = [share for share in shares if share.code != UNDETERMINED]
    if judged and sizes[UNDETERMINED] * 2 <= total:
        top = judged[0].code
        document = LanguageGuess(top, round(confidence[top] / sizes[top], 4))
    else:
        document = detect_language(
            _head(paragraphs, MAX_CHARS),
            languages,
            min_confidence=min_confidence,
            min_letters=min_letters,
            full_models=full_models,
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
