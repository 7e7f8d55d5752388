"""Declension classes of gazetteer names: which inflected text tokens are forms of a name token.

Gazetteer names are nominative; news text inflects them («в Минске», «из Беларуси», «з
Беларуссю», «Росії»). Each name token gets a base and a declension class from its ending, and a
text token matches when it is base + an ending of that class. Classes are by ending, not by
dictionary, so they also cover Belarusian and Ukrainian and names no dictionary knows. The class
keeps adjectives apart from nouns: «Минский» is not a form of «Минск». Pure functions; changing
a class changes which places are found: bump ``entities.VERSION`` when you do.
"""

from __future__ import annotations

from collections.abc import Iterator

from services.enrich.entities.keys import has_cyrillic


def _endings(spec: str) -> frozenset[str]:
    """Endings written as one string, ``0`` for no ending: a table reads better that way."""
    return frozenset("" if ending == "0" else ending for ending in spec.split())


_ENDINGS_BY_CLASS: dict[str, frozenset[str]] = {
    # Минск, Казахстан, Мінск (be: Мінскам, Мінску), Київ
    "hard": _endings("0 а у ом е ы ов ам ами ах і ові ем ї"),
    # Москва, Масква
    "a": _endings("а ы и е у ой ою ам ах ами і ай аю"),
    # Россия, Якутия, Росія, Расія
    "ya": _endings("я и ю ей ею е і ї єю яй яю ям ях"),
    # Беларусь, Білорусь, Мінськ, камень: soft stems, masculine and feminine alike;
    # «сю» is the Belarusian and Ukrainian instrumental «Беларуссю», «Білоруссю»
    "soft": _endings("ь и ью і сю ю я ем ём е ей ям ях ом ові"),
    # Сколково, Гродно, Осло: often indeclinable, sometimes declined (Сколкова, в Сколкове)
    "o": _endings("о а у ом е ам і ы"),
    # Китай, Уругвай
    "y": _endings("й я ю ем е і ї єм ям"),
    # adjectives in ru/be/uk: Великий, Нижний, Российская, Союзное, Вялікі, Велика
    "adj": _endings(
        "ий ый ой і ого его ому ему им ым ом ем ая яя ую юю ей ое ее ие ые их ых ими ыми "
        "ага ай аму ія а у ої ій ою ім е ы"
    ),
    # Latin script: German genitive -s/-es («Russlands»); English possessives are a separate
    # token
    "latin": _endings("0 s es"),
    # ... and a word in -e also the weak adjective's -n («der Russischen Föderation», «den
    # Vereinigten Staaten»). Only there: «Russia» + n is the English adjective «Russian».
    "latin_e": _endings("0 s es n"),
}
_UKRAINIAN_ADJ_ENDINGS = ("ська", "цька", "зька", "ське", "цьке", "зьке")
_ADJ_ENDINGS = ("ий", "ый", "ой", "ая", "яя", "ое", "ее", "ій", "ая", "ые", "ие", "і")
_ALL_ENDINGS = sorted(
    {ending for endings in _ENDINGS_BY_CLASS.values() for ending in endings}, key=len
)
MIN_BASE = 2


def base_and_class(token: str) -> list[tuple[str, str]]:  # noqa: PLR0911  (one return per class)
    """How a (folded) nominative name token declines: (base, class) pairs, usually one."""
    if not has_cyrillic(token):
        return [(token, "latin_e" if token.endswith("e") else "latin")]
    if len(token) <= 3:
        # Too short to decline safely («Ош», «Уфа» aside, these are mostly abbreviations).
        return [(token, "hard")]
    if token.endswith(_UKRAINIAN_ADJ_ENDINGS) and len(token) >= 6:
        # «Київська область» -> «Київській області», «Російська Федерація» -> «Російської
        # Федерації»: Ukrainian writes the adjective's ending as a noun's «-а».
        return [(token[:-1], "adj")]
    for ending in _ADJ_ENDINGS:
        if token.endswith(ending) and len(token) - len(ending) >= 3:
            return [(token[: -len(ending)], "adj")]
    last = token[-1]
    if last == "ь":
        base = token[:-1]
        pairs = [(base, "soft")]
        # Fleeting vowel: камень -> камня, Тюмень keeps it; offer both bases.
        if len(base) >= 4 and base[-2] == "е":
            pairs.append((base[:-2] + base[-1], "soft"))
        return pairs
    if last == "я":
        return [(token[:-1], "ya")]
    if last == "а":
        return [(token[:-1], "a")]
    if last in "оеё":
        return [(token[:-1], "o"), (token, "hard")]
    if last == "й":
        return [(token[:-1], "y")]
    if last in "иыуюі":
        # Plural or foreign names (Афины, Сочи, Баку): indeclinable enough.
        return [(token, "hard")]
    return [(base, "hard") for base in _hard_bases(token)]


# Ukrainian «і» of a closed last syllable is «о» (or «е», written «є» where «ї» stood) once an
# ending opens the syllable: Львів -> Львова, Харків -> Харкові, Київ -> Києва, Києві.
_OPENED_VOWEL = {"і": "о", "ї": "є"}


def _hard_bases(token: str) -> list[str]:
    """The bases a name token ending in a hard consonant declines from."""
    bases = [token]
    if len(token) >= 4 and token[-2] in "оеё":
        # Fleeting vowel: Орёл -> Орла, конец -> конца.
        bases.append(token[:-2] + token[-1])
    if len(token) >= 4 and token[-2] in _OPENED_VOWEL:
        bases.append(token[:-2] + _OPENED_VOWEL[token[-2]] + token[-1])
    return bases


def splits(token: str) -> Iterator[tuple[str, str]]:
    """Every (base, ending) split of a folded text token that some class could produce."""
    for ending in _ALL_ENDINGS:
        if not ending:
            yield token, ""
        elif token.endswith(ending) and len(token) - len(ending) >= MIN_BASE:
            yield token[: -len(ending)], ending


def ending_allowed(declension: str, ending: str) -> bool:
    return ending in _ENDINGS_BY_CLASS[declension]
