"""Script-independent keys for names: folding, transliteration, phonetic skeletons.

Everything here is a pure function of its arguments. These keys are what makes «Надежда
Лазаревич» (ru), «Nadeschda Lasarewitsch» (de) and «Nadezhda Lazarevich» (en) one person: enrich
builds person ids from them, and the index compares a searched name with stored ones by them,
which is why they live here and not in either service. Changing a rule changes stored ids: bump
``services.enrich.entities.VERSION`` when you do.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from shared import caches

# Russian-style romanisation, close to what English-language news uses (BGN/PCGN without
# diacritics). Belarusian and Ukrainian letters are added; their г is closer to h, but the
# phonetic key merges g and h anyway, so one table serves all three languages. Belarusian ў is
# "w" (BGN/PCGN), which keys as v: in names it stands where Russian writes в («Снапкоў» and
# «Снопков»).
_CYRILLIC_TO_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya", "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ў": "w", "'": "", "’": "", "ʼ": "",
}  # fmt: skip

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def has_cyrillic(text: str) -> bool:
    return _CYRILLIC.search(text) is not None


def fold(text: str) -> str:
    """Case-insensitive comparison form: casefold (ß -> ss), ё -> е as Russian writes both, and
    no stress marks (pycountry's Russian has «Респу́блика»).

    The one text folding of the pipeline: the entity step, near-duplicate shingles, normal forms
    and ingest's repeated-paragraph keys all compare text by it. Only the index folds its own way
    (``services.index.stemming``): its stored lemmas keep ß for the German stemmer.
    """
    return text.casefold().replace("ё", "е").replace("\u0301", "").replace("\u0300", "")


def transliterate(text: str) -> str:
    """Cyrillic to Latin, lower case; Latin text passes through lower-cased."""
    return "".join(_CYRILLIC_TO_LATIN.get(char, char) for char in text.lower())


def romanize(text: str) -> str:
    """Cyrillic text in English-style Latin letters, keeping its capitals: «Надежда Лазаревич»
    -> «Nadezhda Lazarevich», «ИННОПРОМ» -> «INNOPROM». For showing a name, not for keys."""
    letters = []
    for char in text:
        latin = _CYRILLIC_TO_LATIN.get(char.lower(), char)
        letters.append(latin.capitalize() if char.isupper() and latin != char else latin)
    romanized = "".join(letters)
    # A word written in capitals stays in capitals («ЖКХ» -> «ZHKKH», not «ZhKKh»).
    return " ".join(
        word.upper() if source.isupper() and len(source) > 1 else word
        for word, source in zip(romanized.split(" "), text.split(" "), strict=True)
    )


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


# German spells Russian names by German sound rules (ж -> sch, з -> s, в -> w, ч -> tsch,
# х -> ch, й -> j). Rewriting them into English-style digraphs first lets one phonetic table
# serve both; the placeholders stop a rewritten "ch" from being read as German ch again.
_GERMAN_STEPS = (
    # Polish names keep their own spelling in German text («Andrzej Poczobut», «Mariusz
    # Kamiński», «Kaczyński»): cz is ч, sz ш and szcz щ, where German would read z as ts.
    ("szcz", "\x01"),
    ("cz", "\x02"),
    ("sz", "\x03"),
    # A Slavic name German news copies in English spelling («Prigozhin», «Yushchenko»): shch and
    # zh are no German spellings (-chenko and -chuk: ``_ENGLISH_CH_IN_GERMAN``).
    ("shch", "\x01"),
    ("zh", "\x04"),
    ("schtsch", "\x01"),
    ("tsch", "\x02"),
    ("sch", "\x03"),
    ("ch", "kh"),
    ("ck", "k"),
    ("w", "v"),
    ("z", "ts"),
    ("j", "y"),
    ("ß", "s"),
    ("\x01", "shch"),
    ("\x02", "ch"),
    ("\x03", "sh"),
    ("\x04", "zh"),
)


# Belarusian writes a soft д and т as дз and ц («Пуцін», «Дзяніс»), also when a soft в follows
# («Мядзведзеў», «Дзвіна», «Цвер»), where Russian and Ukrainian keep д and т; its own ц is always
# hard (цы, цэ). So before a softening letter they are read back as д and т, and «Пуцін» keys
# like «Путин». The price: a name Russian itself spells with a soft дз («Дзержинский») keys
# differently from its Belarusian form; such names are rare, д -> дз names are everywhere.
_BELARUSIAN_SOFT = re.compile(r"(дз|ц)(?=в?[ьіяеёю])")


# English news romanises Belarusian names from their Belarusian spelling, as Belarusian passports
# do («Ціханоўская» -> «Tsikhanouskaya», «Калиноўскі» -> «Kalinouski»), while Russian, German and
# Ukrainian write the Russian form («Тихановская», «Tichanowskaja»). Two of its letters change a
# key: a word-initial soft т written «ts» before i, and ў written «u» after a vowel in the surname
# suffix -оўскі/-оўская («-ouski», «-ouskaya»), where Russian has -овский. They are read back as the
# Russian t and v, as ``_BELARUSIAN_SOFT`` does for the Cyrillic spelling. Only word-initial «tsi»:
# inside a word it is also Ukrainian ці («Kravtsiv» for «Кравців»), and only English: German
# writes z for ts, so a German «Zi-» is a real ц («Zimmermann», «Циммерман»). The price: a Greek
# «Tsipras» keys apart from «Ципрас» in English text.
_BELARUSIAN_LATIN = (
    (re.compile(r"\b(t|d)[sz](?=i)"), r"\1"),
    (re.compile(r"(?<=[aeo])u(?=sk)"), "v"),
)


# Ukrainian surnames in -chenko and -chuk that German news copies in English spelling («Andriy
# Demchenko»): German writes -tschenko, -tschuk, and its own ch is х («Charkiw»), so an English ch
# there is ч. Not after s: «Lukaschenko» is German spelling.
_ENGLISH_CH_IN_GERMAN = re.compile(r"(?<!s)ch(?=enko\b|uk\b)")


# Polish surnames in -cki/-cka (Morawiecki, Zielonacka) keep c for ц before k, which German and
# English spelling would read as part of «ck» (k): Russian writes «Моравецкий». No German or
# English name ends so. And ł is l (Michał, Paweł), a letter no accent-stripping removes.
_POLISH_CKI = re.compile(r"c(?=k(?:i|a|iego|iej)\b)")


def latin_form(text: str, language: str) -> str:
    """A name in English-style Latin spelling, whatever script and convention it came in."""
    if has_cyrillic(text):
        if language == "be":
            text = _BELARUSIAN_SOFT.sub(lambda m: "д" if m.group(1) == "дз" else "т", text.lower())
        latin = transliterate(text)
    else:
        latin = _POLISH_CKI.sub("ts", text.lower().replace("ł", "l"))
        if language == "de":
            latin = _ENGLISH_CH_IN_GERMAN.sub("tsch", latin)
            for old, new in _GERMAN_STEPS:
                latin = latin.replace(old, new)
        elif language == "en":
            for pattern, replacement in _BELARUSIAN_LATIN:
                latin = pattern.sub(replacement, latin)
    return strip_accents(latin)


# Consonant classes: sounds that transliteration conventions spell differently fall into one
# class (ж/ш/з/с are all "s": German writes ж and ш as sch and з as s). Vowels, y and j are
# dropped: they are where conventions disagree most (я = ya/ja/ia, е = e/je/ye) and where Russian
# case endings live («Надежды» and «Надежда» give the same key).
_DIGRAPHS = (("shch", "s"), ("sh", "s"), ("zh", "s"), ("ch", "c"), ("kh", "k"), ("ts", "c"),
             ("tz", "c"), ("cz", "c"), ("ph", "v"), ("x", "ks"))  # fmt: skip
_CLASSES = {
    "b": "b", "c": "k", "d": "d", "f": "v", "g": "g", "h": "g", "k": "k", "l": "l", "m": "m",
    "n": "n", "p": "p", "q": "k", "r": "r", "s": "s", "t": "t", "v": "v", "w": "v", "z": "s",
}  # fmt: skip
_VOWELS = frozenset("aeiouyj")


def phonetic_key(latin: str) -> str:
    """Consonant skeleton of an English-style Latin spelling: «nadezhda» -> «ndsd»."""
    out: list[str] = []
    index = 0
    while index < len(latin):
        for digraph, code in _DIGRAPHS:
            if latin.startswith(digraph, index):
                out.extend(code)
                index += len(digraph)
                break
        else:
            char = latin[index]
            if char in _VOWELS:
                out.append("_")
            elif char in _CLASSES:
                out.append(_CLASSES[char])
            elif char.isalpha():
                out.append("_")
            index += 1
    # Collapse doubled letters (ss, nn) but only where they were adjacent in the spelling,
    # then drop the vowel markers.
    collapsed = [code for i, code in enumerate(out) if i == 0 or code != out[i - 1]]
    return "".join(code for code in collapsed if code != "_")


@lru_cache(maxsize=caches.WORD_KEYS)
def name_key(name: str, language: str) -> str:
    """The phonetic key of one name token in any script."""
    return phonetic_key(latin_form(name, language))
