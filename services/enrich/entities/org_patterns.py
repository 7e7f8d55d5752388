"""Organisations the curated file does not know, found by the shapes their names take.

Where no NER model ships (be, uk, de, en), an organisation outside ``data/organisations.toml`` is
still recognisable by how news writes it:

* a central bank of a named country: «Nationalbank von Georgien», «National Bank of Georgia»,
  «Нацыянальны банк Грузіі», «Национальный банк Грузии», «Центральний банк Вірменії»;
* a legal form before a quoted name: «ОАО "Гродно Азот"», «ЗАО «Атлант»», «ТОВ «Агро»», «ПАТ
  "Укрнафта"», «ААТ «Нафтан»»;
* capitalised words before a legal form: «Siemens Energy AG», «Uralchem GmbH», «Acme Inc.»,
  «Ocado plc»;
* a quoted name after a word for an organisation: «компанія "Юнайтед гросеріс"», «Telegram-канал
  "Пул Першого"», «das Unternehmen „Belshina"»;
* a works named after its town: «Гомельскі хімічны завод», «Лидский литейно-механический
  завод», «Minsker Traktorenwerk», «Minsk Tractor Works», and «X-завод».

Every pattern is a bounded regular expression (no nested repetition), so matching stays linear
in the text. Pure functions of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.enrich.entities.commonness import zipf

_UPPER = "A-ZÄÖÜА-ЯЁІЎЄЇҐ"
_LOWER = "a-zäöüßа-яёіўєїґ'’"
_OPEN = '«"„“'
_CLOSE = '»"“”'
_QUOTED = rf"[{_OPEN}](?P<name>[^{_OPEN}{_CLOSE}\n]{{1,60}})[{_CLOSE}]"
# A country or place after a bank's name: one or two capitalised words.
_PLACE = rf"[{_UPPER}][\w'’-]+(?:\s+[{_UPPER}][\w'’-]+)?"

_CENTRAL_BANK = re.compile(
    rf"\b(?:(?:National|Central|Reserve)\s+Bank\s+of\s+(?:the\s+)?{_PLACE}"
    rf"|(?:Nationalbank|Zentralbank|Notenbank)\s+(?:von\s+|der\s+|des\s+)?{_PLACE}"
    rf"|(?:Нацыянальн|Национальн|Національн|Центральн|Цэнтральн)[{_LOWER}]{{1,4}}\s+"
    rf"банк[{_LOWER}]{{0,3}}\s+{_PLACE})"
)
_LEGAL_FORM = re.compile(
    r"\b(?:ОАО|ЗАО|ООО|ПАО|АО|ОДО|УП|РУП|СООО|ИООО|ЧУП|ЧТУП|ТОВ|ПАТ|ПрАТ|АТ|ДП|ТДВ|ААТ|ЗАТ|"
    r"ТАА|АДА|OAO|ZAO|OOO|OJSC|CJSC|JSC|LLC)\s*" + _QUOTED
)
# The name starts where a word starts, not inside one, and each of its words is taken whole:
# started at every capital of a long dotted token («A.A.A.…1») and given back letter by letter,
# a 16 KB one took 2.3 s and grew with its square.
_SUFFIX_FORM = re.compile(
    rf"(?<![\w&.'’-])(?P<name>(?:[{_UPPER}][\w&.'’-]*+\s+){{0,3}}[{_UPPER}][\w&.'’-]*+)\s+"
    r"(?:AG|GmbH|SE|KG|Inc\.|Inc|Ltd\.|Ltd|plc|PLC|LLC|Corp\.|Corp|S\.A\.|N\.V\.|OJSC|JSC)"
    r"(?![\w-])"
)
_ORG_NOUN_QUOTED = re.compile(
    r"(?i:\b(?:компани|концерн|холдинг|предприяти|агентств|корпораци|компані|кампані|"
    r"прадпрыемств|канцэрн|холдынг|агенцтв|корпораці|підприємств|банк|завод|комбинат|"
    r"камбінат|комбінат|телеканал|канал|газет|издани|выданн|виданн|unternehmen|konzern|firma|"
    r"agentur|zeitung|company|firm|agency|newspaper|channel)[\w-]{0,4})\s*" + _QUOTED
)
_WORKS = re.compile(
    rf"\b[{_UPPER}][{_LOWER}]+(?:ск|цк|зск|ськ|цьк|зьк)[{_LOWER}]{{1,4}}(?:\s+[{_LOWER}-]+){{0,3}}?\s+"
    r"(?:завод|камбінат|комбінат|комбинат|фабрык|фабрик)[а-яёіўєї]{0,3}\b"
    rf"|\b[{_UPPER}][\w]+-(?:завод|Werk|werk)[а-яёіўєї]{{0,3}}\b"
    rf"|\b[{_UPPER}][{_LOWER}]+er\s+[{_UPPER}][{_LOWER}]*(?:werk|werke|fabrik|kombinat)\b"
    rf"|\b(?:[{_UPPER}][{_LOWER}]+\s+){{1,3}}(?:Works|Plant|Factory|Refinery)\b"
)

# A company named by what it is: a word for a company, then a name in Latin letters. German
# compounds name the trade («der US-Pharmahersteller Pfizer», «den deutschen Mobilfunk-Konzern
# Mannesmann», «die US-Telekommunikationsfirma Sprint»), English puts a lower-case noun before
# the name («drugmaker Pfizer», «French conglomerate Alstom»), Russian, Ukrainian and Belarusian
# write a Latin name after the noun («компанія Microsoft», «концерна Siemens»).
_LATIN_NAME = r"[A-Z][\w&'’.-]*[\w&](?:\s+[A-Z][\w&'’.-]*[\w&]){0,2}"
_GERMAN_COMPANY = re.compile(
    rf"(?<![\w-])(?P<noun>(?:[{_UPPER}][\w-]*?)?(?:[Kk]onzern|[Hh]ersteller|[Ff]irma|"
    r"[Gg]esellschaft|[Aa]nbieter|[Aa]usrüster|[Uu]nternehmen|[Kk]onkurrent|[Bb]etreiber|"
    r"[Zz]ulieferer|[Pp]roduzent|[Vv]ersicherer|[Hh]ändler|[Rr]iese|[Gg]ruppe)(?:en|n|s|es)?)"
    rf"\s+(?P<name>{_LATIN_NAME})(?=[\s,.;:)!?]|$)"
)
_ENGLISH_COMPANY = re.compile(
    r"\b(?P<noun>company|firm|group|giant|maker|carmaker|automaker|drugmaker|chipmaker|"
    r"manufacturer|producer|operator|retailer|conglomerate|carrier|insurer|lender|rival|"
    r"provider|supplier|developer|startup|subsidiary|unit|brand|bank)"
    rf"\s+(?P<name>{_LATIN_NAME})(?=[\s,.;:)!?]|$)"
)
# The name starts where a word starts: tried from every capital inside a long word
# («AbAbAb…»), a 16 KB one took 2.9 s and grew with its square.
_ENGLISH_APPOSITION = re.compile(
    rf"(?<![\w&'’.-])(?P<name>{_LATIN_NAME}),\s+(?:the|a|an)\s+(?:[\w-]+\s+){{0,4}}?"
    r"(?:company|firm|group|giant|maker|carmaker|automaker|drugmaker|chipmaker|manufacturer|"
    r"producer|operator|retailer|conglomerate|carrier|insurer|lender|provider|supplier|"
    r"developer|startup|subsidiary)\b"
)
_THE_GROUP = re.compile(rf"\bthe\s+(?P<name>{_LATIN_NAME}\s+(?:Group|Holdings))\b")
_CYRILLIC_COMPANY = re.compile(
    r"(?i:\b(?:компані|компани|кампані|концерн|канцэрн|корпораці|корпораци|карпарацы|холдинг|"
    r"холдынг|оператор|виробник|производител|вытворц|гігант|гигант|ритейлер|ретейлер|рытэйлер|"
    r"групп|груп|груп)[\w]{0,4})"
    rf"\s+(?P<name>{_LATIN_NAME})(?=[\s,.;:)!?»]|$)"
)
# A German noun after a word for a company may be the sentence's object («dass das Unternehmen
# Anteile verkauft»): a name there must not be a word this common (Zipf in German; «Anteile»
# 4.1, «Mitarbeiter» 5.1, «Pfizer» 3.1, «Merck» 3.3), and after the bare nouns
# («Unternehmen», «Konzern», «Firma») not even a rarer one. A name with a capital, digit or
# hyphen inside («AOL», «Warner-Lambert», «MCI Worldcom») is no German word.
_GERMAN_NAME_MAX_ZIPF = 4.0
_GERMAN_BARE_NAME_MAX_ZIPF = 3.5
_GERMAN_BARE_NOUNS = frozenset(
    {"konzern", "konzerns", "firma", "unternehmen", "unternehmens", "gesellschaft", "gruppe"}
)
# English capitalises a name after «company», but also the day or month a report dates
# («the company Monday said»), and a word of a title-case headline.
_ENGLISH_NAME_MAX_ZIPF = 4.5


def _name_word(word: str) -> bool:
    """A word that is a name by its letters: a capital, digit or hyphen after the first one."""
    return any(c.isupper() or c.isdigit() or c in "-&" for c in word[1:])


def _plausible_name(match: re.Match[str], pattern: re.Pattern[str]) -> bool:
    """Whether the name a company-word pattern found is a name, not a common word."""
    first = match.group("name").split()[0]
    if _name_word(first):
        return True
    if pattern is _GERMAN_COMPANY:
        bare = match.group("noun").lower() in _GERMAN_BARE_NOUNS
        limit = _GERMAN_BARE_NAME_MAX_ZIPF if bare else _GERMAN_NAME_MAX_ZIPF
        return zipf(first, "de") < limit
    if pattern in (_ENGLISH_COMPANY, _ENGLISH_APPOSITION):
        return zipf(first, "en") < _ENGLISH_NAME_MAX_ZIPF and first.lower() not in _CALENDAR
    return True


_CALENDAR = frozenset(
    {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
     "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"}
)  # fmt: skip
_LOOSE = (_GERMAN_COMPANY, _ENGLISH_COMPANY, _ENGLISH_APPOSITION, _CYRILLIC_COMPANY)

# Words that may start a run of capitalised words without being part of the name.
_ARTICLES = frozenset(
    {"The", "A", "An", "Die", "Der", "Das", "Des", "Den", "Dem", "Ein", "Eine", "Einer", "Eines"}
)


_PATTERNS = (
    (_CENTRAL_BANK, None, ("ank", "анк")),
    (_LEGAL_FORM, "name", tuple(_OPEN)),
    (_SUFFIX_FORM, None, ("AG", "GmbH", "SE", "KG", "Inc", "Ltd", "plc", "PLC", "LLC", "Corp",
                          "S.A.", "N.V.", "JSC")),
    (_ORG_NOUN_QUOTED, "name", tuple(_OPEN)),
    (_WORKS, None, ("завод", "камбінат", "комбінат", "комбинат", "фабр", "werk", "Werk",
                    "fabrik", "kombinat", "Works", "Plant", "Factory", "Refinery")),
    (_THE_GROUP, "name", ("Group", "Holdings")),
    (_GERMAN_COMPANY, "name", ("onzern", "ersteller", "irma", "esellschaft", "nbieter",
                               "usrüster", "nternehmen", "onkurrent", "etreiber", "ulieferer",
                               "roduzent", "ersicherer", "ändler", "iese", "ruppe")),
    (_ENGLISH_COMPANY, "name", ("company", "firm", "group", "giant", "maker", "manufacturer",
                                "producer", "operator", "retailer", "conglomerate", "carrier",
                                "insurer", "lender", "rival", "provider", "supplier",
                                "developer", "startup", "subsidiary", "unit", "brand", "bank")),
    (_ENGLISH_APPOSITION, "name", (", the ", ", a ", ", an ")),
    (_CYRILLIC_COMPANY, "name", ("омпан", "ампан", "онцерн", "анцэрн", "орпорац", "арпарац",
                                 "олдинг", "олдынг", "ператор", "иробник", "роизводител",
                                 "ытворц", "ігант", "игант", "тейлер", "тэйлер", "рупп", "руп")),
)  # fmt: skip


@dataclass(frozen=True)
class PatternOrg:
    start: int
    end: int
    normal: str
    # A central bank «of X» is more specific than the curated short form inside it
    # («Nationalbank» of «Nationalbank von Georgien»), so it wins over it.
    central_bank: bool = False
    # Found by a word for a company before or after it: a name that is all a place («rival
    # Ukraine») is that place.
    loose: bool = False


def _span(match: re.Match[str], group: str | None) -> tuple[int, int]:
    return match.span(group) if group else match.span()


def find_organisations(text: str) -> list[PatternOrg]:
    """Organisations by the patterns above, left to right, not overlapping (the earlier pattern
    in the list above wins a tie: a central bank's name is the most specific)."""
    found: list[PatternOrg] = []
    for pattern, group, triggers in _PATTERNS:
        # Most texts have no quote, legal form or works: a substring test is far cheaper than
        # running a regular expression with alternatives at every word.
        if not any(trigger in text for trigger in triggers):
            continue
        for match in pattern.finditer(text):
            if pattern in _LOOSE and not _plausible_name(match, pattern):
                continue
            start, end = _span(match, group)
            words = text[start:end].split()
            while len(words) > 1 and words[0] in _ARTICLES:
                start = text.index(words[1], start + len(words[0]))
                words = words[1:]
            while end > start and text[end - 1] in " ,":
                end -= 1
            if end <= start or any(o.start < end and start < o.end for o in found):
                continue
            normal = " ".join(text[start:end].split())
            found.append(PatternOrg(start, end, normal, central_bank=pattern is _CENTRAL_BANK,
                                    loose=pattern in _LOOSE))  # fmt: skip
    return sorted(found, key=lambda o: o.start)
