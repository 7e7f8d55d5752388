"""From a raw file's bytes to a ``ParsedDocument``: decode, normalise, header, title and body.

Pure: no Celery, no Redis, no clock. Raises ``PermanentError`` for input that can never become a
document (binary, undecodable, empty) so the caller can dead-letter it with that reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from services.ingest.decode import decode_bytes
from services.ingest.header import parse_header
from services.ingest.normalize import normalize_text
from services.ingest.repair import Trailers, load_trailers, repair_paragraphs
from services.ingest.title import headline
from shared.errors import PermanentError
from shared.messages import ParsedDocument, Source

__all__ = ["Trailers", "document_id", "load_trailers", "parse_raw"]

ID_HEX_CHARS = 16


def document_id(title: str, paragraphs: Sequence[str]) -> str:
    """First 16 hex digits of BLAKE2b over the normalised title, a blank line, and the body.

    Content only (no file name, no receipt), so a resubmitted or redelivered file gets the same
    id and every write keyed by it is an upsert.
    """
    body = "\n\n".join(normalize_text(p) for p in paragraphs)
    content = f"{normalize_text(title)}\n\n{body}"
    return hashlib.blake2b(content.encode("utf-8")).hexdigest()[:ID_HEX_CHARS]


def parse_raw(
    data: bytes,
    *,
    receipt: str,
    source: Source,
    filename: str,
    received_at: datetime,
    trailers: Trailers | None = None,
    source_name: str | None = None,
) -> ParsedDocument:
    """Parse one raw file. ``trailers`` defaults to the bundled list."""
    text, encoding = decode_bytes(data)
    lines = [line for line in normalize_text(text).split("\n") if line]
    if not lines:
        raise PermanentError("empty", "no text left once whitespace and control characters go")

    header = parse_header(lines[0])
    if header.result == "ok":
        lines = lines[1:]
    elif header.result == "malformed":
        # Kept as text, but as the first body paragraph: the headline that follows stays the title.
        lines = [*lines[1:2], lines[0], *lines[2:]]
    if not lines or (header.result == "malformed" and len(lines) == 1):
        raise PermanentError("empty", "the file holds a header line and nothing else")

    kept, repairs, unlisted = repair_paragraphs(
        lines, load_trailers() if trailers is None else trailers
    )
    warnings = [header.warning] if header.warning else []
    if unlisted:
        warnings.append(
            f"{unlisted} more repeated or trailer paragraphs removed than the {len(repairs)} "
            "listed in repairs"
        )
    if not kept:
        raise PermanentError(
            "empty", "nothing left once repeats and subscribe trailers are removed"
        )
    title, paragraphs = headline(kept[0]), kept[1:]
    if title != kept[0]:
        # The first line was a paragraph, not a headline: it stays whole in the body.
        paragraphs = kept

    return ParsedDocument(
        receipt=receipt,
        source=source,
        filename=filename,
        received_at=received_at,
        size=len(data),
        encoding=encoding,
        source_name=source_name,
        id=document_id(title, paragraphs),
        title=title,
        paragraphs=paragraphs,
        published=header.published,
        published_precision=header.precision,
        header_rate=header.rate,
        header=header.result,
        warnings=warnings,
        repairs=repairs,
    )
