"""Canonical form of decoded text, so that equal content compares, hashes and dedupes equal.

Only invisible differences are removed (line endings, control and zero-width characters, kinds
and runs of horizontal space, Unicode composition); words and punctuation are never changed. The
one thing ever added is an invisible joiner inside a run of more than 30 combining marks, which
no real text has (see ``stream_safe``).
"""

from __future__ import annotations

import functools
import re
import sys
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

# UAX #15 Stream-Safe Text Format: at most 30 non-starters (combining marks) in a row, a
# COMBINING GRAPHEME JOINER inserted where a run would go past that. CPython sorts each run of
# combining marks into canonical order by insertion sort, so NFC of a long run of marks with
# mixed combining classes is quadratic (measured: 40 000 alternating U+0301 U+0316 took 4.8 s,
# 200 KB of them minutes). No real word has more than a handful of marks; the joiner is
# invisible, and the standard's own remedy, so the text still reads and compares the same.
MAX_NON_STARTERS: Final = 30
_CGJ: Final = "\u034f"


@functools.cache
def _non_starters() -> tuple[dict[str, int], re.Pattern[str]]:
    """Each character whose decomposition starts with a non-starter -> how many it starts with,
    and a pattern for a run of them long enough to need a joiner.

    Built on first use from the running Python's Unicode database (the one ``normalize`` uses),
    not at import: it reads every code point (~0.1 s once per process).
    """
    lead: dict[str, int] = {}
    most_trailing = 0
    combining, decomposition = unicodedata.combining, unicodedata.decomposition
    every = map(chr, range(sys.maxunicode + 1))
    for char in [c for c in every if combining(c) or decomposition(c)]:
        parts = unicodedata.normalize("NFKD", char)
        # Only characters made of non-starters alone continue a run (Unicode has none that
        # start with a mark and go on with a letter); anything else starts a new one.
        if all(map(combining, parts)):
            lead[char] = len(parts)
        else:
            most_trailing = max(most_trailing, _trailing_non_starters(char))
    # A run shorter than this cannot pass the limit, whatever comes before it (Unicode 14: each
    # character of a run brings at most 2 non-starters, the one before it at most 3; 14).
    shortest = (MAX_NON_STARTERS - most_trailing) // max(lead.values()) + 1
    # The class as ranges (917 characters are 187 ranges). No lookbehind to anchor a match at
    # the start of a run: scanning left to right, a match always starts where a run does and
    # takes all of it, and a lookbehind made the scan of ordinary text six times slower.
    ranges: list[list[int]] = []
    for code in sorted(map(ord, lead)):
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    members = "".join(
        re.escape(chr(first)) + ("" if first == last else "-" + re.escape(chr(last)))
        for first, last in ranges
    )
    return lead, re.compile(f"[{members}]{{{shortest},}}")


def _trailing_non_starters(char: str) -> int:
    count = 0
    for part in reversed(unicodedata.normalize("NFKD", char)):
        if not unicodedata.combining(part):
            break
        count += 1
    return count


def stream_safe(text: str) -> str:
    """``text`` in UAX #15 Stream-Safe Text Format (unchanged unless it has a run of marks)."""
    lead, risky = _non_starters()

    def joined(match: re.Match[str]) -> str:
        count = _trailing_non_starters(text[match.start() - 1 : match.start()])
        out: list[str] = []
        for char in match.group():
            if count + lead[char] > MAX_NON_STARTERS:
                out.append(_CGJ)
                count = 0
            out.append(char)
            count += lead[char]
        return "".join(out)

    return risky.sub(joined, text)


def normalize_text(text: str) -> str:
    """NFC, "\\n" line ends, no control or zero-width characters, single spaces, stripped lines."""
    text = text.replace("\r\n", "\n").translate(_TABLE)
    # Composed after the invisible characters are gone, so a mark separated from its letter by
    # one of them still combines; made stream-safe first, so that composing stays linear.
    text = unicodedata.normalize("NFC", stream_safe(text))
    text = _HORIZONTAL_SPACE.sub(" ", text)
    return "\n".join(line.strip() for line in text.split("\n"))
