"""A document's title: its first line when that is a headline, else the first sentence of it.

Scrapers write the headline on the first line, but not always: some files begin straight with
the first paragraph («MINSK, 29. September (BelTA) - ...», hundreds of characters). A title is at
most one sentence and TITLE_MAX_CHARS characters, so such a paragraph gives its first sentence
(cut at a word if still too long) as the title and stays whole as the first body paragraph.

Sentences end at ``.``, ``!``, ``?`` or ``…`` followed by a space and a capital letter (or an
opening quote or bracket), except after a number («29. September», «1. Mai»), a single letter
or a known abbreviation («Dr.», «St.», «г.», «ул.», «z.B.», «т.д.»), which in news are dates and
abbreviations far more often than sentence ends. One linear scan; no backtracking on long runs
of punctuation.
"""

from __future__ import annotations

import re

TITLE_MAX_CHARS = 200
# The end of a sentence: its punctuation, the space after it, and what the next one begins with.
# The lookbehind makes a run of punctuation start a match only at its first mark: inside a
# run the scan moves on at once instead of re-reading the run from every position. The group
# is the first letter of what follows.
_END = re.compile(r"(?<![.!?…])[.!?…]++(?=\s++[\"'«„“(\[]?+([^\W\d_]))")
# Words after which a full stop is an abbreviation, not a sentence end, in the news languages.
_ABBREVIATION_WORDS = """
г гг ул пр просп д др т тт см ст им обл пос дер млн млрд тыс руб коп долл вул м біл бел
dr prof st nr mr mrs ms jr sr no vs ca bzw vgl inkl usw etc ggf evtl zb co inc ltd
"""
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
# How far back to look for the word before a full stop: a word longer than this is no
# abbreviation anyway.
_WORD_WINDOW = 40


def _is_sentence_end(text: str, match: re.Match[str]) -> bool:
    if not match.group(1).isupper():
        return False
    if "!" in match.group() or "?" in match.group() or "…" in match.group():
        return True
    before = text[max(0, match.start() - _WORD_WINDOW) : match.start()].split()
    word = before[-1].strip("\"'«»„“”()[]") if before else ""
    if not word or word[-1].isdigit():
        return False  # «29. September», «1. Mai»: a date, not an end
    letters = "".join(char for char in word if char.isalpha())
    # «A.», «z.B.», «т.д.», «Dr.», «г.»: one letter, dotted inside, or a known abbreviation.
    return len(letters) > 1 and "." not in word and letters.lower() not in _ABBREVIATIONS


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` (all of it when it is one)."""
    for match in _END.finditer(text):
        if _is_sentence_end(text, match):
            return text[: match.end()].strip()
    return text.strip()


def headline(first_line: str) -> str:
    """The title for a document whose first line is ``first_line``: the line itself when it is
    one sentence of at most TITLE_MAX_CHARS, else its first sentence, cut at a word boundary
    (with «…») when that is still too long. Only the line's first TITLE_MAX_CHARS characters
    (and a few to see what follows a full stop) are ever read: nothing further can change it."""
    line = first_line.strip()
    head = line[: TITLE_MAX_CHARS + 8]
    sentence = first_sentence(head)
    if sentence == line:
        return first_line if len(line) <= TITLE_MAX_CHARS else _cut(line)
    if len(sentence) <= TITLE_MAX_CHARS and len(sentence) < len(head):
        return sentence
    return _cut(head)


def _cut(text: str) -> str:
    cut = text[: TITLE_MAX_CHARS - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > TITLE_MAX_CHARS // 2 else cut).rstrip(" ,;:-–—") + "…"
