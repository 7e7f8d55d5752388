"""The entity step's entry: every finder over a batch of documents, merged, with ids.

How a document's entities are found:

1. Russian: Natasha's NER (``ner``) gives PER/ORG/LOC spans.
2. Every language: the gazetteer (``gazetteer``) finds countries, regions, cities and the curated
   organisations, in any case form.
3. German, English, Belarusian, Ukrainian: person rules (``persons``) and organisation patterns
   (``org_patterns``), since no NER model for them ships offline; in Ukrainian also Natasha's
   NER spans where those found nothing (``NER_CANDIDATE_LANGUAGES``).
4. Merge (``merge``), then normal forms and ids (``ids``).

Pure functions of the text apart from the models, which are read-only after loading.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from services.enrich.entities.ids import to_entities
from services.enrich.entities.merge import (
    Draft,
    add_candidates,
    drop_parts,
    merge_rules,
    merge_russian,
)
from services.enrich.entities.models import load_models
from services.enrich.entities.ner import NerSpan
from services.enrich.entities.org_patterns import find_organisations
from services.enrich.entities.persons import find_persons
from services.enrich.entities.tokens import WordToken
from shared.messages import Entity

NER_LANGUAGES = frozenset({"ru"})
# Natasha's Russian NER as a candidate source where the rules come first: its spans count where
# newsflow's own finders found nothing. Measured on the real-news benchmark
# (``bench/ner_candidates.py``, dev half): Ukrainian entity F1 0.91 -> 0.92 (it finds persons the
# rules miss; P 0.99 -> 0.94, R 0.85 -> 0.91), Belarusian 0.86 -> 0.75 (its Russian model tags
# Belarusian words as names), so Ukrainian only.
NER_CANDIDATE_LANGUAGES = frozenset({"uk"})

_SPACE = re.compile(r"\s+")


def extract_entities_batch(texts: Sequence[str], languages: Sequence[str]) -> list[list[Entity]]:
    """Entities of each text; NER runs over the Russian texts together (faster in batches)."""
    if len(texts) != len(languages):
        raise ValueError("one language per text")
    models = load_models()
    ner_docs = [i for i, (t, lang) in enumerate(zip(texts, languages, strict=True))
                if lang in NER_LANGUAGES | NER_CANDIDATE_LANGUAGES and t.strip()]  # fmt: skip
    ner_results = dict(zip(ner_docs, models.russian.spans([texts[i] for i in ner_docs]),
                           strict=True))  # fmt: skip

    drafts_by_doc: list[list[Draft]] = []
    for i, (text, language) in enumerate(zip(texts, languages, strict=True)):
        matches = models.gazetteer.find(text) if text.strip() else []
        if i in ner_results and language in NER_LANGUAGES:
            drafts = merge_russian(text, ner_results[i][1], matches)
        else:
            places = [(m.start, m.end) for m in matches if m.entry.kind != "city"]
            persons = find_persons(text, language, models.first_names, places)
            organisations = find_organisations(text)
            drafts = merge_rules(text, language, persons, matches, organisations)
            if i in ner_results:
                drafts = add_candidates(text, drafts, ner_results[i][1])
        drafts_by_doc.append(drop_parts(text, language, drafts))

    # Normal forms from the morphology, for every NER span not linked to a gazetteer name, all
    # documents in one batch.
    wanted: list[tuple[int, Draft, NerSpan]] = [
        (i, d, d.ner) for i, drafts in enumerate(drafts_by_doc) for d in drafts if d.ner is not None
    ]
    items: list[tuple[Sequence[WordToken], NerSpan]] = [
        (ner_results[i][0], s) for i, _, s in wanted
    ]
    normal_list = models.russian.normal_forms(items) if items else []
    normals: list[dict[Draft, str]] = [{} for _ in texts]
    for (i, draft, _), normal in zip(wanted, normal_list, strict=True):
        normals[i][draft] = _SPACE.sub(" ", normal).strip()

    return [
        to_entities(text, language, drafts, doc_normals)
        for text, language, drafts, doc_normals in zip(
            texts, languages, drafts_by_doc, normals, strict=True
        )
    ]


def extract_entities(text: str, *, language: str) -> list[Entity]:
    """Entities of one text (offsets into ``text``); ``language`` is ISO 639-1 or ``und``."""
    return extract_entities_batch([text], [language])[0]
