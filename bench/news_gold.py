"""The labelled real-news benchmark (``bench/data/news/``): its labels, and scoring against them.

Evaluation only, like ``entities_gold``: pure functions, no models. The labels are written by hand
in ``bench/data/news/gold/<lang>.toml`` (one ``[[doc]]`` per article: its money mentions, rates
and entities as exact text); ``python bench/news_gold.py`` turns them into
``bench/data/news/labels.jsonl`` with character offsets, every whole-word occurrence of each
labelled text becoming one mention (longer texts claim their characters first). Nothing here runs
newsflow: the labels are what a person read, never an extractor's output.

Scoring (``bench/data/news/README.md`` has the rules in full):

- money, distinct: per document, the set of (currency, amount) pairs, predicted against gold;
- money, mentions: a predicted mention is right when its span overlaps a gold mention's span that
  has the same currency and amount, each gold mention matched at most once;
- entities: a predicted entity is right when its span overlaps a gold entity's span of the same
  type (PER, ORG, LOC), each gold entity matched at most once; ``id_agreement`` is the share of
  the matched pairs whose gold id (where the project has one) the prediction also gives.

Figures are micro-averages (mentions pooled over documents), through ``entities_gold.Score``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # when run as a script

from bench.entities_gold import Score, combine  # noqa: E402  # after the path is set
from services.enrich.entities.person_ids import person_ids, person_key  # noqa: E402

NEWS = ROOT / "bench" / "data" / "news"
LABELS = NEWS / "labels.jsonl"
EVENTS = NEWS / "events.jsonl"
GOLD_SOURCES = NEWS / "gold"
LANGUAGES = ("ru", "be", "uk", "de", "en")
SPLITS = ("dev", "test")
ENTITY_TYPES = ("PER", "ORG", "LOC")
_NUMBER = re.compile(r"(\d+)\.txt$")


# -- labels ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    start: int
    end: int
    amount: float
    currency: str


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    type: str
    id: str | None = None


@dataclass(frozen=True)
class Article:
    file: str
    lang: str
    split: str
    url: str
    published: str
    text: str
    money: tuple[Money, ...]
    entities: tuple[Span, ...]
    rates: tuple[dict[str, Any], ...] = field(default=())


def split_of(file: str) -> str:
    """``dev`` for odd-numbered files (``ru001.txt``), ``test`` for even ones.

    Fixed by the file's name before anything was scored, so adding articles never moves one
    from a half to the other; numbering each language in the order the articles were collected
    keeps the halves within one article of each other.
    """
    match = _NUMBER.search(file)
    if match is None:
        # Not numbered: a stable hash of the name decides.
        return "dev" if hashlib.sha256(file.encode()).digest()[0] % 2 == 0 else "test"
    return "dev" if int(match.group(1)) % 2 == 1 else "test"


def _whole_word(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    # A label that starts or ends with a sign or punctuation («$1», «4930 руб.») is whole there.
    left_ok = not (before.isalnum() and text[start].isalnum())
    right_ok = not (after.isalnum() and text[end - 1].isalnum())
    return left_ok and right_ok


def _in_compound(text: str, start: int, end: int) -> bool:
    """Whether the span is glued by a hyphen to a word (``IWF`` in «IWF-Chef», ``США`` in
    «США-Україна»): such a part of a compound is not an entity mention of its own."""
    before = text[start - 2 : start] if start >= 2 else ""
    after = text[end : end + 2]
    return (len(before) == 2 and before[1] == "-" and before[0].isalnum()) or (
        len(after) == 2 and after[0] == "-" and after[1].isalnum()
    )


def occurrences(text: str, surface: str, *, in_compounds: bool = True) -> list[int]:
    """Start offsets of every whole-word occurrence of ``surface`` in ``text``; with
    ``in_compounds=False``, not those that are part of a hyphenated compound."""
    found = []
    position = text.find(surface)
    while position != -1:
        end = position + len(surface)
        if _whole_word(text, position, end) and (
            in_compounds or not _in_compound(text, position, end)
        ):
            found.append(position)
        position = text.find(surface, position + 1)
    return found


def _claim(
    text: str, entries: Sequence[Sequence[Any]], where: str, *, in_compounds: bool
) -> list[tuple[int, int, Sequence[Any]]]:
    """Every occurrence of each entry's surface (its first item), longer surfaces first; an
    entry whose surface is not in the text is an error (a typo in the labels)."""
    taken: list[tuple[int, int, Sequence[Any]]] = []
    for entry in sorted(entries, key=lambda e: -len(e[0])):
        surface = entry[0]
        starts = occurrences(text, surface, in_compounds=in_compounds)
        if not starts:
            raise ValueError(f"{where}: {surface!r} is not in the text")
        for start in starts:
            end = start + len(surface)
            clash = [t for t in taken if start < t[1] and t[0] < end]
            if not clash:
                taken.append((start, end, entry))
            elif all(t[0] == start and t[1] == end and t[2][0] == surface for t in clash):
                taken.append((start, end, entry))  # one text, two readings («8,3-8,4 тысячи»)
    return sorted(taken, key=lambda t: (t[0], t[1]))


def person_id(normal: str, language: str) -> str:
    """The id newsflow's scheme gives a person of this nominative name (``per:<first>-<last>``
    from phonetic keys; see ``services/enrich/entities/person_ids.py``)."""
    return person_ids([person_key(normal, language)])[0]


def _entity_id(value: str | None, language: str) -> str | None:
    """``=Name`` is a person's nominative name, keyed as the document's language spells it;
    ``=Name@ru`` keys it in that language instead, so that one person has one id everywhere."""
    if value and value.startswith("="):
        name, _, spelled_in = value[1:].partition("@")
        return person_id(name, spelled_in or language)
    return value or None


def build_record(doc: dict[str, Any]) -> dict[str, Any]:
    """One ``[[doc]]`` of a gold source as one labels.jsonl record, with offsets."""
    file = doc["file"]
    lang = doc.get("lang") or file.split("/")[0]
    text = (NEWS / file).read_text(encoding="utf-8")
    money = [
        {"text": text[s:e], "start": s, "end": e, "amount": float(entry[1]),
         "currency": entry[2]}
        for s, e, entry in _claim(text, doc.get("money", []), f"{file} money", in_compounds=True)
    ]  # fmt: skip
    entities = [
        {"text": text[s:e], "start": s, "end": e, "type": entry[1],
         "id": _entity_id(entry[2] if len(entry) > 2 else None, lang)}
        for s, e, entry in _claim(
            text, doc.get("entities", []), f"{file} entities", in_compounds=False
        )
    ]  # fmt: skip
    rates = []
    for base, quote, value, surface, *per in doc.get("rates", []):
        starts = occurrences(text, surface)
        if not starts:
            raise ValueError(f"{file} rates: {surface!r} is not in the text")
        used = sum(1 for r in rates if r["text"] == surface)
        start = starts[min(used, len(starts) - 1)]
        units = float(per[0]) if per else 1.0  # «100 российских рублей — 3,5142»
        rates.append({"base": base, "quote": quote, "value": float(value) / units,
                      "per": units, "text": surface, "start": start,
                      "end": start + len(surface)})  # fmt: skip
    return {
        "file": file,
        "lang": lang,
        "split": split_of(file),
        "url": doc["url"],
        "published": doc["published"],
        "published_basis": doc.get("published_basis", "page"),
        "money": money,
        "rates": rates,
        "entities": entities,
    }


def build_labels(sources: Path = GOLD_SOURCES) -> list[dict[str, Any]]:
    records = []
    for path in sorted(sources.glob("*.toml")):
        for doc in tomllib.loads(path.read_text(encoding="utf-8")).get("doc", []):
            records.append(build_record(doc))
    return sorted(records, key=lambda r: r["file"])


def write_labels(records: Iterable[dict[str, Any]], path: Path = LABELS) -> None:
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_labels(path: Path = LABELS) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def load_articles(path: Path = LABELS) -> list[Article]:
    articles = []
    for record in read_labels(path):
        articles.append(
            Article(
                file=record["file"],
                lang=record["lang"],
                split=record["split"],
                url=record["url"],
                published=record["published"],
                text=(path.parent / record["file"]).read_text(encoding="utf-8"),
                money=tuple(
                    Money(m["start"], m["end"], m["amount"], m["currency"]) for m in record["money"]
                ),
                entities=tuple(
                    Span(e["start"], e["end"], e["type"], e.get("id")) for e in record["entities"]
                ),
                rates=tuple(record.get("rates", [])),
            )
        )
    return articles


# -- scoring -----------------------------------------------------------------------------------


def amount_key(amount: float) -> float:
    """Amounts compared to ten significant digits (``4930.0`` and ``4930`` are one amount)."""
    return float(f"{amount:.10g}")


def score_money_distinct(predicted: Iterable[Money], gold: Iterable[Money]) -> Score:
    """One document: its distinct (currency, amount) pairs."""
    got = {(m.currency, amount_key(m.amount)) for m in predicted}
    wanted = {(m.currency, amount_key(m.amount)) for m in gold}
    return Score.of(len(got & wanted), len(got), len(wanted))


def rate_key(value: float) -> float:
    """Rates compared to six significant digits: a rate per 100 units divided out
    («100 доларів США – 2607.1164» is 26.071164) keeps what was written."""
    return float(f"{value:.6g}")


def score_rates_distinct(
    predicted: Iterable[tuple[str | None, str, float]], gold: Iterable[dict[str, Any]]
) -> Score:
    """One document: its distinct (base, quote, value per unit) rates."""
    got = {(base, quote, rate_key(value)) for base, quote, value in predicted}
    wanted = {(r["base"], r["quote"], rate_key(r["value"])) for r in gold}
    return Score.of(len(got & wanted), len(got), len(wanted))


def _overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    return max(0, min(a_end, b_end) - max(a_start, b_start))


def _match(predicted: Sequence[Any], gold: Sequence[Any], same: Any) -> list[tuple[int, int]]:
    """One-to-one pairs (predicted index, gold index) of overlapping spans for which ``same``
    holds, the largest overlaps paired first."""
    candidates = sorted(
        (
            (-_overlap(p.start, p.end, g.start, g.end), i, j)
            for i, p in enumerate(predicted)
            for j, g in enumerate(gold)
            if _overlap(p.start, p.end, g.start, g.end) > 0 and same(p, g)
        ),
    )
    used_p: set[int] = set()
    used_g: set[int] = set()
    pairs = []
    for _, i, j in candidates:
        if i not in used_p and j not in used_g:
            used_p.add(i)
            used_g.add(j)
            pairs.append((i, j))
    return pairs


def score_money_mentions(predicted: Sequence[Money], gold: Sequence[Money]) -> Score:
    """One document: mentions, matched by overlapping span with the same currency and amount."""
    pairs = _match(
        predicted,
        gold,
        lambda p, g: (
            p.currency == g.currency
            and math.isclose(p.amount, g.amount, rel_tol=1e-9, abs_tol=1e-12)
        ),
    )
    return Score.of(len(pairs), len(predicted), len(gold))


@dataclass(frozen=True)
class EntityScore:
    by_type: dict[str, Score]
    id_matched: int  # matched pairs whose gold has an id
    id_agreed: int  # ... and the prediction gives that id

    @property
    def all(self) -> Score:
        return combine(self.by_type.values())


def score_entities(predicted: Sequence[Span], gold: Sequence[Span]) -> EntityScore:
    """One document: entities by type, matched by overlapping span of the same type."""
    by_type = {}
    id_matched = id_agreed = 0
    for kind in ENTITY_TYPES:
        got = [p for p in predicted if p.type == kind]
        wanted = [g for g in gold if g.type == kind]
        pairs = _match(got, wanted, lambda p, g: True)
        by_type[kind] = Score.of(len(pairs), len(got), len(wanted))
        for i, j in pairs:
            if wanted[j].id:
                id_matched += 1
                id_agreed += got[i].id == wanted[j].id
    return EntityScore(by_type, id_matched, id_agreed)


def combine_entities(scores: Iterable[EntityScore]) -> EntityScore:
    items = list(scores)
    return EntityScore(
        {kind: combine(s.by_type[kind] for s in items) for kind in ENTITY_TYPES},
        sum(s.id_matched for s in items),
        sum(s.id_agreed for s in items),
    )


def main() -> int:
    records = build_labels()
    write_labels(records)
    counts: dict[tuple[str, str], int] = {}
    for record in records:
        key = (record["lang"], record["split"])
        counts[key] = counts.get(key, 0) + 1
    print(f"wrote {LABELS.relative_to(ROOT)}: {len(records)} articles")
    for lang in LANGUAGES:
        print(f"  {lang}: " + ", ".join(f"{s} {counts.get((lang, s), 0)}" for s in SPLITS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
