"""A title is at most one sentence of 200 characters; a first line that is a paragraph gives
its first sentence and stays whole in the body."""

from __future__ import annotations

import pytest

from services.ingest.title import TITLE_MAX_CHARS, first_sentence, headline


@pytest.mark.parametrize(
    "line",
    [
        "Лазаревич рассказала о выгоде кластера технопарков",
        "Курс доллара вырос на 0,5 %",
        "Was bringt der 1. Mai?",
        "Минск: НБ РБ снизил ставку. ",
    ],
)
def test_a_headline_is_its_own_title(line: str) -> None:
    assert headline(line) == line


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("Курс вырос. Нацбанк сообщил об этом.", "Курс вырос."),
        ("Am 29. September stieg der Kurs. Danach fiel er.", "Am 29. September stieg der Kurs."),
        ("Dr. Müller sagte es. Dann ging er.", "Dr. Müller sagte es."),
        ("Встреча прошла в г. Минске. Итоги подвели позже.", "Встреча прошла в г. Минске."),
        ("Was nun? «Weiter so», sagte er.", "Was nun?"),
        ("one sentence only", "one sentence only"),
        ("lower. case does not end it", "lower. case does not end it"),
    ],
)
def test_sentences_end_at_a_full_stop_before_a_capital_not_after_numbers_or_abbreviations(
    text: str, sentence: str
) -> None:
    assert first_sentence(text) == sentence


def test_a_paragraph_gives_its_first_sentence() -> None:
    line = "Курс доллара вырос. " + "Нацбанк сообщил об этом в среду, " * 10
    assert headline(line) == "Курс доллара вырос."


def test_a_long_first_sentence_is_cut_at_a_word() -> None:
    line = "Слово " * 100
    title = headline(line)
    assert len(title) <= TITLE_MAX_CHARS
    assert title.endswith("Слово…")


def test_only_the_start_of_a_huge_line_is_read() -> None:
    """A 5 MB single line costs no more than a short one (the rest cannot change the title)."""
    assert len(headline("a. B " * 1_000_000)) <= TITLE_MAX_CHARS
    assert headline("!" * 1_000_000 + " 1").startswith("!!!")
