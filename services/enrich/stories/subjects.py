"""The subjects an economic news text is about, named alike in every language it may be written in:
«санкции», «санкцыі», «санкції», «Sanktionen» and «sanctions» are all ``sanctions``.

Entities say *who* an event is about, and reports of one event in two languages often share
little more than a country and a bloc (the EU's sanctions on Belarus: «ЕС», «Беларусь» in one,
«European Union», «Belarus» and «Belaruskali» in another); what they do share is what it is
about: potash, petroleum, sanctions. Pure functions over a small hand-made lexicon of word stems
in each language (a stem matches the start of a word; German also inside a compound,
«Wirtschaftssanktionen»), linear in the text.

The lexicon names the recurring subjects of the news newsflow reads (state finances, trade,
prices, industry), each as a few stems per language, written for their meaning and not from any
one article: a subject is evidence of one event only beside a shared name, and a subject in
every story of the week (the rouble) loses its weight to rarity like any feature.
"""

from __future__ import annotations

import re
from typing import Final

# subject -> language -> stems (lower case). A stem matches the start of a word; one ending in
# «$» only a whole word («oil», not «oilseed»; «долг», not «долго»); a German one starting with
# «*» also inside a compound, or with «$» at its end («Wirtschaftssanktionen», «Kalidünger»,
# «Einkommensteuern»). Only stems chosen for it: others occur inside unrelated words («renten»
# in «Konkurrenten», «kredit» in «akkreditiert», «öl» in «Völker»).
_STEMS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "sanctions": {
        "ru": ("санкци",),
        "be": ("санкцы",),
        "uk": ("санкці",),
        "de": ("*sanktion",),
        "en": ("sanction",),
    },
    "fertiliser": {
        "ru": ("калий", "калия", "калию", "удобрен"),
        "be": ("калій", "калію", "угнаен"),
        "uk": ("калій", "калію", "добрив"),
        "de": (
            "kali$",
            "kalis",
            "kalid",
            "kaliin",
            "kaliau",
            "kaliex",
            "kalipr",
            "dünge",
            "*dünger",
        ),
        "en": ("potash", "fertili"),
    },
    "oil": {
        "ru": ("нефт",),
        "be": ("нафт",),
        "uk": ("нафт",),
        "de": ("öl$", "ölprod", "ölpreis", "*erdöl", "*rohöl", "*mineralöl"),
        "en": ("oil$", "petroleum", "petrochem"),
    },
    "default": {
        "ru": ("дефолт",),
        "be": ("дэфолт",),
        "uk": ("дефолт",),
        "de": ("*zahlungsausfall", "staatspleite"),
        "en": ("default",),
    },
    "bonds": {
        "ru": ("облигац", "еврооблигац", "евробонд"),
        "be": ("аблігац", "еўрабонд"),
        "uk": ("облігац", "єврооблігац", "євробонд"),
        "de": ("*anleihe",),
        "en": ("eurobond", "bond$", "bonds$"),
    },
    "rating": {
        "ru": ("рейтинг",),
        "be": ("рэйтынг",),
        "uk": ("рейтинг",),
        "de": ("rating",),
        "en": ("rating",),
    },
    "loan": {
        "ru": ("кредит", "займ", "заём"),
        "be": ("крэдыт", "пазык"),
        "uk": ("кредит", "позик"),
        "de": ("kredit", "darlehen"),
        "en": ("loan",),
    },
    "drawing-rights": {
        "ru": ("заимствован",),
        "be": ("запазычан",),
        "uk": ("запозичен",),
        "de": ("*ziehungsrecht",),
        "en": ("drawing$",),
    },
    "reserves": {
        "ru": ("резерв",),
        "be": ("рэзерв",),
        "uk": ("резерв",),
        "de": ("reserve", "*währungsreserv", "*devisenreserv"),
        "en": ("reserve",),
    },
    "devaluation": {
        "ru": ("девальв", "обесцен"),
        "be": ("дэвальв", "абясцэн"),
        "uk": ("девальв", "знецін"),
        "de": ("abwert", "abgewertet"),
        "en": ("devalu",),
    },
    "float": {
        "ru": ("плавающ", "гибк"),
        "be": ("плаваюч", "гнутк"),
        "uk": ("плаваюч", "гнучк"),
        "de": ("flexib", "*kursfreigabe"),
        "en": ("float", "flexib"),
    },
    "hryvnia": {
        "ru": ("гривн", "гривен"),
        "be": ("грыўн", "грывен"),
        "uk": ("гривн", "гривен", "гривень"),
        "de": ("hrywnj", "griwn"),
        "en": ("hryvn", "hrivn"),
    },
    "rouble": {
        "ru": ("рубл", "рубел"),
        "be": ("рубл", "рубел"),
        "uk": ("рубл", "рубел"),
        "de": ("rubel", "*rubel"),
        "en": ("roubl", "rubl"),
    },
    "redenomination": {
        "ru": ("деноминац",),
        "be": ("дэнамінац",),
        "uk": ("деномінац",),
        "de": ("denominier", "redenominier"),
        "en": ("redenominat",),
    },
    "inflation": {
        "ru": ("инфляц",),
        "be": ("інфляц",),
        "uk": ("інфляц",),
        "de": ("inflation",),
        "en": ("inflation",),
    },
    "wages": {
        "ru": ("зарплат", "заработн"),
        "be": ("заробк", "зарплат"),
        "uk": ("зарплат", "заробітн"),
        "de": ("lohn$", "löhne", "*mindestlohn", "gehalt$", "gehälter"),
        "en": ("wage", "salar"),
    },
    "unemployment": {
        "ru": ("безработ", "неработающ", "тунеяд"),
        "be": ("беспрацоў", "непрацуюч", "дармаед"),
        "uk": ("безробіт", "непрацююч", "дармоїд"),
        "de": ("arbeitslos", "*arbeitslos", "erwerbslos"),
        "en": ("unemploy", "jobless", "parasit"),
    },
    "pensions": {
        "ru": ("пенси",),
        "be": ("пенсі",),
        "uk": ("пенсі",),
        "de": ("rente$", "renten$", "rentner", "*altersrente"),
        "en": ("pension",),
    },
    "budget": {
        "ru": ("бюджет",),
        "be": ("бюджэт",),
        "uk": ("бюджет",),
        "de": ("haushalt", "*staatshaushalt", "budget"),
        "en": ("budget",),
    },
    "taxes": {
        "ru": ("налог",),
        "be": ("падатк", "падатак"),
        "uk": ("податк", "податок"),
        "de": ("steuer", "*steuern$"),
        "en": ("tax$", "taxes$", "taxation"),
    },
    "exports": {
        "ru": ("экспорт",),
        "be": ("экспарт",),
        "uk": ("експорт",),
        "de": ("*ausfuhr", "*export"),
        "en": ("export",),
    },
    "transit": {
        "ru": ("транзит",),
        "be": ("транзіт",),
        "uk": ("транзит",),
        "de": ("transit",),
        "en": ("transit",),
    },
    "tractors": {
        "ru": ("трактор",),
        "be": ("трактар",),
        "uk": ("трактор",),
        "de": ("*traktor",),
        "en": ("tractor",),
    },
    "debt": {
        "ru": ("долг$", "долга$", "долгу$", "долгов", "долгом$"),
        "be": ("доўг", "доўга"),
        "uk": ("борг",),
        "de": ("*schulden", "verschuld"),
        "en": ("debt",),
    },
    "refinancing": {
        "ru": ("рефинансир",),
        "be": ("рэфінансав",),
        "uk": ("рефінансув",),
        "de": ("*leitzins",),
        "en": ("refinanc",),
    },
    "pandemic": {
        "ru": ("пандеми", "коронавирус"),
        "be": ("пандэмі", "каранавірус"),
        "uk": ("пандемі", "коронавірус"),
        "de": ("*pandemie", "corona"),
        "en": ("pandemic", "covid", "coronavirus"),
    },
    "war": {
        "ru": ("войн", "военн"),
        "be": ("вайн", "ваенн"),
        "uk": ("війн", "воєнн"),
        "de": ("krieg", "*krieg"),
        "en": ("war$", "wars$", "wartime"),
    },
    "protests": {
        "ru": ("протест", "митинг"),
        "be": ("пратэст", "мітынг"),
        "uk": ("протест", "мітинг"),
        "de": ("*protest", "kundgebung"),
        "en": ("protest", "rally$", "rallies$"),
    },
    "nuclear-power": {
        "ru": ("атомн", "аэс$"),
        "be": ("атамн", "аэс$"),
        "uk": ("атомн", "аес$"),
        "de": ("atomkraft", "*atomkraft", "akw$", "kernkraft", "*kernkraft", "*reaktor"),
        "en": ("nuclear", "npp$", "reactor"),
    },
    "inauguration": {
        "ru": ("инаугурац",),
        "be": ("інаўгурац",),
        "uk": ("інавгурац",),
        "de": ("*amtseinführung", "*amtseid", "vereidig"),
        "en": ("inaugur", "sworn$"),
    },
    "prisoners": {
        "ru": ("политзаключ",),
        "be": ("палітвязн", "палітзняволен", "палітвязьн", "палітзьняволен"),
        "uk": ("політв'язн", "політвязн"),
        "de": ("*gefangene",),
        "en": ("prisoner",),
    },
    # Since stories version 19: minerals (a subsoil deal: «надра», «Rohstoffe», «minerals»), a
    # court and its verdict, migrants and imports, recurring subjects of the region's news. Not
    # «осуждение», «засуджує» (to condemn) for a court, nor «important» for imports.
    "minerals": {
        "ru": ("недра$", "недр$", "недрах$", "недрам", "ископаем", "редкоземел", "минерал"),
        "be": ("нетры", "нетраў", "нетрах", "выкапн", "рэдказямел", "мінерал"),
        "uk": ("надра$", "надр$", "надрах$", "надрам", "копалин", "рідкоземел", "мінерал"),
        "de": ("*rohstoff", "bodenschätz", "*seltenerd", "mineralien"),
        "en": ("mineral", "rare-earth", "lithium"),
    },
    "court": {
        "ru": ("суд$", "суда$", "суде$", "судом$", "приговор"),
        "be": ("суд$", "суда$", "судзе$", "прысуд"),
        "uk": ("суд$", "суду$", "суді$", "судом$", "вирок"),
        "de": ("*gericht$", "*gerichts", "urteil$", "urteils", "verurteil", "haftstraf"),
        "en": ("court", "sentenc", "verdict", "convict"),
    },
    "migrants": {
        "ru": ("мигрант", "беженц"),
        "be": ("мігрант", "уцекач"),
        "uk": ("мігрант", "біженц"),
        "de": ("*migrant", "*flüchtling"),
        "en": ("migrant", "refugee"),
    },
    "imports": {
        "ru": ("импорт", "ввоз"),
        "be": ("імпарт", "увоз"),
        "uk": ("імпорт", "ввез"),
        "de": ("*import", "*einfuhr"),
        "en": ("import$", "imports$", "imported", "importer", "importing"),
    },
    # Since stories version 18: talks, an election and air travel, the subjects of political
    # news that reports of one event in two languages tell alike beside a name or two (talks
    # between two delegations, a commission's preliminary result, a forced landing). Not a
    # border: a border closed and the same border reopened two weeks later are two events that
    # would share it, and a closing and a reopening are what the subject cannot tell apart.
    "talks": {
        "ru": ("переговор",),
        "be": ("перамов",),
        "uk": ("переговор", "перемовин", "перемови$"),
        "de": ("*verhandlung", "*gespräch"),
        "en": ("talks$", "negotiat"),
    },
    "election": {
        "ru": ("выборы$", "выборов$", "выборах$", "выборам$", "выборами$", "избират", "цик$"),
        "be": ("выбары", "выбараў", "выбарах", "выбарам", "выбарч", "цвк$"),
        "uk": ("вибори", "виборів", "виборах", "виборам", "виборч", "цвк$"),
        "de": (
            "wahlen$",
            "wahlkampf",
            "wahlkommission",
            "wahllokal",
            "wahlleit",
            "wahlbeteiligung",
            "wahlergebnis",
            "*präsidentschaftswahl",
            "*präsidentenwahl",
            "*parlamentswahl",
        ),
        "en": ("election", "electoral", "ballot"),
    },
    "aviation": {
        "ru": (
            "самолет",
            "самолёт",
            "авиакомпан",
            "авиарейс",
            "авиасообщ",
            "рейс$",
            "рейса$",
            "аэропорт",
        ),
        "be": ("самалёт", "авіякампан", "авіярэйс", "рэйс$", "рэйса$", "аэрапорт"),
        "uk": ("літак", "авіакомпан", "авіарейс", "авіасполуч", "рейс$", "рейсу$", "аеропорт"),
        "de": (
            "*flugzeug",
            "*flughafen",
            "flug$",
            "flüge$",
            "*linienflug",
            "*flugverbot",
            "flugverkehr",
            "luftfahrt",
            "*luftraum",
        ),
        "en": ("plane$", "planes$", "aircraft", "flight", "airline", "airport", "airspace"),
    },
}

MAX_SUBJECTS: Final = 5
"""Subjects per document, most mentioned first: a long article touches many (the budget, the
pandemic, wages), and its main ones are what it shares with another report of its event."""


_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def _matches(word: str, stem: str) -> bool:
    return word == stem[:-1] if stem.endswith("$") else word.startswith(stem)


def _in_compound(word: str, stem: str) -> bool:
    return word.endswith(stem[:-1]) if stem.endswith("$") else stem in word


def _index(language: str) -> dict[str, list[tuple[str, str]]]:
    """stem's first letter -> (stem, subject), for one language (all five for another)."""
    index: dict[str, list[tuple[str, str]]] = {}
    for subject, by_language in _STEMS.items():
        stems = by_language.get(language) or tuple(
            stem for group in by_language.values() for stem in group
        )
        for stem in stems:
            bare = stem.removeprefix("*")
            index.setdefault(bare[0], []).append((bare, subject))
    return index


_INDEX: Final = {language: _index(language) for language in ("ru", "be", "uk", "de", "en", "")}
_COMPOUND: Final = [
    (stem[1:], subject)
    for subject, by_language in _STEMS.items()
    for stem in by_language["de"]
    if stem.startswith("*")
]


def _word_subjects(word: str, language: str) -> frozenset[str]:
    index = _INDEX.get(language, _INDEX[""])
    found = {subject for stem, subject in index.get(word[0], ()) if _matches(word, stem)}
    if language == "de":
        found.update(subject for stem, subject in _COMPOUND if _in_compound(word, stem))
    return frozenset(found)


# (language, word) -> its subjects: a news text's words are mostly ones seen before, and testing
# each against the stems was half of the story step's time. Bounded: it lives as long as the
# worker, and only word-sized keys go in.
_WORD_CACHE: dict[tuple[str, str], frozenset[str]] = {}
_WORD_CACHE_SIZE: Final = 50_000


def subjects(text: str, language: str) -> list[str]:
    """The subjects ``text`` names, most mentioned first, at most ``MAX_SUBJECTS``."""
    counts: dict[str, int] = {}
    cached = _WORD_CACHE.get
    for match in _WORD.finditer(text.lower()):
        word = match.group()
        found = cached((language, word))
        if found is None:
            found = _word_subjects(word, language)
            if len(_WORD_CACHE) < _WORD_CACHE_SIZE and len(word) <= 64:
                _WORD_CACHE[(language, word)] = found
        for subject in found:
            counts[subject] = counts.get(subject, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [subject for subject, _ in ranked[:MAX_SUBJECTS]]
