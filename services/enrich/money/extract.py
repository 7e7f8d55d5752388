"""The money step's entries: ``extract_money`` over one text, amounts to ``MoneyMention``s with the
rouble resolved; or, when the caller needs the qualified currencies before it knows the rest of
the rule's context (the country focus reads them), ``read_money`` then ``resolve_money``. No
input text makes them raise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from services.enrich.money.amounts import article_subunits, digit_amounts, word_amounts
from services.enrich.money.rouble import (
    COUNTRY_OF_ROUBLE,
    REDENOMINATION,
    Decision,
    RoubleContext,
    RoubleRule,
    belarusian,
)
from services.enrich.money.scan import END, START, Doc, Found, lower_keeping_offsets, trie
from services.enrich.money.vocabulary import (
    CENT,
    DOLLAR_PREFIXES,
    ERA_SAMPLES,
    ERAS,
    KOPECK,
    NOUNS,
    ROUBLE,
    ZERO_DECIMAL,
)
from shared.messages import MoneyMention

__all__ = ["REDENOMINATION", "Reading", "extract_money", "read_money", "resolve_money"]

_DIGIT_RE = re.compile(r"\d")
_CODE_SHAPE_RE = re.compile(r"[A-Z]{3}")
_BELARUSIAN_CODE_RE = re.compile(r"BY[NR]")
_ERA_WORD = (
    r"(?:\(?(?P<era>" + "|".join(sorted(map(re.escape, ERAS), key=len, reverse=True)) + r")\)?)"
)
# The era inside a mention («5,000,000 current rubles», «10,000 (old) Belarussian roubles»).
_ERA_WITHIN_RE = re.compile(rf"(?<![^\W\d_]){_ERA_WORD}(?![^\W\d_])")
# The era after a mention: «рублей старого образца», «один рубль нового.» (a bare «нового»
# must end the clause, or it is an adjective of the next noun: «рублей нового кредита»).
_ERA_AFTER_RE = re.compile(
    rf"[ \t]++{_ERA_WORD}(?:[ \t]++(?:{'|'.join(ERA_SAMPLES)})(?![^\W\d_])|(?=[ \t]*+[.,;:!?)»\"]))"
)
_CODE_AFTER_RE = re.compile(r"[ \t]*+\((BY[NR])\)")
_SENTENCE_END_RE = re.compile(r"[.!?]\s")
_DOLLARS = frozenset(DOLLAR_PREFIXES.values())
# A dollar written with its country's letters («US$1.5», «S$2.04», «HK$ 5»), and one without.
_LETTERED_DOLLAR_RE = re.compile(r"[A-Za-z.]\$")
_BARE_DOLLAR_RE = re.compile(r"\$\s?[\d.,]+(?:\s?(?:[a-z]+))?")
_OLD_NOTES_WITHDRAWN = date(2017, 1, 1)
_BELARUSIAN = frozenset({"BYN", "BYR"})
_ROUND_UNITS = frozenset({Decimal(1), Decimal(10), Decimal(100), Decimal(1000)})
# A subunit written alone is a hundredth of a currency the text names: resolved after the rest.
_SUBUNITS = frozenset({CENT, KOPECK})
# The currencies whose hundredth is a kopeck (копейка, капейка, копійка).
_KOPECK_CURRENCIES = frozenset({"RUB", "RUR", "BYN", "BYR", "UAH"})
# «increased by 50 kopecks … the depreciation of the hryvnia»: the two currencies a kopeck can
# be a hundredth of, by any of their names (on the lower-cased text) or codes, priced or not.
_HRYVNIA_NAMED_RE = re.compile(
    rf"{START}(?:{trie(word for word, noun in NOUNS.items() if noun.family == 'hryvnia')}){END}"
)
_HRYVNIA_CODE_RE = re.compile(r"(?<![A-Za-z])UAH(?![A-Za-z])")
_ROUBLE_NAMED_RE = re.compile(
    rf"{START}(?:{trie(w for w, n in NOUNS.items() if n.family in {'rouble', 'belrouble'})}){END}"
)
_ROUBLE_CODE_RE = re.compile(r"(?<![A-Za-z])(?:RUB|RUR|BYN|BYR)(?![A-Za-z])")


@dataclass(frozen=True)
class Reading:
    """The amounts of one text, found but with a bare rouble not yet given its country."""

    doc: Doc
    found: tuple[Found, ...]

    def qualified_currencies(self) -> list[str]:
        """Every currency the text writes out, in text order (a bare rouble is not one)."""
        codes: list[str] = []
        for item in self.found:
            codes.extend(
                code
                for code in (item.currency, item.per_currency)
                if code and code not in (ROUBLE, CENT, KOPECK)
            )
        return codes


def read_money(text: str, *, language: str) -> Reading:
    """Every money amount and currency rate in ``text``, in text order, roubles unresolved.

    ``language`` (ISO 639-1) steers how «1.500» and «1,500» read: German «1.500» is 1500,
    English «1,500» is 1500, and elsewhere three digits after one mark are a thousands group
    unless a scale follows («1,844 млрд» is 1.844e9).
    """
    doc = Doc(text, lower_keeping_offsets(text), language.lower()[:2])
    found = digit_amounts(doc) if _DIGIT_RE.search(text) else []
    found.extend(word_amounts(doc, found))
    if doc.language == "en":
        found.extend(article_subunits(doc))
    found.sort(key=lambda item: item.start)
    return Reading(doc, tuple(found))


def resolve_money(reading: Reading, context: RoubleContext) -> list[MoneyMention]:
    """The mentions of ``reading`` with every rouble given its currency by the rule in
    ``services.enrich.money.rouble``, and the reason recorded on each mention.

    «белорусских рублей» and «Br» are always Belarusian, «российских рублей» and «₽» always
    RUB. A Belarusian rouble in a document ``published`` before the 2016-07-01 redenomination
    (10 000 : 1) is reported as BYR.
    """
    text = reading.doc.text
    qualified = [item for item in reading.found if item.currency in COUNTRY_OF_ROUBLE]
    # «за 100 российских рублей нужно заплатить 4,26 белорусских рубля»: a round unit priced is
    # the foreign rouble; the document's own roubles are the prices. Units count only alone.
    prices = [item for item in qualified if item.amount not in _ROUND_UNITS]
    explicit = [(item.start, item.currency) for item in prices or qualified]
    # A kopeck no named rouble or hryvnia claims falls back to the rule for a bare rouble.
    bare = any(
        ROUBLE in (item.currency, item.per_currency) or item.currency == KOPECK
        for item in reading.found
    )
    rule = RoubleRule(text, explicit, context) if bare else None
    home_dollar = _home_dollar(reading)
    # A cent or kopeck written alone waits (None) until the currencies around it are known.
    mentions: list[MoneyMention | None] = []
    bare_before = False
    for item in reading.found:
        written = text[item.start : item.end]
        # «$3-4 million»: the upper end of a range takes the lower end's «$».
        bare = item.currency == "USD" and (
            _BARE_DOLLAR_RE.fullmatch(written) is not None or (item.bound == "max" and bare_before)
        )
        bare_before = bare
        if item.currency in _SUBUNITS:
            mentions.append(None)
            continue
        if home_dollar is not None and bare:
            decision = Decision(home_dollar, "document", "a bare «$» where US$ is written out")
        elif item.currency == ROUBLE and item.per_currency in COUNTRY_OF_ROUBLE:
            decision = _other_rouble(item.per_currency, context.published)
        else:
            decision = _decide(item.currency, item.start, written, rule, context.published)
        if decision.currency in _BELARUSIAN:
            before = [mention for mention in mentions if mention is not None]
            decision = _by_era(reading.doc, item, decision, before, context.published)
        mentions.append(_mention(item, written, decision, rule, context.published))
    return _with_subunits(reading, mentions, rule, context.published)


def _mention(
    item: Found, written: str, decision: Decision, rule: RoubleRule | None, published: date | None
) -> MoneyMention:
    per = None
    if item.per_currency == ROUBLE and decision.currency in COUNTRY_OF_ROUBLE:
        # «174 «зайчика» за рубль»: roubles priced in roubles are the other country's.
        per = "RUB" if COUNTRY_OF_ROUBLE[decision.currency] == "BY" else "BYN"
    elif item.per_currency is not None:
        per = _decide(item.per_currency, item.end, written, rule, published).currency
    return MoneyMention(
        text=written,
        start=item.start,
        end=item.end,
        amount=float(item.amount),
        currency=decision.currency,
        bound=item.bound,
        per_currency=per,
        currency_basis=decision.basis,
        currency_note=decision.note,
    )


def _home_dollar(reading: Reading) -> str | None:
    """«Putin bestows $2 billion loan» over «a US$1.5 billion (S$2.04 billion) loan»: an outlet
    that writes the US dollar out as «US$» and one other dollar with its letters uses a bare «$»
    for that other, its home dollar."""
    text = reading.doc.text
    lettered = {
        item.currency
        for item in reading.found
        if item.currency in _DOLLARS and _LETTERED_DOLLAR_RE.search(text, item.start, item.end)
    }
    others = lettered - {"USD"}
    if "USD" in lettered and len(others) == 1:
        return others.pop()
    return None


def _era_of(doc: Doc, item: Found) -> str | None:
    """«old», «new» or «current» when the text says which rouble of a redenomination it is."""
    within = _ERA_WITHIN_RE.search(doc.lowered, item.start, item.end)
    if within is not None:
        return ERAS[within.group("era")]
    after = _ERA_AFTER_RE.match(doc.lowered, item.end)
    return None if after is None else ERAS[after.group("era")]


def _by_era(
    doc: Doc, item: Found, decision: Decision, before: list[MoneyMention], published: date | None
) -> Decision:
    """A Belarusian rouble the text calls old is BYR and new BYN, whatever the date; «10,000
    (old) Belarussian roubles to 1 Belarussian rouble»: one that follows an old one in the same
    sentence is the new one it is exchanged for. Until the old notes left circulation at the end
    of 2016, «current roubles» were the old ones, set against the new."""
    code = _CODE_AFTER_RE.match(doc.text, item.end)
    if code is not None:
        return Decision(code.group(1), "explicit", None)  # «25 Belarusian roubles (BYR)»
    era = _era_of(doc, item)
    if era == "current" and published is not None and published < _OLD_NOTES_WITHDRAWN:
        era = "old"
    if era == "old":
        return Decision("BYR", "explicit", "called the old rouble")
    if era == "new":
        return Decision("BYN", "explicit", "called the new rouble")
    if era is None and before and decision.currency == "BYR":
        last = before[-1]
        if (
            last.currency == "BYR"
            and last.currency_note == "called the old rouble"
            and _SENTENCE_END_RE.search(doc.text, last.end, item.start) is None
        ):
            return Decision("BYN", decision.basis, "exchanged for the old rouble before it")
    return decision


def _with_subunits(
    reading: Reading,
    mentions: list[MoneyMention | None],
    rule: RoubleRule | None,
    published: date | None,
) -> list[MoneyMention]:
    """Each cent and kopeck written alone (None in ``mentions``) given the currency it is a
    hundredth of (``_cent``, ``_kopeck``), in text order, so that one resolved subunit can name
    the next one's."""
    text = reading.doc.text
    for index, item in enumerate(reading.found):
        if mentions[index] is not None:
            continue
        if item.currency == CENT:
            decision = _cent(mentions, index, reading.doc.language)
        else:
            decision = _kopeck(
                mentions,
                index,
                item=item,
                language=reading.doc.language,
                doc=reading.doc,
                rule=rule,
                published=published,
            )
        if decision.currency in _BELARUSIAN:
            before = [mention for mention in mentions[:index] if mention is not None]
            decision = _by_era(reading.doc, item, decision, before, published)
        written = text[item.start : item.end]
        mentions[index] = _mention(item, written, decision, rule, published)
    return [mention for mention in mentions if mention is not None]


def _priced(
    mentions: list[MoneyMention | None], index: int, currencies: frozenset[str] | None
) -> MoneyMention | None:
    """The mention a subunit at ``index`` is most likely a hundredth of: the nearest before it,
    else after it, that names a currency (one of ``currencies``, when given) as a price. A round
    unit («10 Russian rubles», «1 dollar») is what a rate prices, not what it is priced in, so it
    counts only when nothing else does."""
    candidates = [
        mention
        for mention in (*reversed(mentions[:index]), *mentions[index + 1 :])
        if mention is not None
        and mention.currency not in ZERO_DECIMAL
        and (currencies is None or mention.currency in currencies)
    ]
    for mention in candidates:
        if Decimal(str(mention.amount)) not in _ROUND_UNITS:
            return mention
    return candidates[0] if candidates else None


def _cent(mentions: list[MoneyMention | None], index: int, language: str) -> Decision:
    """«The smallest denomination will be one cent, which will be equal to 100 rubles», «the
    dollar rose by 18 cents» in a report of hryvnia rates: a cent written alone is a hundredth of
    the currency the text prices in nearest it, else of the dollar (the euro in German)."""
    priced = _priced(mentions, index, None)
    if priced is not None:
        return Decision(priced.currency, "document", "a cent of the currency named near it")
    return Decision("EUR" if language == "de" else "USD", "default", "a cent with no currency")


def _kopeck(
    mentions: list[MoneyMention | None],
    index: int,
    *,
    item: Found,
    language: str,
    doc: Doc,
    rule: RoubleRule | None,
    published: date | None,
) -> Decision:
    """«на 2 коп. підняв курс долара … 41,75 грн», «50 копеек … 500 рублей»: a kopeck written
    alone is a hundredth of the rouble or hryvnia the text prices in nearest it; with none, of
    the one of the two the text names (the hryvnia in Ukrainian that names neither), else of the
    rouble the rule for a bare rouble gives."""
    priced = _priced(mentions, index, _KOPECK_CURRENCIES)
    if priced is not None:
        return Decision(priced.currency, "document", "a kopeck of the currency named near it")
    hryvnia = _names(doc, _HRYVNIA_NAMED_RE, _HRYVNIA_CODE_RE)
    rouble = _names(doc, _ROUBLE_NAMED_RE, _ROUBLE_CODE_RE)
    if hryvnia and not rouble:
        return Decision("UAH", "document", "a kopeck in text that names the hryvnia, no rouble")
    if language == "uk" and not rouble:
        return Decision("UAH", "default", "a kopeck in Ukrainian text that names no currency")
    if rule is not None:
        return rule.decide(item.start)
    currency, note = belarusian(published, "a kopeck with no rule")
    return Decision(currency, "default", note)


def _names(doc: Doc, words: re.Pattern[str], codes: re.Pattern[str]) -> bool:
    """Whether the text names a currency by one of its ``words`` or ``codes``."""
    return words.search(doc.lowered) is not None or codes.search(doc.text) is not None


def _other_rouble(priced: str, published: date | None) -> Decision:
    """«3,41 рубля за 100 российских рублей»: a rouble priced in roubles is the other one."""
    note = "a rouble priced in the other country's roubles"
    if COUNTRY_OF_ROUBLE[priced] == "BY":
        return Decision("RUB", "document", note)
    currency, full_note = belarusian(published, note)
    return Decision(currency, "document", full_note)


def _decide(
    code: str, start: int, written: str, rule: RoubleRule | None, published: date | None
) -> Decision:
    if code == ROUBLE and rule is not None:
        return rule.decide(start)
    if code == "BYN" and _BELARUSIAN_CODE_RE.search(written) is None:
        # «белорусских рублей», «Br»: Belarusian, but old or new roubles only the date says.
        currency, note = belarusian(published)
        return Decision(currency, "explicit", note)
    if code == "BYN" and published is not None and published < REDENOMINATION:
        return Decision("BYR", "explicit", None)
    return Decision(code, "explicit", None)


def extract_money(
    text: str,
    *,
    language: str,
    published: date | None = None,
    default_rouble: str = "RUB",
    context: RoubleContext | None = None,
) -> list[MoneyMention]:
    """Every money amount and currency rate in ``text``, in text order (``read_money``, then
    ``resolve_money``).

    ``context`` is what the document says around a bare rouble (the countries its text names,
    the header currency, its country focus); without it only the text itself and
    ``default_rouble``, the rule's last step, decide. ``published`` dates the redenomination.

    Ranges («от 5 до 7 млн долларов», «5–7 млн долларов», «between $5 and $7 million») give two
    mentions, bound ``min`` and ``max``; a lower end without its own scale or currency takes the
    upper end's. A rate («4930 рублей за доллар») is one mention whose ``per_currency`` is the
    unit priced.

    Raises ``ValueError`` only for a ``default_rouble`` that is not an ISO 4217-shaped code.
    """
    if not _CODE_SHAPE_RE.fullmatch(default_rouble):
        raise ValueError(f"default_rouble must be an ISO 4217 code, not {default_rouble!r}")
    if context is None:
        context = RoubleContext(published=published, fallback=default_rouble)
    return resolve_money(read_money(text, language=language), context)
