"""Unit tests for the index stage's pure functions: words, stems, query parsing and snippets.

Covers ``services.index.stemming`` and the snippets of ``services.index.search``; the query
language has its own tests in ``test_index_query.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from services.index import lemmas, tasks
from services.index.query import highlight_stems, parse
from services.index.search import build_snippet
from services.index.stemming import (
    STEMMING_ALGORITHMS,
    query_variants,
    stem_text,
    stem_word,
    tokenize,
)
from shared.settings import Settings

# --- tokenize ---------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def test_tokenize_lowercases_unicode_words_and_drops_punctuation() -> None:
    """Index and query must split text the same way, whatever the script or punctuation."""
    text = '"За этим будущее" - Лазаревич (BelTA), 29. September: Ergebnisse!'
    assert tokenize(text) == [
        "за", "этим", "будущее", "лазаревич", "belta", "29", "september", "ergebnisse",
    ]  # fmt: skip


def test_tokenize_folds_yo_to_ie() -> None:
    """Russian text writes ё and е interchangeably; a search must not depend on which was used."""
    assert tokenize("Ёлка, ещё") == tokenize("Елка, еще") == ["елка", "еще"]


def test_tokenize_treats_decomposed_umlauts_like_composed_ones() -> None:
    """Text pasted from some systems is NFD; "Fu" + U+0308 + "ße" must still be one word, "füße"."""
    assert tokenize("Fu\u0308ße") == tokenize("Füße") == ["füße"]


def test_tokenize_folds_capital_dotted_i_to_plain_i() -> None:
    """Python lowercases "İ" to "i" plus a combining dot; "İstanbul" must still match "istanbul"."""
    assert tokenize("İstanbul ISTANBUL") == ["istanbul", "istanbul"]


def test_tokenize_keeps_words_with_soft_hyphens_whole() -> None:
    """Web copy hides soft hyphens inside words; they must not split a word in two."""
    assert tokenize("Techno\u00adlogie\u00adpark") == ["technologiepark"]


def test_tokenize_splits_on_underscores_and_hyphens() -> None:
    """Compound forms like "Technopark-Ansiedler" must be findable by either part."""
    assert tokenize("Technopark-Ansiedler snake_case") == [
        "technopark", "ansiedler", "snake", "case",
    ]  # fmt: skip


def test_tokenize_of_blank_text_is_empty() -> None:
    """Blank text must yield no words, so it can never become an empty FTS5 phrase."""
    assert tokenize("  \n\t -- !? ") == []


# --- stem_text ----------------------------------------------------------------------------------


def test_russian_inflections_share_a_stem() -> None:
    """«технопарков» must find «технопарк»: Russian inflects nouns for case and number."""
    forms = ["технопарк", "технопарка", "технопарки", "технопарков", "технопарках"]
    assert {stem_text(form, "ru") for form in forms} == {"технопарк"}


def test_german_inflections_share_a_stem() -> None:
    """«Technologieparks» must find «Technologiepark»: German inflects nouns too."""
    assert stem_text("Technologieparks", "de") == stem_text("Technologiepark", "de")


def test_german_sharp_s_and_umlauts_are_left_to_the_german_stemmer() -> None:
    """German writes "Straße" and "Strasse" for one word; the Snowball stemmer folds them itself."""
    assert stem_text("Straße", "de") == stem_text("Strasse", "de")
    assert stem_text("Föderation", "de") == stem_text("Fo\u0308deration", "de")


def test_english_inflections_share_a_stem() -> None:
    """English documents are stemmed too, so "running" finds "runs"."""
    assert stem_text("Running runs", "en") == "run run"


def test_unknown_languages_are_lowercased_but_not_stemmed() -> None:
    """A wrong stemmer mangles words worse than none; 'und' and other languages stay as written."""
    assert stem_text("Les Parcs Technologiques", "fr") == "les parcs technologiques"
    assert stem_text("Technoparks", "und") == "technoparks"


def test_language_codes_are_case_insensitive() -> None:
    """A producer writing "RU" instead of "ru" must not silently turn stemming off."""
    assert stem_text("технопарков", "RU") == "технопарк"


def test_stemmers_give_the_same_results_from_many_threads() -> None:
    """PyStemmer objects are not thread-safe; each thread must get its own and agree with others."""
    text = "Кластер технопарков регионов Беларуси и России " * 20
    expected = stem_text(text, "ru")
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: stem_text(text, "ru"), range(64)))
    assert set(results) == {expected}


# --- query_variants -----------------------------------------------------------------------------


def test_cyrillic_query_words_get_russian_belarusian_and_ukrainian_forms() -> None:
    """A Cyrillic word may have been stored as Russian, Belarusian or Ukrainian, or as it is."""
    variants = query_variants("Технопарков")
    assert {"технопарков", "технопарк"} <= variants
    assert stem_text("Технопарков", "be") in variants
    assert stem_text("Технопарков", "uk") in variants


def test_belarusian_word_forms_share_a_stem() -> None:
    """Belarusian has no Snowball stemmer; its case endings (-аў, -амі, -ага) must still go."""
    forms = ["тэхнапарк", "тэхнапарка", "тэхнапарку", "тэхнапаркам", "тэхнапаркаў",
             "тэхнапарках", "тэхнапаркамі"]  # fmt: skip
    assert {stem_text(form, "be") for form in forms} == {"тэхнапарк"}
    assert stem_text("беларускага", "be") == stem_text("беларускія", "be") == "беларуск"
    assert stem_text("рублі", "be") == stem_text("рублёў", "be")  # not the past tense -лі
    # Softened т and д before -е («у праекце», «у горадзе») keep the stem of «праект», «горад».
    assert stem_text("праекце", "be") == stem_text("праектаў", "be") == "праект"
    assert stem_text("горадзе", "be") == stem_text("горада", "be") == "горад"
    # Nouns in -ія, their genitive plural in -ій, and past tenses in -ў, -ла, -лі.
    company = ["кампанія", "кампаніі", "кампанію", "кампаніяй", "кампаній", "кампаніямі"]
    assert {stem_text(form, "be") for form in company} == {"кампан"}
    opened = ["адкрыць", "адкрыў", "адкрыла", "адкрылі"]
    assert {stem_text(form, "be") for form in opened} == {"адкр"}
    assert stem_text("Мы дзе ён", "be") == "мы дзе ен"  # short words stay whole (ё folded)


def test_a_ukrainian_query_word_meets_every_lemma_its_forms_are_stored_under() -> None:
    """pymorphy3 reads «Києві» first as a form of «кий»; «Київ» must find it all the same."""
    for stored in ("Києві", "Києва", "Київ"):
        assert stem_text(stored, "uk") in query_variants("Київ"), stored
    assert stem_text("гривні", "uk") in query_variants("гривня")
    assert stem_text("гривень", "uk") in query_variants("гривні")


def test_latin_query_words_get_german_and_english_stems_and_their_plain_form() -> None:
    """The query language is unknown, so a Latin word must meet German and English stems alike."""
    assert query_variants("Technologieparks") == {"technologieparks", "technologiepark"}
    variants = query_variants("Running")
    assert {"running", "run"} <= variants
    assert stem_text("Running", "de") in variants


def test_query_variants_of_a_number_is_the_number() -> None:
    """Numbers fit no stemmer's script; they must still be searchable as written."""
    assert query_variants("2025") == {"2025"}


def test_query_variants_of_nothing_is_empty() -> None:
    """An empty variant set is how the query parser knows to drop a term."""
    assert query_variants("") == set()


# --- stem_word ----------------------------------------------------------------------------------


def test_stem_word_uses_the_named_snowball_algorithm() -> None:
    """Phrases are compiled per stemmer; stem_word must agree with how documents are stemmed."""
    assert stem_word("технопарков", "russian") == stem_text("технопарков", "ru")
    assert stem_word("technologieparks", "german") == stem_text("Technologieparks", "de")
    assert stem_word("тэхнапаркаў", "belarusian") == stem_text("тэхнапаркаў", "be")
    assert stem_word("києві", "ukrainian") == stem_text("Києві", "uk")
    assert set(STEMMING_ALGORITHMS) == {"russian", "german", "english", "belarusian", "ukrainian"}


# --- build_snippet ------------------------------------------------------------------------------


def _stems(query: str) -> set[str]:
    return highlight_stems(parse(query))


def test_snippet_brackets_every_inflected_form_of_the_query_word() -> None:
    """Readers need to see why a document matched, even when it used a different word form."""
    body = "Предложено создать кластер технопарков. В каждом регионе есть технопарки."
    snippet = build_snippet("Заголовок", body, "ru", _stems("технопарк"))
    assert snippet == (
        "Предложено создать кластер [технопарков]. В каждом регионе есть [технопарки]."
    )


def test_snippet_shows_the_original_text_not_the_stems() -> None:
    """Stems like "technologiepark" are an index detail; the reader sees the words as written."""
    body = "Ein Cluster von Technologieparks in den Regionen."
    snippet = build_snippet("Titel", body, "de", _stems("technologiepark"))
    assert snippet == "Ein Cluster von [Technologieparks] in den Regionen."


def test_snippet_is_a_window_around_the_first_match_in_a_long_body() -> None:
    """A match deep in a long article must be shown, not the article's unrelated first lines."""
    filler = "Sonstiges Wort " * 60
    body = filler + "Hier steht der Technopark von Minsk. " + filler
    snippet = build_snippet("Titel", body, "de", _stems("Technopark"))
    assert "[Technopark]" in snippet
    assert snippet.startswith("\u2026")
    assert snippet.endswith("\u2026")
    assert len(snippet) <= 200 + len("[]") + 2 * len("\u2026")


def test_snippet_never_cuts_a_word() -> None:
    """Half-words at the window's edges read as typos."""
    body = "abcdefghij " * 50 + "target " + "klmnopqrst " * 50
    snippet = build_snippet("t", body, "en", _stems("target"))
    words = re.findall(r"\w+", snippet)
    assert set(words) <= {"abcdefghij", "target", "klmnopqrst"}


def test_snippet_collapses_paragraph_breaks() -> None:
    """A snippet is one line in a result list; newlines from the body would break the layout."""
    body = "Erster Absatz.\n\nZweiter Absatz über den Technopark."
    snippet = build_snippet("Titel", body, "de", _stems("Technopark"))
    assert snippet == "Erster Absatz. Zweiter Absatz über den [Technopark]."


def test_snippet_falls_back_to_the_title_when_only_the_title_matches() -> None:
    """A title-only hit must still show the reader where the match is."""
    snippet = build_snippet("Neuer Technopark eröffnet", "Kein Treffer hier.", "de",
                            _stems("Technopark"))  # fmt: skip
    assert snippet == "Neuer [Technopark] eröffnet"


def test_snippet_without_any_match_is_the_start_of_the_body() -> None:
    """Hits found only through a plain-form variant still need some text to show."""
    body = "Wort " * 100
    snippet = build_snippet("Titel", body, "de", {"nothing"})
    assert snippet.startswith("Wort Wort")
    assert snippet.endswith("\u2026")
    assert len(snippet) <= 201


def test_snippet_of_a_short_body_is_the_whole_body_without_ellipses() -> None:
    """Ellipses must only ever mean that text was left out."""
    assert build_snippet("T", "Der Technopark.", "de", _stems("Technopark")) == "Der [Technopark]."


def test_index_worker_loads_the_ukrainian_dictionary_before_it_forks() -> None:
    """Loaded in the main process, the dictionary is shared by the pool's children; left to
    each child's first Ukrainian document, each holds its own (measured: 130 against 150 MB
    for an index worker of two children after 1000 documents, half of them Ukrainian)."""
    tasks.load_before_fork(Settings(languages=["ru", "uk"], index_url=":memory:"))
    assert lemmas._analyzer is not None


def test_index_worker_imports_its_backend_before_it_forks(tmp_path: Path) -> None:
    """The backend's module (and the stemmer it imports) is imported by the main process, so
    the pool's children share it, and nothing is opened there: a SQLite index file appears only
    when a child opens it."""
    path = tmp_path / "index.db"
    script = (
        "import sys\n"
        "from services.index import tasks\n"
        "from shared.settings import Settings\n"
        "assert 'services.index.sqlite' not in sys.modules\n"
        f"tasks.load_before_fork(Settings(languages=['ru', 'de'], index_url='sqlite:///{path}'))\n"
        "assert 'services.index.sqlite' in sys.modules\n"
        "assert 'Stemmer' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT)
    assert not path.exists()
