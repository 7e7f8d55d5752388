"""What every reader of the money parser shares: the text being parsed (``Doc``), a mention
before it becomes a message (``Found``), and the regex pieces and trie builder they compile with.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

SP = r"[ \t\u00a0\u202f\u2009]"
SPACES = frozenset(" \t\u00a0\u202f\u2009")
END = r"(?![^\W\d_])"  # not followed by a letter
START = r"(?<![^\W\d_])"  # not preceded by a letter
_TrieNode = dict[str, "_TrieNode"]


def trie(words: Iterable[str]) -> str:
    """One regex alternative for many words, shaped as a trie: sre tries a flat alternation of
    a thousand words one by one at every position, a trie only along the letters present."""
    root: _TrieNode = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # the word may end here

    def emit(node: _TrieNode) -> str:
        # A space in a listed form («доллар сша») stands for any run of whitespace.
        branches = [
            (r"\s++" if char == " " else re.escape(char)) + emit(child)
            for char, child in sorted(node.items())
            if char
        ]
        if not branches:
            return ""
        if len(branches) == 1 and "" not in node:
            return branches[0]
        body = "(?:" + "|".join(branches) + ")"
        return body + "?" if "" in node else body

    return emit(root)


Bound = Literal["exact", "min", "max"]


@dataclass(frozen=True)
class Doc:
    """The text being parsed, its lower-cased twin (same offsets) and its language."""

    text: str
    lowered: str
    language: str


def lower_keeping_offsets(text: str) -> str:
    """``text`` in lower case with every character at its original offset."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # A few letters grow when lower-cased («İ» gives two code points); keep the first.
    return "".join(char.lower()[0] for char in text)


@dataclass
class Found:
    """A mention before it becomes a ``MoneyMention`` (a range may still rewrite it)."""

    start: int
    end: int
    amount: Decimal
    currency: str
    bound: Bound = "exact"
    per_currency: str | None = None
    # For a rate: the priced unit written after it («за доллар», «за 100 российских рублей»);
    # a mention of its own when it carries a number (``numbered``), as «1 доллар» does and a
    # bare «доллар» does not.
    unit: Found | None = None
    numbered: bool = True
