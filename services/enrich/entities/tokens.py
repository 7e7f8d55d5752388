"""razdel's word tokenisation, computed without razdel's per-split objects.

The NER and morphology taggers were trained on razdel's tokens, so the tokens must be exactly
razdel's. razdel finds atoms (runs of Cyrillic or Latin letters, digits, single punctuation or
other characters) and then asks a list of rules, for every pair of atoms with nothing between
them, whether to join them; it builds a record object and cached properties for every pair, which
made tokenising a fifth of the entity step. This module uses razdel's own atom pattern and
punctuation tables and applies the same rules, in the same order, to plain tuples: about four
times faster. ``tests/unit/test_enrich_tokens.py`` compares it with razdel on the seeds and on
random strings built from every character class the rules look at. razdel is pinned in
pyproject.toml, as this mirrors its 0.5.0 rules.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from razdel.segmenters.punct import (  # type: ignore[import-untyped]  # ships no type hints
    DASHES,
    ENDINGS,
)
from razdel.segmenters.tokenize import (  # type: ignore[import-untyped]  # ships no type hints
    ATOM,
    INT,
    LAT,
    OTHER,
    PUNCT,
    RU,
    SMILE,
)

# razdel's atom kinds (the names of ATOM's groups), typed.
_INT: str = INT
_PUNCT: str = PUNCT
_OTHER: str = OTHER
_WORDISH: tuple[str, ...] = (OTHER, RU, LAT)
# razdel's "2112" rules in its order: a delimiter atom joins its neighbours when both are of the
# allowed kind (any but punctuation, or integers only: «1.5», «1/2»).
_DELIMITED = ((DASHES, False), ("_", False), (".,", True), ("/\\", True))


# An atom as a plain tuple (start, end, kind, text), indexed by these: building a NamedTuple
# for each of a text's atoms was half of the tokeniser's time.
_Atom = tuple[int, int, str, str]
_START: Final = 0
_END: Final = 1
_KIND: Final = 2
_TEXT: Final = 3


class WordToken(NamedTuple):
    start: int
    end: int
    text: str


def _delimited_join(left: _Atom | None, right: _Atom | None, integers_only: bool) -> bool:
    if left is None or right is None:
        return False
    if integers_only:
        return left[_KIND] == _INT and right[_KIND] == _INT
    return _PUNCT not in (left[_KIND], right[_KIND])


# The longest text razdel's SMILE pattern matches (``[=:;]-?[)(]{1,3}``).
_SMILE_CHARS = 5


def _joins(atoms: list[_Atom], index: int, text: str, start: int) -> bool:  # noqa: PLR0911  (one return per rule, as in razdel)
    """Whether atom ``index`` continues the token that starts at ``start`` and ends with atom
    ``index - 1`` (they touch); the rules of razdel's TokenSegmenter, first match wins."""
    left_1, right_1 = atoms[index - 1], atoms[index]
    left_2 = atoms[index - 2] if index >= 2 else None
    right_2 = atoms[index + 1] if index + 1 < len(atoms) else None
    for delimiters, integers_only in _DELIMITED:
        # razdel tests membership in the string (``text in delimiters``), as here.
        if left_1[_TEXT] in delimiters:
            if _delimited_join(left_2, right_1, integers_only):
                return True
        elif right_1[_TEXT] in delimiters and _delimited_join(left_1, right_2, integers_only):
            return True
    if left_1[_KIND] == _PUNCT and right_1[_KIND] == _PUNCT:
        # razdel matches the token so far plus this atom against its smileys (:-) ;) =(((). Only
        # a short one can be one, and building a long one for every atom was quadratic in a run
        # of punctuation that joins («!!!...», «---...»: 40 000 of them took 1.7 s).
        if right_1[_END] - start <= _SMILE_CHARS and SMILE.match(text[start : right_1[_END]]):
            return True
        if left_1[_TEXT] in ENDINGS and right_1[_TEXT] in ENDINGS:  # ... ?!
            return True
        if left_1[_TEXT] + right_1[_TEXT] in ("--", "**"):
            return True
    if left_1[_KIND] == _OTHER and right_1[_KIND] in _WORDISH:  # ΔP
        return True
    if left_1[_KIND] in _WORDISH and right_1[_KIND] == _OTHER:  # Δσ mβж
        return True
    return left_1[_TEXT].lower() == "yahoo" and right_1[_TEXT] == "!"


def word_tokens(text: str) -> list[WordToken]:
    """razdel.tokenize(text), as (start, end, text) tuples."""
    # Every ATOM match is in one of its named groups, so ``lastgroup`` is a kind, never None.
    atoms: list[_Atom] = [(m.start(), m.end(), m.lastgroup, m.group()) for m in ATOM.finditer(text)]
    if not atoms:
        return []
    tokens: list[WordToken] = []
    start, end = atoms[0][_START], atoms[0][_END]
    for index in range(1, len(atoms)):
        atom_start, atom_end = atoms[index][_START], atoms[index][_END]
        if end == atom_start and _joins(atoms, index, text, start):
            end = atom_end
        else:
            tokens.append(WordToken(start, end, text[start:end]))
            start, end = atom_start, atom_end
    tokens.append(WordToken(start, end, text[start:end]))
    return tokens
