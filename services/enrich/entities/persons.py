"""Persons without an NER model (de, en, be, uk), found by rules.

No NER model for German, English, Belarusian or Ukrainian ships in a package we can install, so
persons there come from rules a reader would use:

* a title or role word followed by capitalised names («Präsident Alexander Lukaschenko»);
* a known first name followed by a capitalised name («Nadeschda Lasarewitsch»), where in German
  and English the first name is not a common word («Seinen Worten») and one known only by its
  consonants is followed by a word that is not common either («National Bank»); first names are
  the ~12,800 of OpenCorpora's dictionary (``data/first_names_ru.txt``, built from
  pymorphy2-dicts-ru by ``python -m services.enrich.entities.persons``), compared by phonetic
  key, so German and English spellings of Slavic names are found;
* in Belarusian and Ukrainian, two capitalised words not at a sentence start (their orthography
  capitalises only the first word of other names); in German and English only when the second
  has a Slavic surname ending (German capitalises every noun);
* a lone surname already seen in a full name of the same document;
* in German and English, a lone word with a Slavic surname ending that is, letter for letter, a
  surname of OpenCorpora's dictionary (``data/surnames_ru.txt``) that Russian names often, and
  commoner in Russian than in the document's language («Putin», «Lukaschenko»).

Their ids, and those of the persons NER finds, come from ``person_ids``.
"""

from __future__ import annotations

import bisect
import itertools
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from services.enrich.entities.commonness import zipf
from services.enrich.entities.keys import fold, name_key, vowel_key
from services.enrich.entities.person_ids import (
    NAME_WORD,
    PATRONYMIC,
    nominatives,
    russian_first_name,
    word_key,
)

FIRST_NAMES_FILE = "first_names_ru.txt"
SURNAMES_FILE = "surnames_ru.txt"
RULES_FILE = "person_rules.toml"
_SURNAME_ENDING = re.compile(
    r"(?:ov|ev|ow|ew|off|ova|eva|owa|ewa|in|ina|yn|yna|enko|ko|sky|ski|skij|skyj|skiy|"
    r"skaya|skaja|ska|ich|itsch|vich|witsch|uk|yuk|juk|chuk|tschuk|ak|ets|ez|ian|yan|jan|"
    r"adze|idze|shvili|schwili)$",
    re.IGNORECASE,
)
_SENTENCE_BREAK = re.compile(r"[.!?…:]|\n")
LATIN_LANGUAGES = frozenset({"de", "en"})
# Zipf frequencies (``commonness``): «Seinen» 5.7 and «Ihren» 5.7 in German, «National» 5.5 in
# English are words, not first names; «Michael» (5.1) and «Alexander» (4.7) stay names.
COMMON_WORD_ZIPF = 5.2
# «Bank» (4.9 in German) and «Billions» (4.0 in English) are no surnames; «Lukaschenko» (2.4)
# and «Merkel» (3.4 in English) are.
SURNAME_MAX_ZIPF = 3.5
LONE_SURNAME_MAX_ZIPF = 5.3
# «Незалежності» (5.0), «Республіки» (4.9) are words; surnames after a first name the dictionary
# does not know are rarer («Макрон» 3.5, «Меркель» 4.3).
INSTITUTION_WORD_ZIPF = 4.5
MAX_NAME_CHARS = 40
# A surname Russian names this often is a well-known person's: «Путин» 5.1, «Лукашенко» 4.2,
# «Ельцин» 3.7, «Гагарин» 3.5; most of the dictionary's surnames are below 2.
WELL_KNOWN_SURNAME_ZIPF = 3.5


@dataclass(frozen=True)
class _Words:
    """The word lists of ``data/person_rules.toml``, folded."""

    titles: Mapping[str, frozenset[str]]
    short_titles: frozenset[str]
    not_names: frozenset[str]


@cache
def _rules() -> _Words:
    data = tomllib.loads(
        resources.files("services.enrich").joinpath("data", RULES_FILE).read_text("utf-8")
    )
    titles = data["titles"]
    return _Words(
        titles={
            lang: frozenset(fold(w) for w in words)
            for lang, words in titles.items()
            if lang != "short_titles"
        },
        short_titles=frozenset(fold(w) for w in titles["short_titles"]),
        not_names=frozenset(fold(w) for words in data["not_names"].values() for w in words),
    )


@dataclass(frozen=True)
class PersonMatch:
    start: int
    end: int
    strong: bool  # title or known first name: wins over an overlapping place name


@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    text: str
    sentence_start: bool


@dataclass(frozen=True)
class FirstNames:
    vowel_keys: frozenset[str]
    skeletons: frozenset[str]

    def is_first_name(self, word: str, language: str) -> bool:
        return self.support(word, language) is not None

    def support(self, word: str, language: str) -> str | None:
        """How a word is known as a first name: ``exact`` (the dictionary's own), ``vowels``
        (the same letters in another script) or ``skeleton`` (the same consonants only), or
        None."""
        if len(word) < 3 or fold(word) in _rules().not_names:
            return None
        # The phonetic keys make the words of any language look like some Russian name
        # («Seinen», «National»): a German or English word as common as these is that word.
        if language in LATIN_LANGUAGES and zipf(word, language) >= COMMON_WORD_ZIPF:
            return None
        if russian_first_name(word, language) is not None:
            return "exact"
        found = self._by_keys(nominatives(word), word, language)
        if found is None and (english := self._english(word, language)) is not None:
            found = self._by_keys((english,), english, "en")
        # Read as a Russian name's letters, a Ukrainian or Belarusian word this common is that
        # word: «Ради» (of the council, Zipf 5.8) looks like «Рады», «Влади» (of power) like
        # «Влады», «Сили» like «Силы», and «членів Ради Республіки» gave a person. The names the
        # news writes that often are in the variant list, exact («Сергій», «Ігор»).
        if (
            found == "vowels"
            and language in ("be", "uk")
            and zipf(word, language) >= COMMON_WORD_ZIPF
        ):
            return None
        return found

    def english_key(self, word: str, language: str) -> str | None:
        """The key of a first name known only by its English reading, letter for letter («John»
        read «Джон»), so that its person id is the one the Russian spelling gets; None for any
        other word, and for a reading that matches by consonants only («Johann» is German, and
        keeps the key of its own spelling)."""
        english = self._english(word, language)
        if english is None or self.support(word, language) is None:
            return None
        if self._by_keys(nominatives(word), word, language) is not None:
            return None
        return name_key(english, "en") if vowel_key(english, "en") in self.vowel_keys else None

    @staticmethod
    def _english(word: str, language: str) -> str | None:
        """The dictionary spells English first names as Russian hears them («Джон», «Томас»,
        «Джеймс»): the English reading of a word in a German or English text (German writes an
        American's name as he does), or None when it reads no differently."""
        if language not in LATIN_LANGUAGES:
            return None
        english = english_reading(word)
        return english if english != word.lower() else None

    def _by_keys(self, forms: Sequence[str], word: str, language: str) -> str | None:
        if any(vowel_key(form, language) in self.vowel_keys for form in forms):
            return "vowels"
        skeleton = name_key(word, language)
        # A skeleton of three consonants or fewer says too little on its own («Regina» would
        # make every «Regionen» a first name).
        return "skeleton" if len(skeleton) >= 4 and skeleton in self.skeletons else None


_SILENT_H = re.compile(r"(?<=[aeiou])h(?![aeiou])")


def english_reading(word: str) -> str:
    """An English first name spelled as Russian transliterates what is heard: a leading J is
    «дж» (John, James), th is t (Thomas, Matthias), an h after a vowel is silent (John, Sarah)."""
    lowered = word.lower().replace("th", "t")
    if lowered.startswith("j"):
        lowered = "dzh" + lowered[1:]
    return _SILENT_H.sub("", lowered)


@cache
def first_names() -> FirstNames:
    text = resources.files("services.enrich").joinpath("data", FIRST_NAMES_FILE).read_text("utf-8")
    names = [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]
    # The uncached functions: 13 000 names keyed once would fill the caches that documents'
    # words need, and stay in them until evicted.
    return FirstNames(
        vowel_keys=frozenset(vowel_key.__wrapped__(n, "ru") for n in names),
        skeletons=frozenset(name_key.__wrapped__(n, "ru") for n in names),
    )


def _words(text: str) -> list[_Word]:
    words: list[_Word] = []
    previous_end = 0
    for match in NAME_WORD.finditer(text):
        gap = text[previous_end : match.start()]
        starts = not words or _SENTENCE_BREAK.search(gap) is not None
        words.append(_Word(match.start(), match.end(), match.group(), starts))
        previous_end = match.end()
    return words


def _name_shaped(word: str) -> bool:
    # No name word is 40 letters long; longer ones would only fill the name-key caches, which
    # live as long as the worker.
    return (
        2 <= len(word) <= MAX_NAME_CHARS
        and word[0].isupper()
        and word[1:].islower()
        and fold(word) not in _rules().not_names
    )


def _is_title(word: str, language: str) -> bool:
    folded = fold(word)
    rules = _rules()
    if folded in rules.short_titles:
        return True
    titles = rules.titles.get(language, frozenset())
    if language in ("be", "uk"):
        return any(folded.startswith(stem) for stem in titles)
    return folded in titles


def _adjacent(text: str, left: _Word, right: _Word) -> bool:
    return text[left.end : right.start] in (" ", "\u00a0")


def _name_run(text: str, words: Sequence[_Word], first: int, limit: int = 3) -> int:
    """Index after the run of name-shaped words starting at ``first`` (at most ``limit``)."""
    end = first
    while (
        end < len(words)
        and end - first < limit
        and _name_shaped(words[end].text)
        and (end == first or (_adjacent(text, words[end - 1], words[end])
                              and not words[end].sentence_start))
    ):  # fmt: skip
        end += 1
    return end


def find_persons(
    text: str,
    language: str,
    names: FirstNames,
    places: Sequence[tuple[int, int]] = (),
) -> list[PersonMatch]:
    """Person names found by the rules above, left to right, not overlapping. ``places`` are
    the spans of the names of countries, regions and organisations, sorted, whose words never
    start a name: «міністра эканомікі Беларусі Алена Пярмінава» is a place, then a person;
    «Національного банку Білорусі Павло Каллаур» a bank, then a person."""
    starts = [a for a, _ in places]

    def in_place(word: _Word) -> bool:
        k = bisect.bisect_right(starts, word.start) - 1
        return k >= 0 and places[k][0] <= word.start < places[k][1]

    words = _words(text)
    found: list[PersonMatch] = []
    i = 0
    while i < len(words):
        word = words[i]
        # A title word cannot start the name it introduces («першага намесніка Прэм’ер-міністра»:
        # «Прэм» is the next title, cut at the apostrophe, not a name).
        # Nor is a place after it a name: «Президента Республіки Білорусь» is the country's.
        if (
            _is_title(word.text, language)
            and i + 1 < len(words)
            and not _is_title(words[i + 1].text, language)
            and not in_place(words[i + 1])
        ):
            end = _name_run(text, words, i + 1)
            if end > i + 1 and _adjacent(text, word, words[i + 1]):
                # «Прем'єр-міністр Росії Михайло Мішустін»: the name starts at the first name.
                first = next(
                    (k for k in range(i + 1, end) if names.is_first_name(words[k].text, language)),
                    i + 1,
                )
                # ... and runs on from it: «президентом Російської Федерації Володимиром
                # Путіним», where the run from the title stopped after three words.
                end = max(end, _name_run(text, words, first))
                found.append(PersonMatch(words[first].start, words[end - 1].end, True))
                i = end
                continue
        if _name_shaped(word.text) and not in_place(word):
            end = _name_run(text, words, i)
            if end - i >= 2:
                if end - i == 3 and not PATRONYMIC.search(words[i + 1].text):
                    end = i + 2
                support = names.support(word.text, language)
                # In German and English, where a capitalised phrase is as often a noun phrase
                # («National Bank»: «National» has a name's consonants), a first name known only
                # by its consonants needs a surname that is not a common word.
                strong = support is not None and not (
                    support == "skeleton"
                    and language in LATIN_LANGUAGES
                    and zipf(words[end - 1].text, language) >= SURNAME_MAX_ZIPF
                )
                # A Slavic ending on a common word is no surname («Given New»: «New» ends like
                # «Medvedew»).
                surname = (
                    _SURNAME_ENDING.search(words[end - 1].text) is not None
                    and zipf(words[end - 1].text, language) < SURNAME_MAX_ZIPF
                )
                # Belarusian and Ukrainian capitalise only a name's first word, except in the
                # names of institutions and buildings («Ради Республіки», «Палаці Незалежності»),
                # whose last word is a common word of the language, as a surname is not.
                institution = zipf(words[end - 1].text, language) >= INSTITUTION_WORD_ZIPF
                weak = not word.sentence_start and (
                    (language in ("be", "uk") and not institution) or surname
                )
                if strong or weak:
                    found.append(PersonMatch(word.start, words[end - 1].end, strong))
                    i = end
                    continue
        i += 1
    return found


def surname_key(word: str, language: str) -> str:
    """A lone surname's key; in German a genitive -s is dropped first («Lukaschenkos Regime»),
    as Russian case endings are by ``word_key``."""
    if language == "de" and word.endswith("s") and not word.endswith("ss"):
        return word_key(word[:-1], language)
    return word_key(word, language)


def find_surname_mentions(
    text: str, language: str, surname_keys: Iterable[str], taken: Sequence[tuple[int, int]]
) -> list[PersonMatch]:
    """Lone capitalised words whose key is the surname of a person named in full elsewhere."""
    keys = set(surname_keys)
    if not keys:
        return []
    # A very common word is that word even when its key is a surname's: «Питання» (Zipf 5.7 in
    # Ukrainian) keys like «Путін» (4.9).
    return [
        PersonMatch(start, end, True)
        for word, start, end in _free_name_words(text, taken)
        if surname_key(word, language) in keys and zipf(word, language) < LONE_SURNAME_MAX_ZIPF
    ]


def _free_name_words(text: str, taken: Sequence[tuple[int, int]]) -> Iterator[tuple[str, int, int]]:
    """The name-shaped words of ``text`` (word, start, end) that overlap no span of ``taken``."""
    # ``taken`` sorted by start with the furthest end reached so far: a word overlaps a taken
    # span exactly when, among the spans starting before the word ends, one reaches past its
    # start. Scanning all of ``taken`` for every word was quadratic on long texts.
    ordered = sorted(taken)
    starts = [a for a, _ in ordered]
    reach = list(itertools.accumulate((b for _, b in ordered), max))
    for match in NAME_WORD.finditer(text):
        word = match.group()
        if not word[0].isupper() or not _name_shaped(word):
            continue
        start, end = match.span()
        before = bisect.bisect_left(starts, end)
        if not (before and reach[before - 1] > start):
            yield word, start, end


@cache
def _well_known_surnames() -> tuple[tuple[str, float], ...]:
    """The surnames of OpenCorpora's ~15,800 (``data/surnames_ru.txt``) that Russian names often
    (``WELL_KNOWN_SURNAME_ZIPF``), each with its Zipf frequency in Russian."""
    text = resources.files("services.enrich").joinpath("data", SURNAMES_FILE).read_text("utf-8")
    names = (line.strip() for line in text.splitlines())
    return tuple(
        (name, frequency)
        for name in names
        if name
        and name[0] != "#"
        and (frequency := zipf(name, "ru")) >= WELL_KNOWN_SURNAME_ZIPF
    )


@cache
def known_surnames() -> dict[str, float]:
    """The well-known surnames (``_well_known_surnames``) by vowel key -> Zipf frequency in
    Russian. «Путин» and «Putin», «Лукашенко» and «Lukaschenko» share a key."""
    known: dict[str, float] = {}
    for name, frequency in _well_known_surnames():
        # Uncached, as for the first names: the list would crowd the documents' words out.
        key = vowel_key.__wrapped__(name, "ru")
        known[key] = max(frequency, known.get(key, 0.0))
    return known


def _glued(text: str, start: int, end: int) -> bool:
    """A word joined by a hyphen to another: part of a compound («Putin-Regime»,
    «Iskander-Marschflugkörper»), not a mention of its own."""
    return (start >= 2 and text[start - 1] in "-‐" and text[start - 2].isalpha()) or (
        text[end : end + 1] in ("-", "‐") and text[end + 1 : end + 2].isalpha()
    )


def find_known_surnames(
    text: str, language: str, taken: Sequence[tuple[int, int]]
) -> list[PersonMatch]:
    """Lone German or English words that are a Slavic surname Russian knows («Putin sagte»,
    «Darum habe ihn Lukaschenko gebeten»), where no full name in the document introduces them.

    German capitalises every noun, so a capitalised word is no name by its shape; it is one when
    it ends like a Slavic surname, spells, letter for letter, a surname of the Russian dictionary
    that Russian names often, and is rarer in the document's language than that surname is in
    Russian: «Putin» (Zipf 4.4 in German, «Путин» 5.1), «Lukaschenko» (2.4; 4.2). A word of the
    language with a surname's letters is commoner there: «Below» (5.1 in English; «Белов» 3.7),
    «Andrew» (4.6; «Андреев» 3.8); a surname Russian seldom names is no evidence: «Urin»,
    «Schein».
    """
    if language in CYRILLIC_NAME_LANGUAGES:
        return _known_cyrillic_surnames(text, language, taken)
    if language not in LATIN_LANGUAGES:
        return []
    surnames = known_surnames()
    out = []
    for word, start, end in _free_name_words(text, taken):
        if _glued(text, start, end):
            continue
        stem = word[:-1] if language == "de" and word.endswith("s") and len(word) > 4 else word
        # The ending first: most capitalised German words are nouns without one, and need no
        # frequency or key looked up.
        forms = [form for form in dict.fromkeys((word, stem)) if _SURNAME_ENDING.search(form)]
        if not forms:
            continue
        frequency = zipf(word, language)
        if any(frequency < surnames.get(vowel_key(form, language), 0) for form in forms):
            out.append(PersonMatch(start, end, True))
    return out


CYRILLIC_NAME_LANGUAGES = frozenset({"be", "uk"})
MIN_KNOWN_SURNAME_CONSONANTS = 3
# A Slavic surname's ending, in Cyrillic: the well-known surnames a Belarusian or Ukrainian lone
# word is matched to by its consonants. Not foreign ones («Харрис», «Перес», «Брук»), whose
# consonants are those of common words («Курс», «Уперше», «Буряк»).
_CYRILLIC_SURNAME_ENDING = re.compile(
    r"(?:ов|ев|ёв|ин|ын|енко|ко|ский|цкий|ской|ич|ук|юк|чук|як|ак|ец|ян|швили|дзе)$"
)
# Vowel classes for the first vowel: Belarusian writes an unstressed о as а («Калеснікава»).
_VOWEL_CLASS = str.maketrans("аояёеэєиіыїую", "aaaaeeeeeeeuu")


def _first_vowel(word: str) -> str:
    for char in fold(word):
        if ord(char) in _VOWEL_CLASS:
            return char.translate(_VOWEL_CLASS)
    return ""


@cache
def known_surname_keys() -> dict[str, tuple[tuple[str, float], ...]]:
    """The well-known Slavic surnames of ``known_surnames``'s list by their phonetic key
    (``word_key``), each with its first vowel's class and its Zipf frequency in Russian: a
    Belarusian or Ukrainian lone surname in any case («Лукашэнкі», «Лукашенком», «Путін») meets
    its Russian nominative by its consonants and first vowel. Keys shorter than
    ``MIN_KNOWN_SURNAME_CONSONANTS`` say too little («Белов» and «Білий» both ``bl``)."""
    keys: dict[str, list[tuple[str, float]]] = {}
    for name, frequency in _well_known_surnames():
        if not _CYRILLIC_SURNAME_ENDING.search(fold(name)):
            continue
        key = word_key.__wrapped__(name, "ru")
        if len(key) >= MIN_KNOWN_SURNAME_CONSONANTS:
            keys.setdefault(key, []).append((_first_vowel(name), frequency))
    return {key: tuple(found) for key, found in keys.items()}


def _known_cyrillic_surnames(
    text: str, language: str, taken: Sequence[tuple[int, int]]
) -> list[PersonMatch]:
    """Lone Belarusian or Ukrainian words that are a well-known Slavic surname in any case
    («сустрэчы Келага з Лукашэнкам», «заява Лукашэнкі»), where no full name in the document
    introduces them: Natasha's NER is Russian's, and the rules need a first name or a title. The
    word must share the surname's consonants and first vowel and be rarer in its language than
    the surname is in Russian, as ``find_known_surnames`` asks of German and English: «Глави»
    (of the head, Zipf 4.6 in Ukrainian) keys like «Голов» (4.4)."""
    known = known_surname_keys()
    out = []
    for word, start, end in _free_name_words(text, taken):
        found = known.get(word_key(word, language))
        if not found or _glued(text, start, end):
            continue
        vowel, frequency = _first_vowel(word), zipf(word, language)
        if any(vowel == theirs and frequency < surname for theirs, surname in found):
            out.append(PersonMatch(start, end, True))
    return out


def write_names(path: str, grammeme: str, what: str) -> int:
    """Rebuild a name list from pymorphy2's OpenCorpora dictionary: the nominative singular
    words tagged ``grammeme`` (``Name``, ``Surn``; takes ~50 s)."""
    from services.enrich.entities.morphology import Vocab  # noqa: PLC0415  (heavy; build only)

    dictionary = Vocab().dictionary
    names = sorted(
        {
            str(word)
            for word, tag, *_ in dictionary.iter_known_words()
            if {grammeme, "nomn", "sing"} <= tag.grammemes
        }
    )
    with open(path, "w", encoding="utf-8") as out:
        out.write(f"# {what} (nominative singular, tag {grammeme}) from OpenCorpora via\n")
        out.write("# pymorphy2-dicts-ru 2.4.417127.4579844; rebuilt by\n")
        out.write("# `python -m services.enrich.entities.persons`.\n")
        out.writelines(f"{name}\n" for name in names)
    return len(names)


if __name__ == "__main__":
    for file, grammeme, what in (
        (FIRST_NAMES_FILE, "Name", "First names"),
        (SURNAMES_FILE, "Surn", "Surnames"),
    ):
        target = str(resources.files("services.enrich").joinpath("data", file))
        print(write_names(target, grammeme, what), "names ->", target)
