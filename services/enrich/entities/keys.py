"""Keys for names that only enrich uses: vowel keys for short names, slugs for unlinked ids.

The script-independent keys (folding, transliteration, phonetic skeletons) are in
``shared.names``, since the index compares searched names by them too; they are re-exported here
for the entity modules. Changing a rule changes stored ids: bump ``entities.VERSION``. (Case forms
of place names, «Беларуси» and «Беларусь», are ``declension``'s.)
"""

from __future__ import annotations

import re
from functools import lru_cache

from shared import caches
from shared.names import (
    fold,
    has_cyrillic,
    latin_form,
    name_key,
    phonetic_key,
    strip_accents,
    transliterate,
)

__all__ = [
    "fold",
    "has_cyrillic",
    "latin_form",
    "name_key",
    "phonetic_key",
    "slug",
    "transliterate",
    "vowel_key",
]


@lru_cache(maxsize=caches.WORD_KEYS)
def vowel_key(name: str, language: str) -> str:
    """A stricter key that keeps vowel positions, for short names whose skeleton says little."""
    latin = latin_form(name, language)
    for old, new in (("ya", "a"), ("ye", "e"), ("yu", "u"), ("yo", "o"), ("iy", "i"),
                     ("yy", "i"), ("y", "i"), ("zh", "sh"), ("z", "s"), ("w", "v")):  # fmt: skip
        latin = latin.replace(old, new)
    return re.sub(r"(.)\1", r"\1", re.sub(r"[^a-z]", "", latin))


def slug(text: str) -> str:
    """A readable ASCII id part for an entity we could not link: «Восточная Европа» ->
    «vostochnaya-evropa»."""
    latin = strip_accents(transliterate(text))
    return re.sub(r"[^a-z0-9]+", "-", latin).strip("-")
