"""How common a word is in a language: wordfreq's Zipf frequency, from the data its wheel ships.

A gazetteer name or a first-name look-alike that is also a common word of the document's
language («Waren», «Mitte», «Seinen», «National») needs more evidence before it counts as a
place or a person; ``merge`` and ``persons`` ask here. Zipf is log10 of occurrences per billion
words: 7 for «the», 3 for a word seen once per million.

wordfreq has no Belarusian list; Belarusian words are looked up in the Russian and Ukrainian
lists, which share most of the common words that are also place names. Reads only wordfreq's
files, once per language per process.
"""

from __future__ import annotations

import math
from functools import cache

import wordfreq

_LISTS = {"de": ("de",), "en": ("en",), "ru": ("ru",), "uk": ("uk",), "be": ("ru", "uk")}
# wordfreq's "small" lists hold the words of Zipf 3 and above (one in a million), which is all a
# threshold here ever needs; the large lists would cost ten times the memory.
_WORDLIST = "small"


@cache
def _frequencies(language: str) -> dict[str, float]:
    return dict(wordfreq.get_frequency_dict(language, wordlist=_WORDLIST))


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
        frequency = _frequencies(source).get(lower, 0.0)
        if frequency > 0:
            best = max(best, math.log10(frequency) + 9)
    return best
