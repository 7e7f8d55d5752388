"""Person keys and ids: the same person gets the same id in every script and transliteration.

Person ids are ``per:<first>-<last>`` from phonetic keys of the nominative name (``keys``), so
«Надежда Лазаревич», «Nadeschda Lasarewitsch» and «Nadezhda Lazarevich» are one person; Belarusian
and Ukrainian first names that differ from the Russian by more than vowels go through
``data/first_name_variants.toml``; a surname-only mention takes the id of the full name it refers
to in the same document. Changing a rule here changes stored ids: bump ``entities.VERSION``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from functools import cache, lru_cache
from importlib import resources

from services.enrich.entities.keys import fold, has_cyrillic, name_key, slug
from shared import caches

FIRST_NAME_VARIANTS_FILE = "first_name_variants.toml"
NAME_WORD = re.compile(r"[^\W\d_]+")
PATRONYMIC = re.compile(
    r"(?:ович|евич|овна|евна|ична|инична|івна|ївна|авіч|евіч|аўна|еўна|"
    r"owitsch|ewitsch|ovich|evich|ovna|evna|owna|ewna)$",
    re.IGNORECASE,
)


# Case endings of first names in ru/be/uk and the nominative endings they may come from:
# «Романом» -> «Роман», «Надзеі» -> «Надзея», «Михайлові» -> «Михайло».
_NAME_CASES = (
    ("ом", ("",)), ("ем", ("", "й")), ("ам", ("",)), ("ым", ("",)), ("ім", ("",)),
    ("ові", ("", "о")), ("еві", ("й",)), ("ою", ("а",)), ("ей", ("я",)), ("ой", ("а",)),
    ("у", ("", "а")), ("ю", ("й", "я")), ("а", ("",)), ("я", ("й", "ь")), ("і", ("я", "а")),
    ("и", ("а", "я")), ("ы", ("а",)), ("е", ("а", "я")),
)  # fmt: skip
# Instrumental and dative endings that put an extra consonant into the phonetic key
# («Головченком», «Мишустиным»); stripped before keying a name word in Cyrillic.
_KEY_ENDINGS = ("ом", "ем", "ам", "ым", "им", "ім", "ою", "ею", "єю", "ой", "ей", "ові", "еві")


@lru_cache(maxsize=caches.WORD_KEYS)
def nominatives(word: str) -> tuple[str, ...]:
    """The word and, in Cyrillic, the nominatives its case ending allows."""
    if not has_cyrillic(word) or len(word) < 4:
        return (word,)
    folded = fold(word)
    forms = [word]
    for ending, nominative_endings in _NAME_CASES:
        if folded.endswith(ending) and len(folded) - len(ending) >= 3:
            forms.extend(folded[: -len(ending)] + e for e in nominative_endings)
    return tuple(forms)


# Cached: every capitalised word of a text is keyed to look for lone surnames (``persons``), and
# news repeats its names.
@lru_cache(maxsize=caches.WORD_KEYS)
def word_key(word: str, language: str) -> str:
    """Phonetic key of one name word, instrumental or dative endings aside («Романом»)."""
    folded = fold(word)
    if has_cyrillic(folded):
        for ending in _KEY_ENDINGS:
            if folded.endswith(ending) and len(folded) - len(ending) >= 3:
                folded = folded[: -len(ending)]
                break
    return name_key(folded, language)


@cache
def _first_name_variants() -> dict[str, dict[str, str]]:
    data = tomllib.loads(
        resources.files("services.enrich")
        .joinpath("data", FIRST_NAME_VARIANTS_FILE)
        .read_text("utf-8")
    )
    return {
        language: {fold(variant): fold(russian) for variant, russian in table.items()}
        for language, table in data.items()
    }


def russian_first_name(word: str, language: str) -> str | None:
    """The Russian form of a Belarusian or Ukrainian first name in any case («Надзеі» ->
    «надежда»), or None when ``word`` is not one of ``data/first_name_variants.toml``."""
    variants = _first_name_variants().get(language)
    if not variants:
        return None
    for form in nominatives(word):
        russian = variants.get(fold(form))
        if russian is not None:
            return russian
    return None


def name_parts(normal: str) -> list[str]:
    """The words of a person's name that identify them: no initials, no patronymic."""
    words = [w for w in NAME_WORD.findall(normal) if len(w) > 1]
    if len(words) >= 3:
        words = [words[0], *[w for w in words[1:-1] if not PATRONYMIC.search(w)], words[-1]]
    return words


def person_key(normal: str, language: str) -> tuple[str, str]:
    """(first-name key, surname key) of a nominative name; the first is '' for a lone name."""
    parts = name_parts(normal)
    if not parts:
        return "", slug(normal)
    last = word_key(parts[-1], language) or slug(parts[-1])
    if len(parts) < 2:
        return "", last
    # Keyed by its Russian form where Belarusian or Ukrainian spell the name differently
    # («Уладзімір», «Микола»): the phonetic key alone cannot see that they are one name.
    russian = russian_first_name(parts[0], language)
    first = name_key(russian, "ru") if russian else word_key(parts[0], language) or slug(parts[0])
    return first, last


def person_ids(keys: Sequence[tuple[str, str]]) -> list[str]:
    """Ids for one document's person mentions; a lone surname borrows its full name's id."""
    full_by_surname: dict[str, str] = {}
    for first, last in keys:
        if first:
            full_by_surname.setdefault(last, f"{first}-{last}")
    return [
        "per:" + (f"{first}-{last}" if first else full_by_surname.get(last, last))
        for first, last in keys
    ]
