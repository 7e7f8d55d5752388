"""The ingest step's own refusals: what arrives without its bytes, or too big for this worker."""

from __future__ import annotations

import pytest

from services.ingest.intake import raw_file_message
from services.ingest.stage import ingest_raw
from shared.errors import PermanentError
from shared.settings import Settings

TEXT = "Заголовок\n\nТекст новости о выставке.".encode()


def _settings(max_file_bytes: int = 1024) -> Settings:
    return Settings(_env_file=None, max_file_bytes=max_file_bytes)


def test_bytes_inline_are_parsed() -> None:
    raw = raw_file_message(TEXT, len(TEXT), filename="a.txt", source="cli", origin_path=None)
    doc = ingest_raw(raw, TEXT, _settings())
    assert doc.title == "Заголовок"


def test_a_file_over_this_workers_limit_is_too_large() -> None:
    raw = raw_file_message(TEXT, len(TEXT), filename="a.txt", source="cli", origin_path=None)
    with pytest.raises(PermanentError) as refused:
        ingest_raw(raw, TEXT, _settings(max_file_bytes=10))
    assert refused.value.reason == "too_large"


def test_bytes_left_out_by_a_stricter_submitter_are_too_large_not_missing() -> None:
    """A watcher with a lower NEWSFLOW_MAX_FILE_BYTES sends only the size; the file is still
    refused for its size, which is what the operator must fix before a replay."""
    raw = raw_file_message(None, 5000, filename="a.txt", source="watch", origin_path="/d/a.txt")
    with pytest.raises(PermanentError) as refused:
        ingest_raw(raw, None, _settings(max_file_bytes=10_000))
    assert refused.value.reason == "too_large"
    assert "submitter's limit" in str(refused.value)


def test_an_expired_blob_is_a_missing_payload() -> None:
    raw = raw_file_message(
        None,
        500,
        filename="a.txt",
        source="cli",
        origin_path=None,
        receipt="r1",
        blob_key="newsflow:blob:r1",
    )
    with pytest.raises(PermanentError) as refused:
        ingest_raw(raw, None, _settings())
    assert refused.value.reason == "missing_payload"
