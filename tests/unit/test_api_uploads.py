"""Upload reading: a body is read only up to the limit; multipart parts are checked as they come."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from services.api.uploads import (
    DEFAULT_FILENAME,
    BadUpload,
    UploadTooLarge,
    filename_from_disposition,
    filename_from_header,
    read_body,
    read_multipart,
    safe_filename,
)

BOUNDARY = "xYzBoundary"
LIMITS = {"file_limit": 100_000, "body_limit": 1_000_000, "max_files": 100}
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


class Chunks:
    """An async body that counts how much of it was consumed."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks
        self.taken = 0

    async def stream(self) -> AsyncGenerator[bytes, None]:
        for chunk in self.chunks:
            self.taken += 1
            yield chunk


def multipart(*parts: tuple[str, str | None, bytes], close: bool = True) -> bytes:
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += (
            f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
        )
    return body + (f"--{BOUNDARY}--\r\n".encode() if close else b"")


def test_body_under_the_limit_is_read_whole() -> None:
    body = Chunks(b"abc", b"def")
    assert asyncio.run(read_body(body.stream(), 6)) == b"abcdef"


def test_body_reading_stops_at_the_chunk_that_passes_the_limit() -> None:
    """A huge body costs at most limit + one chunk of memory: the rest is never consumed."""
    body = Chunks(*([b"x" * 1000] * 1000))
    with pytest.raises(UploadTooLarge):
        asyncio.run(read_body(body.stream(), 2500))
    assert body.taken == 3


def test_multipart_collects_files_and_the_source_field() -> None:
    body = multipart(
        ("files", "a.txt", b"first"), ("files", "b.txt", b"second"), ("source", None, b"belta")
    )
    form = asyncio.run(read_multipart(Chunks(body[:7], body[7:]).stream(), CONTENT_TYPE, **LIMITS))
    try:
        assert [(f.filename, f.size, f.read_bytes()) for f in form.files] == [
            ("a.txt", 5, b"first"),
            ("b.txt", 6, b"second"),
        ]
        assert form.fields == {"source": "belta"}
    finally:
        form.close()


def test_multipart_file_over_the_limit_stops_the_read() -> None:
    body = multipart(("files", "big.txt", b"x" * 5000), ("files", "small.txt", b"ok"))
    chunks = Chunks(*[body[i : i + 100] for i in range(0, len(body), 100)])
    with pytest.raises(UploadTooLarge, match=r"big\.txt"):
        asyncio.run(read_multipart(chunks.stream(), CONTENT_TYPE, **{**LIMITS, "file_limit": 1000}))
    assert chunks.taken < len(chunks.chunks) // 2


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (multipart(("source", None, b"x")), CONTENT_TYPE, "no file"),
        (multipart(("other", None, b"x"), ("f", "a.txt", b"a")), CONTENT_TYPE, "unexpected"),
        (multipart(("f", "a.txt", b"a"), close=False), CONTENT_TYPE, "closing boundary"),
        (multipart(("f", "a.txt", b"a")), "multipart/form-data", "boundary"),
        (multipart(("source", None, b"s" * 2000), ("f", "a", b"a")), CONTENT_TYPE, "source"),
    ],
)
def test_unusable_multipart_bodies_are_refused(
    body: bytes, content_type: str, message: str
) -> None:
    with pytest.raises(BadUpload, match=message):
        asyncio.run(read_multipart(Chunks(body).stream(), content_type, **LIMITS))


def test_a_body_over_the_request_limit_stops_the_read_though_every_file_is_small() -> None:
    """The audit sent 100 files of 10 MiB in one request: each under the file limit, together
    a gigabyte. The whole body has its own limit, and reading stops at the chunk that passes
    it."""
    files = [("files", f"{n}.txt", b"x" * 900) for n in range(20)]
    body = multipart(*files)
    chunks = Chunks(*[body[i : i + 500] for i in range(0, len(body), 500)])
    limits = {"file_limit": 1000, "body_limit": 5000, "max_files": 100}
    with pytest.raises(UploadTooLarge, match="request body is larger than the limit of 5000"):
        asyncio.run(read_multipart(chunks.stream(), CONTENT_TYPE, **limits))
    assert chunks.taken <= 5000 // 500 + 1


def test_too_many_files_are_refused() -> None:
    body = multipart(*[("f", f"{n}.txt", b"x") for n in range(4)])
    with pytest.raises(BadUpload, match="at most 3 files"):
        asyncio.run(
            read_multipart(Chunks(body).stream(), CONTENT_TYPE, **{**LIMITS, "max_files": 3})
        )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, DEFAULT_FILENAME),
        ("", DEFAULT_FILENAME),
        ("новости.txt", "новости.txt"),
        ("../../etc/passwd", "passwd"),
        ("C:\\drop\\a.txt", "a.txt"),
        ("..", DEFAULT_FILENAME),
        ("bad\x00\nname.txt", "badname.txt"),
        ("x" * 300, "x" * 255),
    ],
)
def test_filenames_are_reduced_to_a_safe_name(given: str | None, expected: str) -> None:
    """A client's name is recorded, never used as a path: no directories, no control bytes."""
    assert safe_filename(given) == expected


def test_filename_header_forms_are_decoded() -> None:
    assert filename_from_header("%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8.txt") == "новости.txt"
    assert filename_from_disposition('attachment; filename="a b.txt"') == "a b.txt"
    assert filename_from_disposition(None) is None
