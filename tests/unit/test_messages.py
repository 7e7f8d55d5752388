"""Message models: every message survives a JSON round trip, and foreign shapes are refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime

import pytest
from pydantic import BaseModel, ValidationError

from shared.messages import (
    CountryShare,
    CurrencyRate,
    DeadLetter,
    EnrichedDocument,
    HeaderRate,
    MoneyMention,
    ParsedDocument,
    RawFile,
    Repair,
)
from shared.receipts import ReceiptStatus

NOW = datetime(2025, 10, 11, 8, 30, tzinfo=UTC)

PARSED = ParsedDocument(
    receipt="r1",
    source="cli",
    filename="000.txt",
    received_at=NOW,
    size=120,
    encoding="cp1251",
    id="0123456789abcdef",
    title="Заголовок",
    paragraphs=["Абзац один.", "Абзац два."],
    published=date(2025, 10, 11),
    header_rate=HeaderRate(value=3.69, currency="BYN"),
    header="ok",
    warnings=["w"],
    repairs=[Repair(kind="trailer_stripped", text="Подписаться")],
)

MESSAGES: list[BaseModel] = [
    RawFile(
        receipt="r1",
        source="watch",
        filename="a.txt",
        size=3,
        received_at=NOW,
        content_b64=base64.b64encode(b"abc").decode(),
        origin_path="/drop/a.txt",
    ),
    RawFile(
        receipt="r2",
        source="http",
        filename="b.txt",
        size=10**6,
        received_at=NOW,
        blob_key="newsflow:blob:r2",
    ),
    PARSED,
    EnrichedDocument(
        **PARSED.model_dump(),
        language="ru",
        language_confidence=0.97,
        duplicate_of=None,
        enrichers={"language": "1"},
    ),
    EnrichedDocument(
        **PARSED.model_dump(),
        language="ru",
        language_confidence=0.97,
        money=[
            MoneyMention(
                text="3,41 рубля",
                start=10,
                end=20,
                amount=3.41,
                currency="BYN",
                per_currency="USD",
                currency_basis="header",
                currency_note="the header line's rate is in BYN",
            )
        ],
        rates=[
            CurrencyRate(quote="BYN", value=3.69, text="3.69 BYN"),
            CurrencyRate(base="USD", quote="BYN", value=3.41, text="3,41 рубля", start=10, end=20),
        ],
        country="BY",
        countries=[CountryShare(code="BY", share=0.8), CountryShare(code="RU", share=0.2)],
        enrichers={"money": "3", "country": "1"},
    ),
    DeadLetter(
        stage="ingest",
        receipt="r1",
        reason="binary",
        error="NUL byte at offset 3",
        failed_at=NOW,
        task_name="ingest.receive",
        payload={"receipt": "r1"},
    ),
    ReceiptStatus(
        receipt="r1", state="dead_letter", stage="ingest", reason="binary", updated_at=NOW
    ),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_every_message_round_trips_through_json(message: BaseModel) -> None:
    """Messages cross queues as JSON text only; nothing may be lost or changed on the way."""
    wire = json.dumps(message.model_dump(mode="json"))
    assert type(message).model_validate(json.loads(wire)) == message


def test_raw_file_gives_back_its_inline_bytes() -> None:
    """Inline bytes are base64 in JSON; the receiver must get the exact bytes back."""
    raw = RawFile(
        receipt="r",
        source="cli",
        filename="f",
        size=4,
        received_at=NOW,
        content_b64=base64.b64encode(b"\x00\xff\x10a").decode(),
    )
    assert raw.inline_bytes() == b"\x00\xff\x10a"


def test_unknown_fields_and_versions_are_refused() -> None:
    """A message from an incompatible producer must be dead-lettered, not half-read."""
    payload = PARSED.model_dump(mode="json")
    with pytest.raises(ValidationError):
        ParsedDocument.model_validate({**payload, "surprise": 1})
    with pytest.raises(ValidationError):
        ParsedDocument.model_validate({**payload, "schema_version": 2})


def test_a_date_without_precision_is_known_to_the_day() -> None:
    """Producers written before dates had a precision keep meaning what they meant."""
    payload = PARSED.model_dump(mode="json")
    del payload["published_precision"]
    assert ParsedDocument.model_validate(payload).published_precision == "day"


def test_an_imprecise_date_is_its_periods_first_day() -> None:
    """October 2011 is written 2011-10-01 by every producer; 2011-10-20 «known to the month»
    would be a day passed off as unknown, or a month mistaken for a day."""
    month = PARSED.model_copy(update={"published": date(2011, 10, 1)})
    payload = month.model_dump(mode="json")
    assert ParsedDocument.model_validate({**payload, "published_precision": "month"})
    with pytest.raises(ValidationError, match="known to the month is its first day"):
        ParsedDocument.model_validate(
            {**payload, "published": "2011-10-20", "published_precision": "month"}
        )
    with pytest.raises(ValidationError, match="known to the year is its first day"):
        ParsedDocument.model_validate({**payload, "published_precision": "year"})
    year = ParsedDocument.model_validate(
        {**payload, "published": "2011-01-01", "published_precision": "year"}
    )
    assert year.published_as_known == "2011"
    assert month.model_copy(update={"published_precision": "month"}).published_as_known == "2011-10"
    assert PARSED.published_as_known == "2025-10-11"


def test_body_and_text_join_paragraphs_with_blank_lines() -> None:
    """Enrichers work on title and body together; the contract's body separates paragraphs."""
    assert PARSED.body == "Абзац один.\n\nАбзац два."
    assert PARSED.text == "Заголовок\n\nАбзац один.\n\nАбзац два."
