"""Word splitting and stemming shared by indexing and querying.

Documents are stemmed with their own language: Snowball for Russian, German and English,
``lemmas`` for Belarusian and Ukrainian, which Snowball has no stemmer for. A query's language is
unknown, so a query word is expanded into its stems under every stemmer that fits its script.
Both sides must split and fold words identically or stems will not meet, so everything that does
so lives here. This module never touches storage.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from typing import cast

import Stemmer

from services.index.lemmas import belarusian_stem, ukrainian_lemma, ukrainian_query_forms

# ISO 639-1 code -> Snowball algorithm (PostgreSQL has a text search configuration of the same
# name for each). Other languages are lowercased only: a wrong stemmer mangles words worse than
# none.
LANGUAGE_ALGORITHMS: dict[str, str] = {"ru": "russian", "de": "german", "en": "english"}

# Languages stemmed here in Python only (``lemmas``): neither Snowball nor PostgreSQL has them.
PYTHON_ALGORITHMS: dict[str, str] = {"be": "belarusian", "uk": "ukrainian"}
_PYTHON_STEMMERS: dict[str, Callable[[str], str]] = {
    "belarusian": belarusian_stem,
    "ukrainian": ukrainian_lemma,
}

# Every stemmer a document may have been indexed with, for queries whose language is unknown.
STEMMING_ALGORITHMS: tuple[str, ...] = (
    *LANGUAGE_ALGORITHMS.values(),
    *PYTHON_ALGORITHMS.values(),
)

_CYRILLIC_ALGORITHMS = ("russian", "belarusian", "ukrainian")
_LATIN_ALGORITHMS = ("german", "english")

# A word is a run of letters and digits. Combining diacritics are kept inside it so decomposed
# text ("u" + U+0308) stays one word, and soft hyphens are kept (then dropped in _fold) because
# web copy hides them inside words.
_COMBINING = r"\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_SOFT_HYPHEN = "\u00ad"
_WORD = re.compile(rf"(?:[^\W_]|[{_COMBINING}{_SOFT_HYPHEN}])+")
# Cyrillic yo and ie, escaped because the two letters look alike in most fonts.
_YO, _IE = "\u0451", "\u0435"
_DOTTED_I = "i\u0307"


# PyStemmer objects are not thread-safe, so each thread builds its own, once, and keeps it here.
# Per-thread rather than a lock: a prefork worker has one thread anyway, and threads never wait
# on each other.
_local = threading.local()


def _stemmer(algorithm: str) -> Callable[[str], str]:
    """Return this thread's ``stemWord`` for ``algorithm``, building the stemmer on first use."""
    python_stemmer = _PYTHON_STEMMERS.get(algorithm)
    if python_stemmer is not None:  # pure functions, cached and thread-safe as they are
        return python_stemmer
    cache = cast("dict[str, Callable[[str], str]] | None", getattr(_local, "stemmers", None))
    if cache is None:
        cache = {}
        _local.stemmers = cache
    stem = cache.get(algorithm)
    if stem is None:
        stem = cast("Callable[[str], str]", Stemmer.Stemmer(algorithm).stemWord)
        cache[algorithm] = stem
    return stem


def _fold(word: str) -> str:
    # NFC so decomposed and composed umlauts compare equal. Umlauts and ß are left in place: the
    # German stemmer expects them and folds them itself. Yo is folded to ie for every language
    # because a query's language is unknown and Russian text mostly writes ie for yo anyway.
    # "İ".lower() is "i" plus a combining dot, which would keep "İstanbul" from matching the
    # "istanbul" people type; the dot is dropped.
    word = unicodedata.normalize("NFC", word.replace(_SOFT_HYPHEN, ""))
    return word.lower().replace(_DOTTED_I, "i").replace(_YO, _IE)


def iter_words(text: str) -> Iterator[tuple[int, int, str]]:
    """Yield ``(start, end, word)`` per word: offsets into ``text``, the word itself folded."""
    for match in _WORD.finditer(text):
        word = _fold(match.group())
        if word:
            yield match.start(), match.end(), word


def tokenize(text: str) -> list[str]:
    """Split ``text`` into words, lowercased, NFC-normalised, with Cyrillic yo folded to ie."""
    return [word for _, _, word in iter_words(text)]


def stem_words(words: Sequence[str], language: str) -> list[str]:
    """Stem already tokenized ``words`` with ``language``'s stemmer, or return them unchanged."""
    language = language.lower()
    algorithm = LANGUAGE_ALGORITHMS.get(language) or PYTHON_ALGORITHMS.get(language)
    if algorithm is None:
        return list(words)
    stem = _stemmer(algorithm)
    return [stem(word) for word in words]


def stem_word(word: str, algorithm: str) -> str:
    """Stem one already folded ``word`` with ``algorithm`` (e.g. "russian", "belarusian")."""
    return _stemmer(algorithm)(word)


def stem_text(text: str, language: str) -> str:
    """Return the stems of ``text``'s words, space-joined: what the full-text index stores."""
    return " ".join(stem_words(tokenize(text), language))


def _is_cyrillic(char: str) -> bool:
    return "\u0400" <= char <= "\u052f"


def _is_latin(char: str) -> bool:
    return char.isalpha() and unicodedata.name(char, "").startswith("LATIN")


def query_variants(term: str) -> set[str]:
    """Return every form under which a query word may have been indexed.

    That is its folded form (how documents in unstemmed languages store it) plus its stem under
    each stemmer for its script: Russian, Belarusian and Ukrainian for Cyrillic, German and
    English for Latin. For Ukrainian that is every lemma a form of the word may be stored under
    (``lemmas.ukrainian_query_forms``), since a document stores one lemma per word.
    """
    word = _fold(term)
    if not word:
        return set()
    algorithms: list[str] = []
    cyrillic = any(_is_cyrillic(char) for char in word)
    if cyrillic:
        algorithms.extend(_CYRILLIC_ALGORITHMS)
    if any(_is_latin(char) for char in word):
        algorithms.extend(_LATIN_ALGORITHMS)
    variants = {word} | {_stemmer(algorithm)(word) for algorithm in algorithms}
    return variants | ukrainian_query_forms(word) if cyrillic else variants
