"""Text normalisation: invisible differences go, so equal content compares and hashes equal."""

from __future__ import annotations

import unicodedata
from collections import Counter

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


def _decomposed_counts(text: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for char, times in Counter(text).items():
        for part in unicodedata.normalize("NFD", char):
            counts[part] += times
    return counts


def _marks_between_joiners(text: str) -> int:
    """The longest run of non-starters (counted decomposed) between two joiners."""
    return max(
        sum(1 for char in unicodedata.normalize("NFD", part) if unicodedata.combining(char))
        for part in text.split("\u034f")
    )


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "marks",
    [
        "\u0301\u0316",  # acute (class 230) and grave below (220): sorted by insertion, quadratic
        "\u0f73",  # Tibetan ii: not a combining character itself, but decomposes to two marks
        "\u0301",
    ],
)
def test_a_long_run_of_combining_marks_is_made_stream_safe(marks: str) -> None:
    """CPython puts a run of marks into canonical order by insertion sort: NFC of 40 000 mixed
    marks took 4.8 s and a 200 KB file minutes. A joiner after every 30 (UAX #15's Stream-Safe
    Text Format) keeps it linear; 1 MB here would take minutes without it."""
    text = "a" + marks * (1_000_000 // len(marks.encode()))
    once = normalize_text(text)
    assert _marks_between_joiners(once) <= 30
    assert normalize_text(once) == once
    # Every letter and mark is still there, only joiners were added. (Counted character by
    # character: normalising the joiner-free text whole would be the quadratic sort again.)
    assert _decomposed_counts(once.replace("\u034f", "")) == _decomposed_counts(text)


def test_marks_of_real_text_get_no_joiner() -> None:
    """Real words carry a handful of marks at most; only a run past 30 gets a joiner."""
    stacked = "e" + "\u0301\u0316" * 10  # 20 marks on one letter: odd, but under the limit
    assert "\u034f" not in normalize_text(f"Йошкар-Ола, ёлка, {stacked}")
    assert normalize_text("e" + "\u0301\u0316" * 16).count("\u034f") == 1
