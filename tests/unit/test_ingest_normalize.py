"""Text normalisation: invisible differences go, so equal content compares and hashes equal."""

from __future__ import annotations

import unicodedata

import pytest

from services.ingest.normalize import normalize_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\r\nb", "a\nb"),
        ("a\rb", "a\nb"),
        ("a\r\n\r\nb", "a\n\nb"),
        ("a\u2028b\u2029c", "a\nb\nc"),
        ("a\x0cb\x0bc\x85d", "a\nb\nc\nd"),
    ],
)
def test_every_line_break_becomes_newline(raw: str, expected: str) -> None:
    """Windows, old Mac and Unicode line breaks must split paragraphs the same way."""
    assert normalize_text(raw) == expected


def test_control_characters_are_removed_but_newline_kept() -> None:
    """Stray escapes and bells are dirt; the newline is structure."""
    assert normalize_text("Нов\x1bости\x07 дня\x00\nтекст\x7f\x9b") == "Новости дня\nтекст"


def test_tab_becomes_a_single_space() -> None:
    """A tab between words is a space; deleting it would glue the words together."""
    assert normalize_text("курс\tдоллара\t\tвырос") == "курс доллара вырос"


@pytest.mark.parametrize(
    "invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u202a"]
)
def test_zero_width_and_bom_characters_are_removed(invisible: str) -> None:
    """Invisible characters from web copy make equal paragraphs compare unequal."""
    assert normalize_text(f"{invisible}Под{invisible}писаться{invisible}") == "Подписаться"


@pytest.mark.parametrize(
    "space", ["\u00a0", "\u2002", "\u2009", "\u202f", "\u3000", "\u205f", "\u1680", "  \u00a0 \t"]
)
def test_runs_of_unicode_spaces_fold_to_one_space(space: str) -> None:
    """NBSP and thin spaces look like spaces and must count as one, e.g. in "3,69 BYN"."""
    assert normalize_text(f"3,69{space}BYN") == "3,69 BYN"


def test_each_line_is_stripped() -> None:
    """Leading spaces before a header or trailing spaces after a line are not content."""
    assert normalize_text("  date 2025-10-11 3.69 BYN \n\u00a0Заголовок\u3000 ") == (
        "date 2025-10-11 3.69 BYN\nЗаголовок"
    )


def test_decomposed_letters_are_composed_nfc() -> None:
    """ "й" typed as и + breve must equal the precomposed letter, or dedupe and search miss it."""
    decomposed = unicodedata.normalize("NFD", "Йошкар-Ола, ёлка, Grüße")
    assert decomposed != "Йошкар-Ола, ёлка, Grüße"
    assert normalize_text(decomposed) == "Йошкар-Ола, ёлка, Grüße"


def test_mark_separated_by_zero_width_char_still_composes() -> None:
    """Composition runs after invisible characters are gone, so the result is the real letter."""
    assert normalize_text("e\u200b\u0301") == "\u00e9"


def test_blank_lines_are_kept_empty() -> None:
    """Paragraph structure survives; the parser decides what a blank line means."""
    assert normalize_text("a\n \t\u00a0\nb") == "a\n\nb"


def test_visible_text_is_unchanged() -> None:
    """Normalisation must never touch words, punctuation, quotes or dashes."""
    text = "«Подписаться» — „INNOPROM. Belarus“ … №1, 3,69 BYN (ў, і, ґ)"
    assert normalize_text(text) == text


def test_normalising_twice_changes_nothing() -> None:
    """The document id normalises again; that must be a no-op on normalised text."""
    once = normalize_text(" a\u00a0\u00a0b\r\n\u200bc\t \r")
    assert normalize_text(once) == once
