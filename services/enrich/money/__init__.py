"""Money amounts and currency rates in news text (ru, be, uk, de, en), as ISO 4217 mentions.

A number is money only when a currency is written next to it (a sign, a code or a word, with at
most a scale such as «млн» or «Mrd.» in between): counts, years, dates, times, percentages and
phone numbers never are. Pure functions over the text: no I/O after the vocabulary is read, no
state, and no input text makes ``extract_money`` raise.

Speed matters (thousands of documents a second): every regex is compiled once, none uses
``re.IGNORECASE`` (word patterns run on a lower-cased copy of the text instead, which is several
times faster), and the number words are one trie-shaped pattern. Time must stay linear in the
text whatever it holds: every run of spaces is taken possessively (``*+``, ``++``; what follows
a run is never a space, so nothing is lost), since two runs that could share the same spaces,
as in ``{SP}*(?:,|и)?{SP}*``, backtrack quadratically (100 000 spaces after «рублей» took
397 s), and no step looks at every earlier mention for each new one.

The modules, one job each:

- ``extract``: the entry point, ``extract_money``;
- ``amounts``: finding amounts in digits and in words;
- ``currency``: the currency written before or after a number;
- ``numbers``: the value of digits, scales, number words and subunits;
- ``ranges``: ranges and rates;
- ``rouble``: whose rouble a bare «рублей» is (the document's rule), and why;
- ``rates``: currency rates, read off the mentions, and the header line's;
- ``scan``: the parsed text and the regex pieces the readers share;
- ``vocabulary``: codes, signs and words from ``data/money_*.toml`` and pycountry.
"""

from __future__ import annotations

from services.enrich.money.extract import Reading, extract_money, read_money, resolve_money
from services.enrich.money.rates import find_rates, header_rate, local_currency
from services.enrich.money.rouble import Place, RoubleContext

__all__ = [
    "VERSION",
    "Place",
    "Reading",
    "RoubleContext",
    "extract_money",
    "find_rates",
    "header_rate",
    "local_currency",
    "read_money",
    "resolve_money",
]

VERSION = "8"
