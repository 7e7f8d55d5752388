"""Currency rates quoted in the text, read off the money mentions around them: one ``base``
costs ``value`` of ``quote``.

- a price per unit: «4930 руб. за $1», «курс 3,41 рубля за доллар», «8.600 Rubel pro Dollar»,
  «4,930 roubles to the dollar», «3,41 рубля за 100 российских рублей» (0.0341 per rouble);
- an equation: «1 доллар США = 3,1720 рубля», «1 долар — 41,5 гривні»;
- a currency the sentence is about, then its price after a verb or a word of level: «долар …
  тепер коштує 42,30 гривень», «Доллар … торгуется на уровне 2,45 рубля», «Евро подорожал на
  1,1%, текущий курс 2,38 рубля», «the Euro was trading at the level of 26.66 UAH»;
- a rate table of codes and numbers: «USD 3,2456 / EUR 3,5142», quoted in the local currency
  the caller names (the header's, or the focus country's), since a table never writes it;
- a row of a rate list, a unit or a currency's name, a dash and a bare number, in the local
  currency too: «100 доларів США – 2607.1164», «Еўра — 3.813,95»;
- the header line: ``header_rate``, whose ``base`` stays null (the header never says what its
  rate is of).

Pure functions; the mentions must be ``resolve_money``'s for ``reading``, one per found amount.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from services.enrich.money.currency import currency_after
from services.enrich.money.extract import Reading
from services.enrich.money.numbers import number_value
from services.enrich.money.ranges import rate as unit_priced
from services.enrich.money.rouble import COUNTRY_OF_ROUBLE, belarusian
from services.enrich.money.scan import Found
from services.enrich.money.vocabulary import CENT, KOPECK, ROUBLE
from shared.messages import CurrencyRate, HeaderRate, MoneyMention

# Between the unit and its price in an equation: «=», a dash or a colon, English «of» alone
# («the official rate … 1 US dollar of 24.03 UAH»), or a verb of worth after at most a few words
# («1 доллар США равен 3,1720 рубля», «один доллар по официальному курсу стоит 4 тыс. 930
# белорусских рублей»). Read only on a gap of at most ``_MAX_GAP``.
_EQUALS_RE = re.compile(
    r"[ \t\u00a0]*+(?:[=—–:-]|of(?=[ \t\u00a0])|(?:[^\W\d]+[ \t\u00a0]++){0,4}"
    r"(?:равен|равна|равно|равнялся|равнялась|стоит|стоил|стоило|составляет|составил|"
    r"коштує|коштував|дорівнює|каштуе|каштаваў|роўны|kostet|kostete|entspricht|entsprach|"
    r"заплатить|заплатити|платят|платять|дают|дадут|дають|"
    r"sind|waren|gegenwert[ \t]von|(?:wurde|wird|wurden|werden)(?:[ \t]++[^\W\d]+)?[ \t]++mit|"
    r"costs?|is[ \t]worth|was[ \t]worth|equals?|quoted[ \t]at)"
    # «Für einen Euro sind nun 12.100 Rubel»: a word of time or of about after the verb.
    r"(?:[ \t\u00a0]++(?:nun|jetzt|heute|bereits|schon|rund|etwa|теперь|уже|сейчас|примерно|"
    r"около|тепер|вже|зараз|приблизно|близько|now|already|today|about|around|nearly))?"
    r")[ \t\u00a0]*+",
    re.IGNORECASE,
)
_MAX_GAP = 60
# «Долар ЗША — 3.005 …»: a currency's name at the start of a line or clause, then a dash.
_NAMED_UNIT_RE = re.compile(
    r"(?:^|(?<=[\n.;:,]))[ \t]*+(?P<name>[^\W\d][^\W\d \t]*+(?:[ \t][^\W\d]++){0,2})"
    r"[ \t]*+[—–-][ \t]*+\Z",
    re.MULTILINE,
)
_MAX_NAME = 40
# Right before a price: a verb of worth or a word of level («коштує», «на уровне», «курс», «at
# the level of», «rose to»), for a rate whose unit is the currency the sentence is about.
_LEVEL_BEFORE_RE = re.compile(
    r"(?<![^\W\d_])(?:"
    r"кошту(?:є|вав|вала|ватиме)|сто(?:ит|ил[аио]?|ят|или)|кашту(?:е|е|аваў)|"
    r"на[ \t]рівні|на[ \t]уровне|на[ \t]узроўні|до[ \t]рівня|до[ \t]уровня|"
    r"позначку|позначки|отметку|отметки|курс|курсом|"
    r"состав(?:ляет|ил[аои]?|ит|лял[аи]?)|станов(?:ить|ив|ила|итиме)|склав|склала|складає|"
    r"(?:подорожчав|подешевшав|здешевів|зріс|знизився|подорожал|подешевел|вырос|упал|"
    r"снизился|поднялся|опустился)[ \t]до|"
    r"costs?|cost|worth|level[ \t]of|mark[ \t]of|(?:rose|fell|dropped|climbed)[ \t]to|"
    r"amounts?[ \t]to|amounted[ \t]to|stood[ \t]at|set[ \t]at|quoted[ \t]at|"
    r"(?:sold|bought|sells|buys)[ \t]for|(?:traded|trades|trading)[ \t]at|"
    r"(?:was|were|is|are|settled)[ \t]at|"
    r"kostet|kostete|gegenwert[ \t]von|(?:stieg|fiel|sank)[ \t]auf|(?:wurde|wird)[ \t]mit|"
    r"für[ \t](?:den|einen)[ \t][^\W\d_]++"
    r")(?:[ \t]++[^\W\d_]++){0,2}[ \t]++\Z",
    re.IGNORECASE,
)
_MAX_LEVEL = 40
# A row of a rate list: a head (a unit or a currency's name), a dash, a bare number, line end.
_BARE_ROW_RE = re.compile(
    r"^[ \t]*+(?P<head>[^\n—–=-][^\n—–=]{0,38}?)[ \t]*+[—–=-][ \t]*+"
    r"(?P<number>\d[\d.,]*+)[ \t]*+[;.]?[ \t]*+$",
    re.MULTILINE,
)
# «на рівні 8,7 за 1 долар»: a bare number priced per a unit with its number, right before it.
_BARE_PRICE_RE = re.compile(
    r"(?<![\d.,])(?P<number>\d[\d.,]*+)[ \t\u00a0]++(?:за|per|pro|je|für)[ \t\u00a0]++\Z",
    re.IGNORECASE,
)
_MAX_BARE_PRICE = 30
# A number standing alone: not part of a longer number, a word or a date; its digits may be
# grouped by spaces («4 930»).
_BARE_NUMBER_RE = re.compile(
    r"(?<![\w.,/-])(?<!\d[ \u00a0])"
    r"(?:\d{1,3}(?:[ \u00a0]\d{3})++(?:[.,]\d++)?|\d[\d.,]*+(?<=\d))(?![\w%])"
)
# What makes a bare number priced per a currency a rate: a word of rate or exchange in its
# sentence before it (a score «3 to 1» or «20 a dollar» of a shop sign has none).
_RATE_WORD_RE = re.compile(
    r"(?<![^\W\d_])(?:курс|kurs|wechselkurs|rate|exchange|devalu|abgewertet|abwertung|"
    r"девальв|дэвальв)",
    re.IGNORECASE,
)
_MAX_RATE_CONTEXT = 200
_BELARUSIAN = frozenset({"BYN", "BYR"})
_ROUBLES = _BELARUSIAN | {"RUB"}
# A rate's price is a price of one unit, never billions («в долларах составил 2 млрд рублей»).
_MAX_RATE = 100_000
_DENOMINATED_RE = re.compile(r"(?<![^\W\d_])(?:в|у|ў|in|im)[ \t]++\Z", re.IGNORECASE)
# Where a sentence starts: after a stop and a space, or a line break.
_SENTENCE_START_RE = re.compile(r"(?:[.!?][ \t]|\n)(?!.*(?:[.!?][ \t]|\n))", re.DOTALL)
_WORD_START_RE = re.compile(r"(?<![^\W\d_])[^\W\d_]")
_NOT_UNITS = frozenset({ROUBLE, CENT, KOPECK})
_SUBUNITS = frozenset({CENT, KOPECK})
_UNIT_AMOUNTS = frozenset({1.0, 10.0, 100.0, 1000.0})
# A row of a rate table: an ISO code, then the number («USD 3,2456»).
_TABLE_ENTRY_RE = re.compile(r"[A-Z]{3}[ \u00a0]?\d")
_TABLE_GAP_RE = re.compile(r"\s*+[/;,|]?\s*+")
_VALUE_DIGITS = 6
# One «USD 3,2456» is an amount; a table has rows.
_TABLE_MIN_ROWS = 2
# The currency a country's rate tables are quoted in (a Belarusian one by the date).
_LOCAL = {"RU": "RUB", "UA": "UAH", "KZ": "KZT", "PL": "PLN"}


def find_rates(
    reading: Reading, mentions: Sequence[MoneyMention], *, local: str | None
) -> list[CurrencyRate]:
    """Every rate quoted in the text of ``reading``, in text order."""
    text = reading.doc.text
    found = reading.found
    rates: list[CurrencyRate] = []
    in_rate: set[int] = set()
    for index, item in enumerate(found):
        unit = item.unit
        price = mentions[index]
        if unit is None or price.per_currency is None:
            continue
        rates.append(_priced_per_unit(text, price, price.per_currency, unit))
        in_rate.add(index)
        if index + 1 < len(found) and found[index + 1] is unit:
            in_rate.add(index + 1)
        lower = mentions[index - 1] if index else None
        if price.bound == "max" and lower is not None and lower.bound == "min":
            # «8,45-8,55 грн/дол.»: the lower end of a range is priced per the same unit.
            rates.append(_priced_per_unit(text, lower, price.per_currency, unit))
            in_rate.add(index - 1)
    for index in range(len(mentions) - 1):
        first, second = mentions[index], mentions[index + 1]
        if {index, index + 1} & in_rate or not _is_equation(text, first, second):
            continue
        rates.append(_rate(text, first, second, first.start, second.end))
        in_rate |= {index, index + 1}
    for index, price in enumerate(mentions):
        if index not in in_rate and (named := _named_unit(reading, price)) is not None:
            rates.append(named)
            in_rate.add(index)
    for index, price in enumerate(mentions):
        if index not in in_rate and (subject := _subject_rate(reading, mentions, index)):
            rates.append(subject)
            in_rate.add(index)
            upper = mentions[index + 1] if index + 1 < len(mentions) else None
            if price.bound == "min" and upper is not None and upper.bound == "max":
                # «at the level of 26.66/26,69 UAH»: the upper end is the same currency's price.
                rates.append(subject.model_copy(update={"value": upper.amount}))
                in_rate.add(index + 1)
    if local is not None:
        rates.extend(_table(text, mentions, in_rate, local))
        rates.extend(_bare_rows(reading, mentions, local))
        rates.extend(_bare_prices(reading, mentions, in_rate, local))
        rates.extend(_bare_per_unit(reading, mentions, local, taken_by=rates))
    rates.sort(key=lambda rate: rate.start or 0)
    return rates


def _priced_per_unit(text: str, price: MoneyMention, base: str, unit: Found) -> CurrencyRate:
    """«4930 руб. за $1»: ``price`` is what one ``unit`` (written after it) costs."""
    return CurrencyRate(
        base=base,
        quote=price.currency,
        value=round(price.amount / float(unit.amount), _VALUE_DIGITS + 4),
        text=text[price.start : unit.end],
        start=price.start,
        end=unit.end,
    )


def _rate(text: str, unit: MoneyMention, price: MoneyMention, start: int, end: int) -> CurrencyRate:
    return CurrencyRate(
        base=unit.currency,
        quote=price.currency,
        value=round(price.amount / unit.amount, _VALUE_DIGITS + 4),
        text=text[start:end],
        start=start,
        end=end,
    )


def _subject_rate(
    reading: Reading, mentions: Sequence[MoneyMention], index: int
) -> CurrencyRate | None:
    """«В обмінних пунктах долар також подорожчав на 10 копійок і тепер коштує 42,30
    гривень»: a price right after a verb of worth or a word of level is the rate of the
    currency its sentence names last before it, outside any amount and other than the price's
    own; an amount of a third currency in between says the sentence is not about one rate."""
    text, price = reading.doc.text, mentions[index]
    if price.amount >= _MAX_RATE or reading.found[index].currency in _SUBUNITS:
        return None  # «the dollar fell to eight cents»: a change told in cents, not a price
    level = _LEVEL_BEFORE_RE.search(text, max(0, price.start - _MAX_LEVEL), price.start)
    if level is None:
        return None
    opening = _SENTENCE_START_RE.search(text, max(0, level.start() - _MAX_GAP * 3), level.start())
    sentence_start = opening.end() if opening is not None else max(0, level.start() - _MAX_GAP * 3)
    before = [m for m in mentions[:index] if m.end > sentence_start]
    if any(m.currency != price.currency for m in before):
        return None
    base = None
    for word in _WORD_START_RE.finditer(text, sentence_start, price.start):
        if any(m.start <= word.start() < m.end for m in before):
            continue
        if _DENOMINATED_RE.search(text, max(0, word.start() - 4), word.start()):
            continue  # «товарооборот в долларах составил …»: what an amount is counted in
        named = currency_after(reading.doc, word.start())
        if named is None or named.start != word.start() or named.scale != 1:
            continue
        if named.code not in _NOT_UNITS and not _same_money(named.code, price.currency):
            base = named
    if base is None:
        return None
    return CurrencyRate(
        base=base.code,
        quote=price.currency,
        value=price.amount,
        text=text[base.start : price.end],
        start=base.start,
        end=price.end,
    )


def _same_money(first: str, second: str) -> bool:
    """One currency, or one country's rouble before and after a redenomination (BYR, BYN)."""
    country = COUNTRY_OF_ROUBLE.get(first)
    return first == second or (country is not None and country == COUNTRY_OF_ROUBLE.get(second))


def _named_unit(reading: Reading, price: MoneyMention) -> CurrencyRate | None:
    """A row of a rate report, «Долар ЗША — 3.005 беларускіх рублёў», «Расійскі рубель — 98,19
    рубля»: a currency named at the start of a line or clause, a dash, and its price."""
    text = reading.doc.text
    head = _NAMED_UNIT_RE.search(text, max(0, price.start - _MAX_NAME), price.start)
    if head is None:
        return None
    unit = currency_after(reading.doc, head.start("name"))
    if unit is None or unit.end != head.end("name") or unit.code in {price.currency, ROUBLE}:
        return None
    start = head.start("name")
    return CurrencyRate(
        base=unit.code,
        quote=price.currency,
        value=price.amount,
        text=text[start : price.end],
        start=start,
        end=price.end,
    )


def _is_equation(text: str, unit: MoneyMention, price: MoneyMention) -> bool:
    """«1 доллар США = 3,1720 рубля»: a round unit, a sign between, another currency."""
    return (
        unit.amount in _UNIT_AMOUNTS
        and unit.currency != price.currency
        and unit.bound == price.bound == "exact"
        and price.start - unit.end <= _MAX_GAP
        and _EQUALS_RE.fullmatch(text, unit.end, price.start) is not None
    )


def _bare_rows(
    reading: Reading, mentions: Sequence[MoneyMention], local: str
) -> list[CurrencyRate]:
    """Rows of a rate list whose prices carry no currency, one per line: «100 доларів США –
    2607.1164», «Расійскі рубель — 98,19». The unit is an amount of a round unit or a
    currency's name filling the row's head; the price is in the local currency."""
    doc, rates = reading.doc, []
    units = {(m.start, m.end): m for m in mentions if m.amount in _UNIT_AMOUNTS}
    for row in _BARE_ROW_RE.finditer(doc.text):
        start, end = row.span("head")
        unit = units.get((start, end))
        if unit is not None:
            base, per = unit.currency, unit.amount
        else:
            named = currency_after(doc, start)
            if named is None or named.end != end or named.scale != 1:
                continue
            base, per = named.code, 1.0
        value = number_value(row.group("number"), doc.language, scaled=False, currency=local)
        if value is None or base in _NOT_UNITS or base == local:
            continue
        rates.append(
            CurrencyRate(
                base=base,
                quote=local,
                value=round(float(value) / per, _VALUE_DIGITS + 4),
                text=doc.text[start : row.end("number")],
                start=start,
                end=row.end("number"),
            )
        )
    return rates


def _bare_prices(
    reading: Reading, mentions: Sequence[MoneyMention], taken: set[int], local: str
) -> list[CurrencyRate]:
    """«НБУ встановив курс гривні по відношенню до долара на рівні 8,7 за 1 долар»: a number
    with no currency priced per a round unit of another currency, after a word of level or
    worth, is the unit's price in the local currency."""
    text, rates = reading.doc.text, []
    for index, unit in enumerate(mentions):
        if index in taken or unit.amount not in _UNIT_AMOUNTS or unit.currency in _NOT_UNITS:
            continue
        if unit.currency == local:
            continue
        head = text[max(0, unit.start - _MAX_BARE_PRICE) : unit.start]
        bare = _BARE_PRICE_RE.search(head)
        if bare is None:
            continue
        start = unit.start - len(head) + bare.start("number")
        if _LEVEL_BEFORE_RE.search(text, max(0, start - _MAX_LEVEL), start) is None:
            continue
        found = _bare_rate(reading, bare.group("number"), local, unit, start)
        if found is not None:
            rates.append(found)
    return rates


def _bare_per_unit(
    reading: Reading,
    mentions: Sequence[MoneyMention],
    local: str,
    *,
    taken_by: Sequence[CurrencyRate],
) -> list[CurrencyRate]:
    """«the new official rate for the currency is 36.5686 to the U.S. dollar», «курс — 22,719/$»:
    a number with no currency of its own, priced per another currency's unit, after a word of
    rate in its sentence, is the unit's price in the currency the sentence names before it
    («the rate of the Russian rouble of 63/$»), else in the local one (the one the article is
    about: a Belarusian reader reads «4930 за доллар» in a Minsk story as roubles)."""
    text, rates = reading.doc.text, []
    spans = [(mention.start, mention.end) for mention in mentions]
    spans += [(r.start, r.end) for r in taken_by if r.start is not None and r.end is not None]
    for number in _BARE_NUMBER_RE.finditer(text):
        start, end = number.span()
        # The unit first: one regex match right after the number, which most numbers fail.
        unit = unit_priced(reading.doc, end, local)
        if unit is None or unit.currency in _NOT_UNITS or unit.amount not in _UNIT_AMOUNTS:
            continue
        if any(first < end and start < last for first, last in spans):
            continue
        sentence = _SENTENCE_START_RE.search(text, max(0, start - _MAX_RATE_CONTEXT), start)
        context_start = sentence.end() if sentence else max(0, start - _MAX_RATE_CONTEXT)
        if _RATE_WORD_RE.search(text, context_start, start) is None:
            continue
        quote = _named_quote(reading, context_start, start, local) or local
        if quote == unit.currency:
            continue
        found = _bare_rate(reading, number.group(), quote, unit, start)
        if found is not None:
            rates.append(found)
    return rates


def _bare_rate(
    reading: Reading, raw: str, quote: str, unit: MoneyMention | Found, start: int
) -> CurrencyRate | None:
    """The rate that a bare number ``raw`` at ``start`` says: ``unit``'s price in ``quote``, or
    None when it is no price of one unit."""
    value = number_value(raw, reading.doc.language, scaled=False, currency=quote)
    if value is None or value <= 0 or value >= _MAX_RATE or unit.currency is None:
        return None
    return CurrencyRate(
        base=unit.currency,
        quote=quote,
        value=round(float(value) / float(unit.amount), _VALUE_DIGITS + 4),
        text=reading.doc.text[start : unit.end],
        start=start,
        end=unit.end,
    )


def _named_quote(reading: Reading, start: int, end: int, local: str) -> str | None:
    """The last currency named between ``start`` and ``end`` (a bare rouble is the local
    currency when that is a rouble, and says nothing otherwise; a Belarusian one is the
    article's, by its date)."""
    named, after = None, start
    for word in _WORD_START_RE.finditer(reading.doc.text, start, end):
        if word.start() < after:
            continue  # inside the currency just read («Russian rouble»: not «rouble» again)
        found = currency_after(reading.doc, word.start())
        if found is None or found.end > end:
            continue
        after = found.end
        if found.code == ROUBLE:
            named = local if local in _ROUBLES else None
        elif found.code not in _SUBUNITS:
            named = found.code
    if named in _BELARUSIAN and local in _BELARUSIAN:
        return local  # «the Belarus rouble» of the article's date: BYR before July 2016
    return named


def _table(
    text: str, mentions: Sequence[MoneyMention], taken: set[int], local: str
) -> list[CurrencyRate]:
    """Rows of a rate table: two or more «CODE number» mentions one after the other."""
    rows = [
        index
        for index, mention in enumerate(mentions)
        if index not in taken
        and mention.currency != local
        and _TABLE_ENTRY_RE.match(mention.text) is not None
        and mention.amount != int(mention.amount)
    ]
    rates: list[CurrencyRate] = []
    run: list[int] = []
    for index in rows:
        if run and not (
            index == run[-1] + 1
            and _TABLE_GAP_RE.fullmatch(text, mentions[run[-1]].end, mentions[index].start)
        ):
            rates.extend(_table_rates(mentions, run, local))
            run = []
        run.append(index)
    rates.extend(_table_rates(mentions, run, local))
    return rates


def _table_rates(
    mentions: Sequence[MoneyMention], run: Sequence[int], local: str
) -> list[CurrencyRate]:
    if len(run) < _TABLE_MIN_ROWS:
        return []
    return [
        CurrencyRate(
            base=mentions[index].currency,
            quote=local,
            value=mentions[index].amount,
            text=mentions[index].text,
            start=mentions[index].start,
            end=mentions[index].end,
        )
        for index in run
    ]


def header_rate(header: HeaderRate) -> CurrencyRate:
    """The header line's rate as a rate: its quote currency and value, its base unknown."""
    return CurrencyRate(
        base=None,
        quote=header.currency,
        value=header.value,
        text=f"{header.value:g} {header.currency}",
    )


def local_currency(country: str | None, published: date | None) -> str | None:
    """The currency a document about ``country`` quotes its rates in, if this module knows it."""
    if country == "BY":
        return belarusian(published)[0]
    return _LOCAL.get(country or "")
