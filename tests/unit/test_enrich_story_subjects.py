"""Stories: the subjects a text is about, read alike in the five languages."""

from __future__ import annotations

import pytest

from services.enrich.stories.subjects import MAX_SUBJECTS, subjects


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Евросоюз ввел санкции против экспорта калия и нефтепродуктов.", "ru"),
        ("Еўрасаюз увёў санкцыі супраць экспарту калію і нафтапрадуктаў.", "be"),
        ("Євросоюз запровадив санкції проти експорту калію та нафтопродуктів.", "uk"),
        ("Die EU verhängt Wirtschaftssanktionen gegen Kaliausfuhren und Ölprodukte.", "de"),
        ("The EU imposes sanctions on exports of potash and petroleum products.", "en"),
    ],
)
def test_one_sentence_names_the_same_subjects_in_every_language(text: str, language: str) -> None:
    assert set(subjects(text, language)) == {"sanctions", "fertiliser", "oil", "exports"}


def test_short_stems_do_not_match_inside_other_words() -> None:
    # «Völker», «Radikalisierung», «долго» and «gasket»-like words hold a stem's letters only.
    assert subjects("Die Völker lehnen die Radikalisierung ab.", "de") == []
    assert subjects("Die Konkurrenten wurden akkreditiert.", "de") == []
    assert subjects("Переговоры шли долго и долгосрочно.", "ru") == []
    assert subjects("The oilseed harvest.", "en") == []


def test_the_most_mentioned_subjects_are_kept_first() -> None:
    text = "sanctions sanctions sanctions inflation inflation budget loan pension tractor potash"
    found = subjects(text, "en")
    assert len(found) == MAX_SUBJECTS
    assert found[:2] == ["sanctions", "inflation"]


def test_german_compounds_are_read_by_their_chosen_stems() -> None:
    text = "Devisenreserven schmelzen, Einkommensteuern steigen, Kalidünger wird teurer."
    assert set(subjects(text, "de")) == {"reserves", "taxes", "fertiliser"}
