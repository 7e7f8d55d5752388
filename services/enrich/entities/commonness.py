"""How common a word is in a language: wordfreq's Zipf frequency, from the data its wheel ships.

A gazetteer name or a first-name look-alike that is also a common word of the document's
language («Waren», «Mitte», «Seinen», «National») needs more evidence before it counts as a
place or a person; ``merge`` and ``persons`` ask here. Zipf is log10 of occurrences per billion
words: 7 for «the», 3 for a word seen once per million.

wordfreq has no Belarusian list; Belarusian words are looked up in the Russian and Ukrainian
lists, which share most of the common words that are also place names. Reads only wordfreq's
files, once per language per process, into a ``StringTable`` (word -> which of the list's few
hundred frequencies it has): a few MB for the four lists where wordfreq's dicts took 27, and
nothing a prefork child copies as it reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import wordfreq

from services.enrich.entities.string_table import StringTable

_LISTS = {"de": ("de",), "en": ("en",), "ru": ("ru",), "uk": ("uk",), "be": ("ru", "uk")}
# wordfreq's "small" lists hold the words of Zipf 3 and above (one in a million), which is all a
# threshold here ever needs; the large lists would cost ten times the memory.
_WORDLIST = "small"


@dataclass(frozen=True)
class _Frequencies:
    """One word list: each word's position in ``values``, its frequency (0 if not listed)."""

    positions: StringTable
    values: tuple[float, ...]

    def get(self, word: str) -> float:
        position = self.positions.get(word)
        return 0.0 if position is None else self.values[position]


@cache
def _frequencies(language: str) -> _Frequencies:
    # The packed list itself, not ``get_frequency_dict``: wordfreq keeps every list and dict it
    # returns in a cache of its own, for good. The list is buckets of a centibel each, the
    # n-th holding the words of frequency ``cB_to_freq(-n)``, which is what the dict gives.
    buckets = wordfreq.read_cBpack(wordfreq.available_languages(_WORDLIST)[language])
    return _Frequencies(
        StringTable((word, n) for n, bucket in enumerate(buckets) for word in bucket),
        tuple(wordfreq.cB_to_freq(-n) for n in range(len(buckets))),
    )


def load() -> None:
    """Read every list now (the enrich worker does so before it forks)."""
    for languages in _LISTS.values():
        for language in languages:
            _frequencies(language)


def zipf(word: str, language: str) -> float:
    """The word's Zipf frequency in the language (0 for a rare word or a language without a
    list); case-insensitive, as wordfreq's lists are."""
    lower = word.lower()
    best = 0.0
    for source in _LISTS.get(language, ()):
        frequency = _frequencies(source).get(lower)
        if frequency > 0:
            best = max(best, math.log10(frequency) + 9)
    return best
