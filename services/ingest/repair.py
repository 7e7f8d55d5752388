"""Repairs to a document's paragraphs: repeated paragraphs collapsed, subscribe trailers stripped.

Every removal is returned as a ``Repair`` so that it is visible downstream; nothing is dropped
silently. Only exact repeats and known short trailers are touched, never a real paragraph.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, NamedTuple

from shared.messages import Repair
from shared.names import fold

# A trailer is a call to action, not prose. Prefix patterns only match paragraphs up to this
# long, so a real paragraph that happens to begin "Subscribe to our ..." is never removed.
MAX_TRAILER_CHARS: Final = 100
REPAIR_TEXT_CHARS: Final = 200
# Repairs listed per document, at most; the rest are only counted (``Repaired.unlisted``). A file
# of a million copies of one short line would otherwise carry a million records: 5 MB of "a\n"
# made a 105 MB message and 1.6 GB of RSS. A real article has a handful.
MAX_LISTED_REPAIRS: Final = 1000
DEFAULT_TRAILERS_FILE: Final = Path(__file__).with_name("trailers.txt")

_SPACE: Final = re.compile(r"\s+")
# Punctuation, arrows and emoji around a call to action ("Подписаться →", "Subscribe!").
# The trailing alternative may only start where a run of noise starts (the lookbehind) and takes
# the run whole (possessive): written plainly as ``[\W_]+$`` it was tried from every position of
# a run that a word follows, each try scanning to the run's end (78 KB: 25 s).
_EDGE_NOISE: Final = re.compile(r"\A[\W_]++|(?<![\W_])[\W_]++\Z")


def _match_key(text: str) -> str:
    return _EDGE_NOISE.sub("", _SPACE.sub(" ", fold(text)))


@dataclass(frozen=True, slots=True)
class Trailers:
    """Trailer patterns, ready for matching: whole-paragraph ones and prefix ones."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]

    @classmethod
    def from_patterns(cls, patterns: Iterable[str]) -> Trailers:
        """Build from pattern lines: ``text`` matches a whole paragraph, ``text *`` its start."""
        exact: set[str] = set()
        prefixes: list[str] = []
        for pattern in patterns:
            is_prefix = pattern.rstrip().endswith("*")
            key = _match_key(pattern.rstrip().removesuffix("*"))
            if not key:
                raise ValueError(f"trailer pattern {pattern!r} has no letters or digits")
            if is_prefix:
                prefixes.append(key)
            else:
                exact.add(key)
        return cls(exact=frozenset(exact), prefixes=tuple(dict.fromkeys(prefixes)))

    def matches(self, paragraph: str) -> bool:
        key = _match_key(paragraph)
        if key in self.exact:
            return True
        if len(paragraph) > MAX_TRAILER_CHARS:
            return False
        # The prefix must end on a word boundary: "subscribe *" is not "subscribers ...".
        return any(
            key.startswith(prefix) and not key[len(prefix) : len(prefix) + 1].isalnum()
            for prefix in self.prefixes
        )


def read_patterns(text: str) -> list[str]:
    """Pattern lines of a trailers file: blank lines and ``#`` comments skipped."""
    return [
        stripped
        for line in text.splitlines()
        if (stripped := line.strip()) and not stripped.startswith("#")
    ]


@functools.lru_cache(maxsize=8)
def _load(path: Path, extra: tuple[str, ...]) -> Trailers:
    return Trailers.from_patterns([*read_patterns(path.read_text(encoding="utf-8")), *extra])


def load_trailers(path: Path | None = None, extra: Sequence[str] = ()) -> Trailers:
    """The bundled trailer list (or the file at ``path`` instead), plus ``extra`` patterns.

    Cached per argument: the ingest task calls this for every document.
    """
    return _load(path or DEFAULT_TRAILERS_FILE, tuple(extra))


def collapse_repeats(
    paragraphs: Sequence[str], *, limit: int | None = None
) -> tuple[list[str], list[Repair]]:
    """Keep the first occurrence of each paragraph; later verbatim copies are removed. With a
    ``limit``, only that many removals are listed (the rest is every paragraph neither kept nor
    listed)."""
    seen: set[str] = set()
    kept: list[str] = []
    repairs: list[Repair] = []
    for paragraph in paragraphs:
        if paragraph in seen:
            if limit is None or len(repairs) < limit:
                repairs.append(
                    Repair(kind="paragraph_collapsed", text=paragraph[:REPAIR_TEXT_CHARS])
                )
        else:
            seen.add(paragraph)
            kept.append(paragraph)
    return kept, repairs


def strip_trailers(paragraphs: Sequence[str], trailers: Trailers) -> tuple[list[str], list[Repair]]:
    """Remove trailer paragraphs from the end, as many as there are, last first."""
    kept = list(paragraphs)
    repairs: list[Repair] = []
    while kept and trailers.matches(kept[-1]):
        repairs.append(Repair(kind="trailer_stripped", text=kept.pop()[:REPAIR_TEXT_CHARS]))
    return kept, repairs


class Repaired(NamedTuple):
    kept: list[str]
    repairs: list[Repair]  # at most MAX_LISTED_REPAIRS
    unlisted: int  # repairs made beyond those


def repair_paragraphs(paragraphs: Sequence[str], trailers: Trailers) -> Repaired:
    """Collapse repeats, then strip trailers.

    Repeats go first: a document pasted twice has its trailer in the middle as well as at the
    end, and only once the copy is gone is the first trailer at the end, where it can be removed.
    """
    collapsed, repairs = collapse_repeats(paragraphs, limit=MAX_LISTED_REPAIRS)
    unlisted = len(paragraphs) - len(collapsed) - len(repairs)
    stripped, stripped_repairs = strip_trailers(collapsed, trailers)
    listed = [*repairs, *stripped_repairs]
    unlisted += max(0, len(listed) - MAX_LISTED_REPAIRS)
    return Repaired(stripped, listed[:MAX_LISTED_REPAIRS], unlisted)
