"""Turn a raw file's bytes into text, or say plainly why they are not text.

Order matters: a byte order mark wins, then UTF-16 recognised by its zero bytes, then strict
UTF-8, and only then a guess among the legacy single-byte encodings our sources use. The guess is
restricted to those few candidates because an open-ended detector mistakes short Russian text
for Shift-JIS or CP1125. The returned encoding name is always a Python codec name that decodes
the same bytes to the same text, and comes from a small fixed set (it is used as a log field).

This module never repairs or cleans text; that is ``normalize``'s job.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import pairwise
from typing import Final

from charset_normalizer import from_bytes

from shared.errors import PermanentError

# UTF-32 first: its little-endian mark begins with the UTF-16 little-endian one.
_BOMS: Final = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)

# charset-normalizer's names -> the names we report. latin-1 is not a candidate: for any byte
# that can appear in real latin-1 text cp1252 decodes identically, and where they differ
# (0x80-0x9F) latin-1 yields invisible C1 controls while cp1252 yields the quotes and dashes
# Windows editors actually wrote.
_LEGACY: Final = {"cp1251": "cp1251", "koi8_r": "koi8-r", "koi8_u": "koi8-u", "cp1252": "cp1252"}
# In order of preference when readings tie: cp1251 is by far the most common.
_CYRILLIC: Final = ("cp1251", "koi8_r", "koi8_u")
_WORD: Final = re.compile(r"[^\W\d_]+")

# Letter frequencies (percent) of Russian prose; і, ў, ї, є and ґ added at roughly their
# Belarusian and Ukrainian rates. Used to choose between the Cyrillic readings of the same bytes.
# A table reads better as a table than one entry a line.
# fmt: off
_FREQUENCY: Final = {
    "о": 10.97, "е": 8.45, "а": 8.01, "и": 7.35, "н": 6.70, "т": 6.26, "с": 5.47, "р": 4.73,
    "в": 4.54, "л": 4.40, "к": 3.49, "м": 3.21, "д": 2.98, "п": 2.81, "у": 2.62, "я": 2.01,
    "ы": 1.90, "ь": 1.74, "г": 1.70, "з": 1.65, "б": 1.59, "ч": 1.44, "й": 1.21, "х": 0.97,
    "ж": 0.94, "ш": 0.73, "ю": 0.64, "ц": 0.48, "щ": 0.36, "э": 0.32, "ф": 0.26, "ъ": 0.04,
    "ё": 0.04, "і": 5.50, "ў": 2.00, "є": 0.80, "ї": 0.60, "ґ": 0.01,
}
# fmt: on

# C0 controls that plain text does not contain (tab, LF, VT, FF and CR are fine).
_CONTROL_BYTES: Final = frozenset(range(0x09)) | frozenset(range(0x0E, 0x20)) | {0x7F}
_CONTROL_DELETE: Final = bytes(sorted(_CONTROL_BYTES))
_CONTROL_CHARS: Final = "".join(chr(b) for b in sorted(_CONTROL_BYTES))
MAX_CONTROL_SHARE: Final = 0.10
# The letter statistics that choose among legacy readings look at this many characters: they
# settle on a paragraph, and measuring all of a multi-MB file three times took seconds.
SAMPLE_CHARS: Final = 65_536

# UTF-16 without a BOM: text in one or two alphabets plus punctuation uses only a handful of
# distinct high bytes (0x00 ASCII, 0x04 Cyrillic, 0x20 quotes and dashes); binary data does not.
_UTF16_MAX_HIGH_BYTES: Final = 4
_UTF16_MIN_HIGH_BYTE_SHARE: Final = 0.9


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode ``data`` to ``(text, encoding)``.

    Raises ``PermanentError("binary")`` for data that is not text at all and
    ``PermanentError("undecodable")`` when no supported encoding gives plausible text.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _decode_strict(data, codec, why=f"starts with a {codec} byte order mark"), codec

    if 0 in data:
        codec16 = _utf16_without_bom(data)
        if codec16 is None:
            raise PermanentError("binary", f"NUL byte at offset {data.index(0)}")
        return _decode_strict(data, codec16, why="its zero bytes look like UTF-16"), codec16

    # Counted in C (what translate deletes), not byte by byte in Python: files run to MBs.
    controls = len(data) - len(data.translate(None, _CONTROL_DELETE))
    _reject_control_heavy(controls, len(data), "bytes")

    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = f"invalid UTF-8 at offset {exc.start}"

    legacy = _decode_legacy(data)
    if legacy is None:
        raise PermanentError(
            "undecodable",
            f"{utf8_error}, and no cp1251, koi8-r, koi8-u or cp1252 reading is plausible",
        )
    return legacy


def _decode_strict(data: bytes, codec: str, *, why: str) -> str:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise PermanentError(
            "undecodable", f"file {why} but is not valid {codec} at offset {exc.start}"
        ) from exc
    if "\x00" in text:
        raise PermanentError(
            "binary", f"NUL character at position {text.index(chr(0))} after {codec} decoding"
        )
    _reject_control_heavy(sum(map(text.count, _CONTROL_CHARS)), len(text), "characters")
    return text


def _reject_control_heavy(controls: int, total: int, unit: str) -> None:
    if total and controls / total > MAX_CONTROL_SHARE:
        raise PermanentError(
            "binary",
            f"{controls} of {total} {unit} are control characters "
            f"(over {MAX_CONTROL_SHARE:.0%}): not a text file",
        )


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when the zero bytes fall where UTF-16 text puts them."""
    if len(data) % 2:
        return None
    even_zeros, odd_zeros = data[0::2].count(0), data[1::2].count(0)
    # ASCII characters put their zero in the high byte; allow a few zero low bytes (U+0400 'Ѐ',
    # U+2000 spaces) but require the pattern to be overwhelmingly one-sided.
    if odd_zeros >= 9 * even_zeros:
        codec, high = "utf-16-le", data[1::2]
    elif even_zeros >= 9 * odd_zeros:
        codec, high = "utf-16-be", data[0::2]
    else:
        return None
    common = sum(n for _, n in Counter(high).most_common(_UTF16_MAX_HIGH_BYTES))
    if common / len(high) < _UTF16_MIN_HIGH_BYTE_SHARE:
        return None
    return codec


def _decode_legacy(data: bytes) -> tuple[str, str] | None:
    matches = list(
        from_bytes(
            data,
            cp_isolation=list(_LEGACY),
            # Off so that a stray "charset=" in the text cannot override the measurement, and so
            # that nothing outside our candidates is ever returned.
            preemptive_behaviour=False,
            enable_fallback=False,
        )
    )
    if matches and matches[0].encoding not in _CYRILLIC:
        return str(matches[0]), _LEGACY[matches[0].encoding]
    # charset-normalizer tells Cyrillic from Western text well, but not cp1251 from the KOI8s on
    # a sentence or two (its language coherence needs more text): alone it read 19 of 186 real
    # Russian news sentences in KOI8-R as cp1251. So the Cyrillic codec is chosen here, by the
    # letters each reading gives; the same measure accepts text the library rejected only for
    # soft hyphens or a Latin "i" typed for "і".
    readings = [
        (codec, text) for codec in _CYRILLIC if (text := _try_decode(data, codec)) is not None
    ]
    if not readings:
        return None
    codec, text = max(readings, key=lambda reading: _slavic_score(reading[1]))
    if not matches and not _plausible_slavic(text):
        return None
    return text, _LEGACY[codec]


def _try_decode(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _slavic_letters(text: str) -> tuple[float, float, float]:
    """Mean letter frequency and letter share of non-ASCII characters; share of case-flipped words.

    Only non-ASCII characters count: the ASCII part reads the same in every candidate. A
    case-flipped word ("пРИВЕТ") is what reading cp1251 as KOI8, or the reverse, does to a
    capitalised word. Measured on the first ``SAMPLE_CHARS`` characters.
    """
    text = text[:SAMPLE_CHARS]
    wide = [c for c in text.lower() if ord(c) >= 0x80]
    words = _WORD.findall(text)
    if not wide or not words:
        return 0.0, 0.0, 0.0
    frequency = sum(_FREQUENCY.get(c, 0.0) for c in wide) / len(wide)
    letters = sum(c.isalpha() for c in wide) / len(wide)
    flipped = sum(
        any(a.islower() and b.isupper() for a, b in pairwise(word)) for word in words
    ) / len(words)
    return frequency, letters, flipped


def _slavic_score(text: str) -> float:
    frequency, _, flipped = _slavic_letters(text)
    return frequency - 10 * flipped


def _plausible_slavic(text: str) -> bool:
    # Measured on real ru/be/uk sentences (all but a handful of one-liners pass) against random
    # bytes (none of 20 bytes or more pass).
    frequency, letters, flipped = _slavic_letters(text)
    return frequency >= 3.5 and letters >= 0.8 and flipped <= 0.1
