"""Belarusian and Ukrainian word forms, which Snowball has no stemmer for.

Ukrainian goes through pymorphy3 with the dictionary of pymorphy3-dicts-uk (the data ships in
the package): a document word becomes its most likely lemma, and a query word every lemma that
any form of any of its lexemes is indexed under, so «Київ» finds «Києві» although pymorphy3
reads «Києві» first as a form of «кий». Belarusian has no dictionary in any package this
project can install (simplemma, pymorphy3 and Snowball have none), so it gets a light suffix
stemmer here, written from the language's inflection tables: it strips one case, number or
person ending after the first vowel, as Snowball's Russian stemmer does. Both are measured by
``bench/stemming.py``.

Pure functions over already folded words (``stemming._fold``); nothing here touches storage.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import TYPE_CHECKING

from shared import caches

if TYPE_CHECKING:
    import pymorphy3

_BE_VOWELS = frozenset("аеёіоуыэюя")

# Reflexive verb endings first («адбываецца», «адбываюцца», «змяніўся»), then one inflection.
_BE_REFLEXIVE = ("ецца", "іцца", "ацца", "уцца", "юцца", "яцца", "цца", "ся")
# Case endings of nouns and adjectives (all genders, both numbers) and the person, tense and
# infinitive endings of verbs, from the Belarusian inflection tables. Akanne writes unstressed
# о as а, so endings come in both spellings where stress moves (-ом / -ам).
_BE_ENDINGS = tuple(
    sorted(
        {
            # nouns
            "амі", "ямі", "ах", "ях", "ам", "ям", "аў", "яў", "оў", "еў", "ой", "ей", "ою",
            "ею", "ай", "яй", "ом", "ем", "а", "я", "у", "ю", "е", "о", "ы", "і", "ь",
            # adjectives
            "ага", "яга", "ога", "аму", "яму", "ому", "ымі", "імі", "ая", "яя", "ое", "ае",
            "ее", "ыя", "ія", "ую", "юю", "ым", "ім", "ых", "іх",
            # genitive plural of nouns in -ія / -ыя («кампаній», «інвестыцый»)
            "ій", "ый",
            # verbs
            "аць", "яць", "іць", "ыць", "ець", "уць", "юць", "ла", "лі", "ло", "аюць",
            "аем", "аеце", "аеш", "уе", "юе", "еш", "еце", "іш", "іце", "ў",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip
# Past-tense endings, only after a vowel («зрабіла», «былі», «адкрыў»): after a consonant they
# are a noun's л and its case ending («рублі», «сяло»).
_BE_AFTER_VOWEL = frozenset({"ла", "лі", "ло", "ў"})
# A stem keeps at least this many letters, so short words («мы», «ён», «дзе») stay whole.
_BE_MIN_STEM = 2


def _strip_one(word: str, region: int, endings: tuple[str, ...]) -> str:
    for ending in endings:
        stem = len(word) - len(ending)
        if not word.endswith(ending) or stem < max(region, _BE_MIN_STEM):
            continue
        if ending in _BE_AFTER_VOWEL and (
            stem < _BE_MIN_STEM + 1 or word[stem - 1] not in _BE_VOWELS
        ):
            continue
        return word[:stem]
    return word


@lru_cache(maxsize=caches.LEMMAS)
def belarusian_stem(word: str) -> str:
    """The stem of a folded Belarusian word: «тэхнапаркаў», «тэхнапарку» -> «тэхнапарк»."""
    first_vowel = next((i for i, char in enumerate(word) if char in _BE_VOWELS), None)
    if first_vowel is None:  # no vowel: an abbreviation or a number, not an inflected word
        return word
    region = first_vowel + 1
    stripped = _strip_one(word, region, _BE_REFLEXIVE)
    stem = _strip_one(stripped, region, _BE_ENDINGS)
    # A stem vowel і / ы before the ending («кампані-я», «павялічы-ла») goes too, so that the
    # forms that end in it and those that do not share one stem.
    if stem != word and stem[-1:] in ("і", "ы") and len(stem) - 1 >= max(region, _BE_MIN_STEM):
        stem = stem[:-1]
    # Belarusian softens т and д to ц and дз before е and і («праект» -> «у праекце», «горад» ->
    # «у горадзе»); the stem is written with the hard consonant whichever form it came from.
    if stem.endswith("дз"):
        return stem[:-1]
    return stem[:-1] + "т" if stem.endswith("ц") else stem


# pymorphy3's analyzer loads its dictionary (about 30 MB resident) on first use; one per
# process, built under a lock so two threads do not both load it.
_analyzer_lock = threading.Lock()
_analyzer: pymorphy3.MorphAnalyzer | None = None


def _ukrainian() -> pymorphy3.MorphAnalyzer:
    global _analyzer  # noqa: PLW0603  # one lazily built analyzer per process, see above
    if _analyzer is None:
        with _analyzer_lock:
            if _analyzer is None:
                import pymorphy3  # noqa: PLC0415  # not at import: loading it costs 30 MB

                _analyzer = pymorphy3.MorphAnalyzer(lang="uk")
    return _analyzer


def preload_ukrainian() -> None:
    """Load the Ukrainian dictionary now: the index worker does so before it forks, so that its
    children share one copy instead of each loading its own at its first Ukrainian document."""
    _ukrainian()


@lru_cache(maxsize=caches.LEMMAS)
def ukrainian_lemma(word: str) -> str:
    """The most likely lemma of a folded Ukrainian word: what a document stores for it."""
    parses = _ukrainian().parse(word)
    return str(parses[0].normal_form).replace("\u0451", "\u0435") if parses else word


@lru_cache(maxsize=caches.QUERY_FORMS)
def ukrainian_query_forms(word: str) -> frozenset[str]:
    """Every lemma a document may store for a form of ``word``: the lemma of each form of each
    of its lexemes. Wider than the word's own lemmas because a document word is stored under
    its most likely lemma only, which for another form of the same word may be another one."""
    forms = {ukrainian_lemma(word)}
    for parse in _ukrainian().parse(word):
        forms.update(ukrainian_lemma(str(form.word)) for form in parse.lexeme)
    return frozenset(forms)
