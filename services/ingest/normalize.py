"""Canonical form of decoded text, so that equal content compares, hashes and dedupes equal.

Only invisible differences are removed (line endings, control and zero-width characters, kinds
and runs of horizontal space, Unicode composition); words and punctuation are never changed.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

# Characters that end a line in Unicode (UAX #14 mandatory breaks). Turned into "\n" rather than
# deleted, which would glue the words on either side together.
_LINE_BREAKS: Final = "\r\x0b\x0c\x85\u2028\u2029"

# Invisible characters that web copy and Word leave behind: zero-width space, non-joiner and
# joiner, word joiner, BOM / zero-width no-break space, soft hyphen, and the bidi marks and
# embeddings. They break search and make equal paragraphs compare unequal. Our languages never
# need them (scripts that do, such as Persian, are out of scope).
_INVISIBLE: Final = (
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _translation() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for code in [*range(0x00, 0x20), *range(0x7F, 0xA0)]:
        table[code] = None
    for char in _LINE_BREAKS:
        table[ord(char)] = "\n"
    table[ord("\n")] = "\n"
    table[ord("\t")] = " "
    for char in _INVISIBLE:
        table[ord(char)] = None
    return table


_TABLE: Final = _translation()
# Python's \s covers every Unicode space separator (NBSP, thin, figure, ideographic ...).
_HORIZONTAL_SPACE: Final = re.compile(r"[^\S\n]+")


def normalize_text(text: str) -> str:
    """NFC, "\\n" line ends, no control or zero-width characters, single spaces, stripped lines."""
    text = text.replace("\r\n", "\n").translate(_TABLE)
    # Composed after the invisible characters are gone, so a mark separated from its letter by
    # one of them still combines.
    text = unicodedata.normalize("NFC", text)
    text = _HORIZONTAL_SPACE.sub(" ", text)
    return "\n".join(line.strip() for line in text.split("\n"))
