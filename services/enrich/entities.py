"""Named entities (persons, organisations, places) with ids that are the same in every language.

Entry points: ``extract_entities(text, language=...)`` and ``extract_entities_batch(texts,
languages)``; ``load_models()`` loads everything once per process (lazily, on first use; call it
at worker start to keep the first document fast).

How a document's entities are found:

1. Russian: Natasha's NER (``entities_ner``) gives PER/ORG/LOC spans.
2. Every language: the gazetteer (``entities_gazetteer``) finds countries, regions, cities and
   the curated organisations, in any case form.
3. German, English, Belarusian, Ukrainian: person rules (``entities_persons``), since no NER model
   for them ships offline.
4. Merge: a NER span that is a gazetteer name takes its id (and its type: the curated type of an
   organisation beats NER's guess); a person beats a place with the same words («Николаева»);
   a NER span that contains a curated organisation gives way to it; an organisation named after a
   place («Технопарк "Якутия"») stays one organisation. In Russian a city name counts only where
   NER also saw a place (Natasha is better at telling «Пушкин» the poet from the town); elsewhere
   city names that are common words need that support too, so they never count.
5. Ids: gazetteer ids as they are (``BY``, ``RU-SA``, ``geonames:625144``, ``org:eaeu``);
   persons ``per:<key>`` with lone surnames linked to the full name in the same document;
   unlinked NER organisations and places ``org:<slug>`` / ``loc:<slug>`` of their normal form.

Pure functions of the text apart from the models, which are read-only after loading.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache

from services.enrich.entities_gazetteer import NEAR_COUNTRIES, Gazetteer, Match
from services.enrich.entities_gazetteer import build as build_gazetteer
from services.enrich.entities_keys import slug
from services.enrich.entities_ner import NerSpan, RussianModels, Token
from services.enrich.entities_persons import (
    FirstNames,
    PersonMatch,
    find_persons,
    find_surname_mentions,
    first_names,
    person_ids,
    person_key,
)
from shared.messages import Entity, EntityType

VERSION = "2"
NER_LANGUAGES = frozenset({"ru"})
# A city name at the very start of a sentence is often another word («Думаю, ...» is also
# Dumai, Indonesia); there only cities of the region this news covers, or very big ones, count.
_BIG_CITY = 1_000_000
_EDGE = " \t\n\"'«»“”„.,;:()-"


@dataclass(frozen=True)
class Models:
    russian: RussianModels
    gazetteer: Gazetteer
    first_names: FirstNames


@cache
def load_models() -> Models:
    """Every model and the gazetteer, loaded once per process (~2 s, ~270 MB resident)."""
    return Models(RussianModels(), build_gazetteer(), first_names())


@dataclass(frozen=True)
class _Draft:
    start: int
    end: int
    type: EntityType
    id: str | None = None  # set for gazetteer links
    normal: str | None = None
    ner: NerSpan | None = None  # set when the normal form must come from the morphology


class _Spans:
    """Spans in text order that do not overlap each other (gazetteer matches, rule persons: both
    come out left to right, each starting after the last ended), indexed so that the ones
    overlapping a span are found by bisection. Asking every span about every other one was
    quadratic: 32 s of the 43 s that 200 KB of Russian took."""

    def __init__(self, spans: Sequence[Match] | Sequence[PersonMatch]) -> None:
        self._starts = [span.start for span in spans]
        self._ends = [span.end for span in spans]

    def overlapping(self, start: int, end: int) -> range:
        first = bisect.bisect_right(self._ends, start)
        return range(first, bisect.bisect_left(self._starts, end, first))


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """A span without surrounding quotes and punctuation, cut at a line break (a name never
    spans two paragraphs; Natasha sometimes runs on into the next line)."""
    newline = text.find("\n", start, end)
    if newline != -1:
        end = newline
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    return start, end


_OPENERS = " \t\"'«„“("


def _sentence_initial(text: str, start: int) -> bool:
    # A walk back over the openers, not ``text[:start].rstrip(...)``: that copied the whole text
    # before every city name.
    before = start
    while before > 0 and text[before - 1] in _OPENERS:
        before -= 1
    return before == 0 or text[before - 1] in ".!?…\n"


def _link(match: Match) -> _Draft:
    entity_type: EntityType = "ORG" if match.entry.type == "ORG" else "LOC"
    return _Draft(match.start, match.end, entity_type, match.entry.id, match.name)


def _merge_russian(text: str, spans: Sequence[NerSpan], matches: Sequence[Match]) -> list[_Draft]:
    drafts: list[_Draft] = []
    used: set[int] = set()  # gazetteer matches accounted for
    index = _Spans(matches)
    for raw in spans:
        start, end = _trimmed(text, raw.start, raw.end)
        if start >= end:
            continue
        span = NerSpan(start, end, raw.type)
        inside = index.overlapping(span.start, span.end)
        if span.type == "PER":
            used.update(inside)
            drafts.append(_Draft(span.start, span.end, "PER", ner=span))
            continue
        exact = [i for i in inside if (matches[i].start, matches[i].end) == (start, end)]
        if exact:
            used.update(inside)
            drafts.append(_link(matches[exact[0]]))
        elif inside and span.type == "ORG" and all(matches[i].entry.type == "LOC" for i in inside):
            # An organisation named after a place is one organisation.
            used.update(inside)
            drafts.append(_Draft(span.start, span.end, "ORG", ner=span))
        elif inside:
            # NER's span is longer or shifted; the curated or gazetteer name is the reliable
            # part («Администрации ... парка "Великий камень"»).
            for i in inside:
                used.add(i)
                drafts.append(_link(matches[i]))
        else:
            drafts.append(_Draft(span.start, span.end, "LOC" if span.type == "LOC" else "ORG",
                                 ner=span))  # fmt: skip
    for i, match in enumerate(matches):
        # A city without NER support is left out in Russian (see module docstring).
        if i not in used and match.entry.kind != "city":
            drafts.append(_link(match))
    return drafts


def _city_counts(text: str, match: Match) -> bool:
    if match.weak:
        return False
    if not _sentence_initial(text, match.start) or " " in match.name:
        return True
    return match.entry.population >= _BIG_CITY or match.entry.country in NEAR_COUNTRIES


def _merge_rules(
    text: str, persons: Sequence[PersonMatch], matches: Sequence[Match]
) -> list[_Draft]:
    drafts: list[_Draft] = []
    places = _Spans(matches)
    kept_persons = [p for p in persons if p.strong or not places.overlapping(p.start, p.end)]
    for person in kept_persons:
        drafts.append(_Draft(person.start, person.end, "PER"))
    kept = _Spans(kept_persons)
    for match in matches:
        if kept.overlapping(match.start, match.end):
            continue
        if match.entry.kind == "city" and not _city_counts(text, match):
            continue
        drafts.append(_link(match))
    return drafts


def _finish(
    text: str, language: str, drafts: Sequence[_Draft], normals: dict[_Draft, str]
) -> list[Entity]:
    resolved: list[_Draft] = []
    for draft in drafts:
        normal = (
            normals.get(draft) or draft.normal or " ".join(text[draft.start : draft.end].split())
        )
        resolved.append(replace(draft, normal=normal))

    persons = [d for d in resolved if d.type == "PER"]
    keys = [person_key(d.normal or "", language) for d in persons]
    surnames = {last for first, last in keys if first}
    surname_normals = {
        last: (d.normal or "").split()[-1]
        for d, (first, last) in zip(persons, keys, strict=True)
        if first
    }
    taken = [(d.start, d.end) for d in resolved]
    for mention in find_surname_mentions(text, language, surnames, taken):
        _, last = person_key(text[mention.start : mention.end], language)
        normal = surname_normals.get(last, text[mention.start : mention.end])
        resolved.append(_Draft(mention.start, mention.end, "PER", normal=normal))
        persons.append(resolved[-1])
        keys.append(("", last))

    ids = dict(zip(persons, person_ids(keys), strict=True))
    entities = []
    for draft in sorted(resolved, key=lambda d: (d.start, d.end)):
        normal = draft.normal or ""
        if draft.type == "PER":
            entity_id = ids[draft]
        elif draft.id is not None:
            entity_id = draft.id
        else:
            key = slug(normal) or slug(text[draft.start : draft.end])
            if not key:
                continue
            entity_id = f"{'org' if draft.type == 'ORG' else 'loc'}:{key}"
        entities.append(
            Entity(
                text=text[draft.start : draft.end],
                start=draft.start,
                end=draft.end,
                type=draft.type,
                normal=normal,
                id=entity_id,
            )
        )
    return entities


_SPACE = re.compile(r"\s+")


def extract_entities_batch(texts: Sequence[str], languages: Sequence[str]) -> list[list[Entity]]:
    """Entities of each text; NER runs over the Russian texts together (faster in batches)."""
    if len(texts) != len(languages):
        raise ValueError("one language per text")
    models = load_models()
    ner_docs = [i for i, (t, lang) in enumerate(zip(texts, languages, strict=True))
                if lang in NER_LANGUAGES and t.strip()]  # fmt: skip
    ner_results = dict(zip(ner_docs, models.russian.spans([texts[i] for i in ner_docs]),
                           strict=True))  # fmt: skip

    drafts_by_doc: list[list[_Draft]] = []
    for i, (text, language) in enumerate(zip(texts, languages, strict=True)):
        matches = models.gazetteer.find(text) if text.strip() else []
        if i in ner_results:
            drafts = _merge_russian(text, ner_results[i][1], matches)
        else:
            persons = find_persons(text, language, models.first_names)
            drafts = _merge_rules(text, persons, matches)
        drafts_by_doc.append(drafts)

    # Normal forms from the morphology, for every NER span not linked to a gazetteer name, all
    # documents in one batch.
    wanted: list[tuple[int, _Draft, NerSpan]] = [
        (i, d, d.ner) for i, drafts in enumerate(drafts_by_doc) for d in drafts if d.ner is not None
    ]
    items: list[tuple[Sequence[Token], NerSpan]] = [(ner_results[i][0], s) for i, _, s in wanted]
    normal_list = models.russian.normal_forms(items) if items else []
    normals: list[dict[_Draft, str]] = [{} for _ in texts]
    for (i, draft, _), normal in zip(wanted, normal_list, strict=True):
        normals[i][draft] = _SPACE.sub(" ", normal).strip()

    return [
        _finish(text, language, drafts, doc_normals)
        for text, language, drafts, doc_normals in zip(
            texts, languages, drafts_by_doc, normals, strict=True
        )
    ]


def extract_entities(text: str, *, language: str) -> list[Entity]:
    """Entities of one text (offsets into ``text``); ``language`` is ISO 639-1 or ``und``."""
    return extract_entities_batch([text], [language])[0]
