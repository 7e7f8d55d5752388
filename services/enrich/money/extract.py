"""The money step's entry: ``extract_money`` over one text, amounts to ``MoneyMention``s with the
rouble resolved. No input text makes it raise.
"""

from __future__ import annotations

import re
from datetime import date

from services.enrich.money.amounts import digit_amounts, word_amounts
from services.enrich.money.scan import Doc, lower_keeping_offsets
from services.enrich.money.vocabulary import ROUBLE
from shared.messages import MoneyMention

# The National Bank of Belarus struck four zeros off the rouble on this day: BYR before, BYN after.
REDENOMINATION = date(2016, 7, 1)
_DIGIT_RE = re.compile(r"\d")
_CODE_SHAPE_RE = re.compile(r"[A-Z]{3}")


def extract_money(
    text: str, *, language: str, published: date | None = None, default_rouble: str = "RUB"
) -> list[MoneyMention]:
    """Every money amount and currency rate in ``text``, in text order.

    ``language`` (ISO 639-1) steers how «1.500» and «1,500» read: German «1.500» is 1500,
    English «1,500» is 1500, and elsewhere three digits after one mark are a thousands group
    unless a scale follows («1,844 млрд» is 1.844e9).

    A rouble the text does not qualify («рублей», «руб.», «р.», «Rubel», «roubles») is
    ``default_rouble``: the caller passes ``"BYN"`` when the document carries a BYN header or
    comes from a Belarusian source, else leaves ``"RUB"``. «белорусских рублей» and «Br» are
    always BYN, «российских рублей» and «₽» always RUB. A Belarusian rouble in a document
    ``published`` before the 2016-07-01 redenomination (10 000 : 1) is reported as BYR.

    Ranges («от 5 до 7 млн долларов», «5–7 млн долларов», «between $5 and $7 million») give two
    mentions, bound ``min`` and ``max``; a lower end without its own scale or currency takes the
    upper end's. A rate («4930 рублей за доллар») is one mention whose ``per_currency`` is the
    unit priced; a rate per 100 units («за 100 российских рублей») is not read as a rate, as the
    message has no field for the quantity.

    Raises ``ValueError`` only for a ``default_rouble`` that is not an ISO 4217-shaped code.
    """
    if not _CODE_SHAPE_RE.fullmatch(default_rouble):
        raise ValueError(f"default_rouble must be an ISO 4217 code, not {default_rouble!r}")
    doc = Doc(text, lower_keeping_offsets(text), language.lower()[:2])
    found = digit_amounts(doc) if _DIGIT_RE.search(text) else []
    found.extend(word_amounts(doc, found))
    found.sort(key=lambda item: item.start)
    return [
        MoneyMention(
            text=text[item.start : item.end],
            start=item.start,
            end=item.end,
            amount=float(item.amount),
            currency=_resolve(item.currency, default_rouble, published),
            bound=item.bound,
            per_currency=(
                None
                if item.per_currency is None
                else _resolve(item.per_currency, default_rouble, published)
            ),
        )
        for item in found
    ]


def _resolve(code: str, default_rouble: str, published: date | None) -> str:
    if code == ROUBLE:
        code = default_rouble
    if code == "BYN" and published is not None and published < REDENOMINATION:
        return "BYR"
    return code
