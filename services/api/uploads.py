"""Reading uploaded files out of a request body as it streams in, never past the size limit.

A raw body is collected only up to ``limit`` bytes: the chunk that takes it over the limit ends
the read (so at most one chunk, a few KiB, past the limit is ever held), and the rest is never
read by us (the server discards it). A multipart body is parsed as it arrives; each file part is
spooled (in memory up to ``SPOOL_MEMORY_BYTES``, then a temporary file) and refused the moment it
passes the per-file limit, the whole body the moment it passes the per-request limit, and the
part that would be one file too many as soon as its headers arrive. So one request costs at
most the request limit in spool space, however many files it carries. Nothing here queues
anything or touches Redis.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from tempfile import SpooledTemporaryFile
from typing import TYPE_CHECKING
from urllib.parse import unquote

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

DEFAULT_FILENAME = "upload"
MAX_FILENAME_CHARS = 255
# Form fields (``source``) are names, not documents.
MAX_FIELD_BYTES = 1024
SPOOL_MEMORY_BYTES = 1024 * 1024
FORM_FIELDS = frozenset({"source"})

_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


class UploadTooLarge(Exception):
    """A file (or the whole body) is over the limit: answered with 413."""

    def __init__(self, limit: int, filename: str | None = None, *, request: bool = False) -> None:
        what = f"file {filename!r}" if filename else "file"
        if request:
            what = "the request body"
        super().__init__(f"{what} is larger than the limit of {limit} bytes")
        self.limit = limit
        self.filename = filename


class BadUpload(Exception):
    """The body is not a usable upload (malformed multipart, no file, unknown field)."""


def safe_filename(name: str | None) -> str:
    """A file name fit to record: its last path component, printable, at most 255 characters.

    Names come from clients and are never used as paths; this only keeps logs, receipts and the
    index readable (no ``../``, no control characters, no megabyte-long names).
    """
    if not name:
        return DEFAULT_FILENAME
    text = unicodedata.normalize("NFC", name)
    text = re.split(r"[\\/]", text)[-1]
    text = _UNSAFE.sub("", text).strip()
    if text in {"", ".", ".."}:
        return DEFAULT_FILENAME
    return text[:MAX_FILENAME_CHARS]


def filename_from_header(value: str | None) -> str | None:
    """``X-Filename`` is percent-encoded UTF-8 (HTTP header values are Latin-1 only)."""
    return unquote(value, encoding="utf-8", errors="replace") if value else None


def filename_from_disposition(value: str | None) -> str | None:
    if not value:
        return None
    _, options = parse_options_header(value)
    raw = options.get(b"filename")
    return raw.decode("utf-8", errors="replace") if raw else None


async def read_body(chunks: AsyncGenerator[bytes, None], limit: int) -> bytes:
    """The whole body, or ``UploadTooLarge`` as soon as it passes ``limit`` bytes."""
    buffer = bytearray()
    async with aclosing(chunks) as stream:
        async for chunk in stream:
            if len(buffer) + len(chunk) > limit:
                raise UploadTooLarge(limit)
            buffer += chunk
    return bytes(buffer)


@dataclass
class SpooledUpload:
    """One file part of a multipart body, held in a spooled temporary file."""

    filename: str
    size: int = 0
    spool: SpooledTemporaryFile[bytes] = field(
        # Closed by MultipartForm.close(), which the caller must call: it outlives this scope.
        default_factory=lambda: SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115  # see above
    )

    def read_bytes(self) -> bytes:
        self.spool.seek(0)
        return self.spool.read()


@dataclass
class MultipartForm:
    files: list[SpooledUpload] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    def close(self) -> None:
        for upload in self.files:
            upload.spool.close()


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    upload: SpooledUpload | None = None
    data: bytearray = field(default_factory=bytearray)


class _MultipartCollector:
    """python-multipart callbacks that build a ``MultipartForm`` and enforce the limits.

    Spool writes happen inside the parser's callbacks, on the event loop: they are memory copies
    up to 1 MiB and page-cache writes beyond, bounded by the per-file limit, which is cheaper than
    a thread hop per chunk.
    """

    def __init__(self, form: MultipartForm, file_limit: int, max_files: int) -> None:
        self.form = form
        self.file_limit = file_limit
        self.max_files = max_files
        self.part = _Part()
        self._header_name = bytearray()
        self._header_value = bytearray()

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self.part.headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        if b"name" not in options:
            raise BadUpload('every part needs a Content-Disposition "name"')
        self.part.name = options[b"name"].decode("utf-8", errors="replace")
        if b"filename" in options:
            if len(self.form.files) >= self.max_files:
                raise BadUpload(
                    f"at most {self.max_files} files per request (NEWSFLOW_MAX_FILES_PER_REQUEST)"
                )
            filename = options[b"filename"].decode("utf-8", errors="replace")
            self.part.upload = SpooledUpload(safe_filename(filename))
            self.form.files.append(self.part.upload)
        elif self.part.name not in FORM_FIELDS:
            raise BadUpload(
                f"unexpected form field {self.part.name!r}: send files (parts with a filename)"
                f" and optionally {', '.join(sorted(FORM_FIELDS))}"
            )

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        upload = self.part.upload
        if upload is None:
            if len(self.part.data) + end - start > MAX_FIELD_BYTES:
                raise BadUpload(f"form field {self.part.name!r} is over {MAX_FIELD_BYTES} bytes")
            self.part.data += data[start:end]
            return
        if upload.size + end - start > self.file_limit:
            raise UploadTooLarge(self.file_limit, upload.filename)
        upload.spool.write(data[start:end])
        upload.size += end - start

    def on_part_end(self) -> None:
        if self.part.upload is None:
            self.form.fields[self.part.name] = self.part.data.decode("utf-8", errors="replace")


async def read_multipart(
    chunks: AsyncGenerator[bytes, None],
    content_type: str,
    *,
    file_limit: int,
    body_limit: int,
    max_files: int,
) -> MultipartForm:
    """Parse a ``multipart/form-data`` body into its files and fields, enforcing the limits:
    ``file_limit`` bytes per file, ``body_limit`` bytes for the whole body (part headers
    included), ``max_files`` files.

    The caller owns the returned form and must ``close()`` it.
    """
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise BadUpload("multipart/form-data without a boundary")
    form = MultipartForm()
    collector = _MultipartCollector(form, file_limit, max_files)
    received = 0
    try:
        parser = MultipartParser(boundary, collector.callbacks())
        async with aclosing(chunks) as stream:
            async for chunk in stream:
                received += len(chunk)
                if received > body_limit:
                    raise UploadTooLarge(body_limit, request=True)
                parser.write(chunk)
        parser.finalize()
        if parser.state != MultipartState.END:
            raise BadUpload("multipart body ends before its closing boundary")
    except FormParserError as error:
        form.close()
        raise BadUpload(f"malformed multipart body: {error}") from error
    except BaseException:
        form.close()
        raise
    if not form.files:
        form.close()
        raise BadUpload("no file in the multipart body (a part needs a filename)")
    return form
