"""The ingest step shared by the worker and the in-process runner: a raw file in, a parsed
document out, or a ``PermanentError`` saying why not."""

from __future__ import annotations

from services.ingest.parse import load_trailers, parse_raw
from shared.errors import PermanentError
from shared.messages import ParsedDocument, RawFile
from shared.settings import Settings


def check_size(size: int, settings: Settings) -> None:
    if size > settings.max_file_bytes:
        raise PermanentError(
            "too_large", f"{size} bytes is over the limit of {settings.max_file_bytes} bytes"
        )


def ingest_raw(raw: RawFile, data: bytes | None, settings: Settings) -> ParsedDocument:
    """Parse ``data`` (the bytes ``raw`` describes); ``None`` means the bytes were not sent."""
    check_size(raw.size, settings)
    if data is None and raw.blob_key is None:
        # Submitters leave the bytes out only of a file over their own size limit, which may
        # be lower than this worker's (a watcher or API with a stricter NEWSFLOW_MAX_FILE_BYTES).
        raise PermanentError(
            "too_large", f"{raw.size} bytes was over the submitter's limit; its bytes were not sent"
        )
    if data is None:
        raise PermanentError("missing_payload", "the claim-checked blob has expired or is gone")
    check_size(len(data), settings)
    return parse_raw(
        data,
        receipt=raw.receipt,
        source=raw.source,
        filename=raw.filename,
        received_at=raw.received_at,
        source_name=raw.source_name,
        trailers=load_trailers(settings.trailers_file, tuple(settings.extra_trailers)),
    )
