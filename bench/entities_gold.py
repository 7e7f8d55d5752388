"""The hand-labelled seed entities (``bench/gold_seeds.toml``) and precision/recall against them.

Evaluation only, so it lives beside the benchmarks and not in the runtime package: shared by the
unit tests (which hold the extractor to a floor) and ``bench/entities_speed.py`` (which prints the
figures). Reads only the gold file next to it; scoring is a pure function.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from shared.messages import Entity

GOLD_FILE = Path(__file__).with_name("gold_seeds.toml")


@dataclass(frozen=True)
class GoldDoc:
    file: str
    language: str
    entries: tuple[tuple[str, str, str], ...]  # surface, type, id


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    type: str
    id: str


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    true_positive: int
    predicted: int
    gold: int

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 0.0 if total == 0 else 2 * self.precision * self.recall / total

    @classmethod
    def of(cls, hits: int, predicted: int, gold: int) -> Score:
        """From counts; nothing predicted is full precision, nothing to find full recall."""
        return cls(
            precision=hits / predicted if predicted else 1.0,
            recall=hits / gold if gold else 1.0,
            true_positive=hits,
            predicted=predicted,
            gold=gold,
        )


def load_gold() -> list[GoldDoc]:
    text = GOLD_FILE.read_text(encoding="utf-8")
    return [
        GoldDoc(doc["file"], doc["language"], tuple((s, t, i) for s, t, i in doc["entities"]))
        for doc in tomllib.loads(text)["doc"]
    ]


def _whole_word(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not before.isalnum() and not after.isalnum()


def gold_mentions(text: str, entries: Iterable[tuple[str, str, str]]) -> list[Mention]:
    """Every whole-word occurrence of each surface, longer surfaces claiming text first."""
    taken: list[tuple[int, int]] = []
    mentions: list[Mention] = []
    for surface, kind, entity_id in sorted(entries, key=lambda e: -len(e[0])):
        position = text.find(surface)
        while position != -1:
            end = position + len(surface)
            free = not any(position < b and a < end for a, b in taken)
            if free and _whole_word(text, position, end):
                taken.append((position, end))
                mentions.append(Mention(position, end, kind, entity_id))
            position = text.find(surface, position + 1)
    return sorted(mentions, key=lambda m: m.start)


def score(predicted: Sequence[Entity], gold: Sequence[Mention], *, with_id: bool) -> Score:
    """Exact-span scores: a prediction counts when its span and type (and id) are gold."""

    def key(start: int, end: int, kind: str, entity_id: str) -> tuple[int, int, str, str]:
        return (start, end, kind, entity_id if with_id else "")

    wanted = {key(m.start, m.end, m.type, m.id) for m in gold}
    got = {key(e.start, e.end, e.type, e.id) for e in predicted}
    return Score.of(len(wanted & got), len(got), len(wanted))


def combine(scores: Iterable[Score]) -> Score:
    """Micro-average: all documents' mentions pooled."""
    items = list(scores)
    return Score.of(
        sum(s.true_positive for s in items),
        sum(s.predicted for s in items),
        sum(s.gold for s in items),
    )
