"""Entity drafts to ``Entity`` messages: normal forms, lone surnames, ids.

Ids: gazetteer ids as they are (``BY``, ``RU-SA``, ``geonames:625144``, ``org:eaeu``); persons
``per:<key>`` with lone surnames linked to the full name in the same document (a well-known
surname with no full name there keeps its own key: ``persons.find_known_surnames``); unlinked NER
organisations and places ``org:<slug>`` / ``loc:<slug>`` of their normal form. A pure function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from services.enrich.entities.keys import slug
from services.enrich.entities.merge import Draft
from services.enrich.entities.person_ids import name_parts, person_ids, person_key
from services.enrich.entities.persons import (
    find_known_surnames,
    find_surname_mentions,
    first_names,
    surname_key,
)
from shared.messages import Entity


def _person_key(normal: str, language: str) -> tuple[str, str]:
    """``person_key``, with a first name known only by its English reading («John Coale» in a
    German text) keyed as the Russian spelling («Джон Коул») is, so both get one id."""
    first, last = person_key(normal, language)
    parts = name_parts(normal)
    if first and len(parts) >= 2:
        english = first_names().english_key(parts[0], language)
        if english:
            return english, last
    return first, last


def to_entities(
    text: str, language: str, drafts: Sequence[Draft], normals: dict[Draft, str]
) -> list[Entity]:
    """One document's drafts as entities in text order; ``normals`` are the morphology's normal
    forms of NER drafts. A draft with neither an id nor a sluggable name is dropped."""
    resolved: list[Draft] = []
    for draft in drafts:
        normal = (
            normals.get(draft) or draft.normal or " ".join(text[draft.start : draft.end].split())
        )
        resolved.append(replace(draft, normal=normal))

    persons = [d for d in resolved if d.type == "PER"]
    keys = [_person_key(d.normal or "", language) for d in persons]
    surnames = {last for first, last in keys if first}
    surname_normals = {
        last: (d.normal or "").split()[-1]
        for d, (first, last) in zip(persons, keys, strict=True)
        if first
    }
    taken = [(d.start, d.end) for d in resolved]
    mentions = find_surname_mentions(text, language, surnames, taken)
    # A surname Russian knows stands alone where no full name introduces it («Putin sagte»).
    taken += [(m.start, m.end) for m in mentions]
    mentions += find_known_surnames(text, language, taken)
    for mention in mentions:
        last = surname_key(text[mention.start : mention.end], language)
        normal = surname_normals.get(last, text[mention.start : mention.end])
        resolved.append(Draft(mention.start, mention.end, "PER", normal=normal))
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
