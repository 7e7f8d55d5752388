"""The enrich step's bound on the expensive enrichers: entities and money read at most
``enrich_max_chars`` of a document, say so in a warning, and keep offsets into the whole text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsflow.local import local_stores
from services.enrich.stage import enrich_document, head
from services.ingest.parse import parse_raw
from shared.messages import ParsedDocument
from shared.settings import Settings

LEAD = "Александр Лукашенко посетил Минск и выделил 5 млн рублей на технопарк."


def _parsed(text: str) -> ParsedDocument:
    return parse_raw(
        text.encode(),
        receipt="r-1",
        source="local",
        filename="a.txt",
        received_at=datetime(2025, 10, 12, tzinfo=UTC),
    )


def test_head_cuts_at_a_space_so_no_word_is_split() -> None:
    """A name or amount cut in two would be read wrong, not just missed."""
    text = "слово " * 100
    cut = head(text, 100)
    assert text.startswith(cut)
    assert len(cut) <= 100
    assert cut.endswith("слово")
    assert head("x" * 500, 100) == "x" * 100  # no space near the limit: cut at the limit
    assert head(text, 10_000) is text


def test_a_long_document_is_read_from_its_start_with_a_warning() -> None:
    """Mentions past the limit are not read; the document says how much was, and every offset
    still indexes the whole text."""
    tail = "Снова 7 млн долларов для Гродно. " * 200
    doc = _parsed(f"Заголовок\n{LEAD}\n{tail}")
    settings = Settings(_env_file=None, enrich_max_chars=1000)
    enriched = enrich_document(doc, local_stores(), settings)
    assert enriched.text == doc.text
    # Minsk is named in its sentence: the bare «рублей» are Belarusian.
    assert [(m.amount, m.currency) for m in enriched.money][:1] == [(5_000_000.0, "BYN")]
    assert all(m.end <= 1000 for m in enriched.money)
    assert all(e.end <= 1000 for e in enriched.entities)
    assert {"geonames:625144", "per:lksndr-lksnk"} <= {e.id for e in enriched.entities}
    for mention in [*enriched.money, *enriched.entities]:
        assert enriched.text[mention.start : mention.end] == mention.text
    read = len(head(doc.text, 1000))
    assert enriched.warnings == [
        f"entities and money read from the first {read} of {len(doc.text)} characters"
    ]


def test_a_document_within_the_limit_has_no_warning() -> None:
    doc = _parsed(f"Заголовок\n{LEAD}")
    enriched = enrich_document(doc, local_stores(), Settings(_env_file=None))
    assert enriched.warnings == []
    assert [(m.amount, m.currency) for m in enriched.money] == [(5_000_000.0, "BYN")]


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_the_limit_must_be_a_positive_number(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """A bad NEWSFLOW_ENRICH_MAX_CHARS stops the worker at start, not at the first document."""
    monkeypatch.setenv("NEWSFLOW_ENRICH_MAX_CHARS", value)
    with pytest.raises(ValueError, match="enrich_max_chars"):
        Settings(_env_file=None)
