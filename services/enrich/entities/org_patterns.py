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
_SUFFIX_FORM = re.compile(
    rf"\b(?P<name>(?:[{_UPPER}][\w&.'’-]*\s+){{0,3}}[{_UPPER}][\w&.'’-]*)\s+"
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
)  # fmt: skip


@dataclass(frozen=True)
class PatternOrg:
    start: int
    end: int
    normal: str
    # A central bank «of X» is more specific than the curated short form inside it
    # («Nationalbank» of «Nationalbank von Georgien»), so it wins over it.
    central_bank: bool = False


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
            found.append(PatternOrg(start, end, normal, central_bank=pattern is _CENTRAL_BANK))
    return sorted(found, key=lambda o: o.start)
