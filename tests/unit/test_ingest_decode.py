"""Decoding raw bytes: every encoding our sources use comes out as exactly the text written."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.ingest.decode import decode_bytes
from shared.errors import PermanentError

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
# Third-party sentences kept beside the repository, never in it; see its README.
LANGID = REPO.parent / "shared" / "testdata" / "langid"

RUSSIAN = [
    "Дмитрий Медведев показал белорусскому коллеге Сергею Румасу инновации",
    "Премьер-министры России и Беларуси провели в Москве короткие переговоры.",
    "Минск, Беларусь",
    "Привет",
    "Подписывайтесь на наши новости в Вконтакте",
    # Capitals followed by lower case: the shape that makes cp1251 and KOI8-R look alike.
    "НОВОСТИ ДНЯ: курс доллара вырос",
    "курс доллара вырос",
]
BELARUSIAN = [
    "Сёння ў Мінску ўсё добра.",
    "Беларусь і Расія падпісалі пагадненне аб супрацоўніцтве.",
    "Ў Беларусі ўвялі новыя правілы",
    "Падпісвайцеся на нашы навіны ў Telegram",
]
UKRAINIAN = [
    "Україна підписала угоду про співпрацю з Європейським союзом.",
    "Київ і Львів",
    "Слава Україні",
    "Їжак їсть ґрунт і п'є воду.",
]
GERMAN = [
    "Grüße aus München! Die Straße ist schön.",
    "Größe",
    "Übermäßig süß",
    "Nadeschda Lasarewitsch betonte, dass die Republik Belarus und die Regionen der "
    "Russischen Föderation traditionell durch starke wirtschaftliche Bindungen verbunden seien.",
]


def _cases(sentences: list[str], codec: str, expected: str) -> list[tuple[str, str, str]]:
    return [(text, codec, expected) for text in sentences]


@pytest.mark.parametrize(
    ("text", "codec", "expected"),
    [
        *_cases(RUSSIAN + BELARUSIAN + UKRAINIAN + GERMAN, "utf-8", "utf-8"),
        *_cases(RUSSIAN + BELARUSIAN + UKRAINIAN, "cp1251", "cp1251"),
        *_cases(RUSSIAN, "koi8-r", "koi8-r"),
        # Ukrainian letters (і ї є ґ) exist only in KOI8-U; Russian text is the same in both.
        *_cases(UKRAINIAN, "koi8-u", "koi8-u"),
        *_cases(RUSSIAN, "koi8-u", "koi8-r"),
        *_cases(GERMAN, "cp1252", "cp1252"),
        # latin-1 text is cp1252 text wherever latin-1 has printable characters.
        *_cases(GERMAN, "latin-1", "cp1252"),
    ],
)
def test_sentence_decodes_exactly(text: str, codec: str, expected: str) -> None:
    """Short real sentences are where a detector guesses wrong; each must come back unchanged."""
    decoded, encoding = decode_bytes(text.encode(codec))
    assert (decoded, encoding) == (text, expected)


@pytest.mark.parametrize(
    ("name", "codec", "expected"),
    [
        ("000", "cp1251", "cp1251"),
        ("000", "koi8-r", "koi8-r"),
        ("002", "cp1251", "cp1251"),
        ("002", "koi8-r", "koi8-r"),
        ("003", "cp1251", "cp1251"),
        ("004", "cp1251", "cp1251"),
        ("004", "koi8-r", "koi8-r"),
        ("001", "cp1252", "cp1252"),
    ],
)
def test_seed_file_in_legacy_encoding_decodes_exactly(name: str, codec: str, expected: str) -> None:
    """A whole real article saved by an old editor must read exactly as the UTF-8 original."""
    text = next(SEEDS.glob(f"{name}_*.txt")).read_text(encoding="utf-8")
    assert decode_bytes(text.encode(codec)) == (text, expected)


def test_utf8_bom_is_recognised_and_dropped() -> None:
    """Notepad writes a UTF-8 BOM; it must not end up as the first character of the headline."""
    assert decode_bytes("\ufeffПривет, мир".encode()) == ("Привет, мир", "utf-8-sig")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom_decodes(codec: str) -> None:
    """Windows "Unicode" files are UTF-16 with a BOM, either byte order."""
    data = "\ufeffСёння ў Мінску. Grüße.\n".encode(codec)
    assert decode_bytes(data) == ("Сёння ў Мінску. Grüße.\n", "utf-16")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_recognised_by_its_zero_bytes(codec: str) -> None:
    """UTF-16 without a BOM is full of NUL bytes; it is text, not binary."""
    text = "Премьер-министры России и Беларуси провели переговоры. Größe 3,69 BYN\n"
    assert decode_bytes(text.encode(codec)) == (text, codec)


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be"])
def test_utf32_with_bom_decodes(codec: str) -> None:
    """UTF-32's little-endian BOM starts like UTF-16's; the longer mark must win."""
    assert decode_bytes("\ufeffКиїв і Львів".encode(codec)) == ("Київ і Львів", "utf-32")


def test_reported_encoding_decodes_the_bytes_to_the_same_text() -> None:
    """The encoding is recorded so a reader can reproduce the text from the raw bytes."""
    samples = [
        "\ufeffТекст".encode(),
        "\ufeffТекст".encode("utf-16-le"),
        "Текст и ещё текст".encode("utf-16-be"),
        "Текст и ещё текст".encode("koi8-r"),
        "Grüße".encode("latin-1"),
    ]
    for data in samples:
        text, encoding = decode_bytes(data)
        assert data.decode(encoding) == text


def test_empty_bytes_decode_to_empty_text() -> None:
    """Emptiness is the parser's verdict (reason "empty"), not a decoding failure."""
    assert decode_bytes(b"") == ("", "utf-8")


def test_nul_byte_is_binary_with_its_offset() -> None:
    """The detail is read by a person deciding whether to replay; the offset tells them where."""
    with pytest.raises(PermanentError) as caught:
        decode_bytes(b"Hello, world\x00\x01\x02 and some more bytes")
    assert caught.value.reason == "binary"
    assert caught.value.detail == "NUL byte at offset 12"


def test_png_header_is_binary() -> None:
    """An image dropped into the folder by mistake must be refused, not indexed as mojibake."""
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00"
    with pytest.raises(PermanentError) as caught:
        decode_bytes(png)
    assert caught.value.reason == "binary"
    assert "NUL byte at offset 8" in caught.value.detail


def test_many_control_bytes_without_nul_is_binary() -> None:
    """Binary data need not contain NUL; a high share of control bytes gives it away."""
    with pytest.raises(PermanentError) as caught:
        decode_bytes(b"\x01\x02\x03\x04\x05abc\x06\x07\x0e\x0f\x10\x11def" * 10)
    assert caught.value.reason == "binary"
    assert "control characters" in caught.value.detail


def test_a_few_control_bytes_in_text_are_not_binary() -> None:
    """A stray escape or form feed is dirt for normalisation, not a reason to drop the article."""
    text, encoding = decode_bytes("Новости дня\x1b и ещё текст, много текста.\x0c\n".encode())
    assert encoding == "utf-8"
    assert text.startswith("Новости дня")


def test_high_bytes_that_read_as_no_language_are_undecodable() -> None:
    """Bytes that make no plausible text in any candidate must be refused, not guessed."""
    with pytest.raises(PermanentError) as caught:
        decode_bytes(bytes(range(0x80, 0x100)) * 8)
    assert caught.value.reason == "undecodable"
    assert caught.value.detail.startswith("invalid UTF-8 at offset 0")


def test_bom_followed_by_invalid_data_is_undecodable() -> None:
    """A BOM is a promise about the encoding; broken data after it is not silently re-guessed."""
    with pytest.raises(PermanentError) as caught:
        decode_bytes(b"\xef\xbb\xbf\xff\xfe\xfd text")
    assert caught.value.reason == "undecodable"
    assert "utf-8-sig" in caught.value.detail


def test_truncated_utf16_after_bom_is_undecodable() -> None:
    """A file cut off mid-character is reported as such, with the offset."""
    with pytest.raises(PermanentError) as caught:
        decode_bytes(b"\xff\xfe" + "abc".encode("utf-16-le")[:-1])
    assert caught.value.reason == "undecodable"
    assert "offset" in caught.value.detail


@pytest.mark.skipif(not LANGID.is_dir(), reason="shared test data is not beside the repository")
@pytest.mark.parametrize(
    ("language", "codec", "expected"),
    [
        ("ru", "cp1251", "cp1251"),
        ("ru", "koi8-r", "koi8-r"),
        ("be", "cp1251", "cp1251"),
        ("uk", "cp1251", "cp1251"),
        ("uk", "koi8-u", "koi8-u"),
        ("de", "cp1252", "cp1252"),
        ("de", "latin-1", "cp1252"),
    ],
)
def test_news_corpus_sentences_decode_exactly(language: str, codec: str, expected: str) -> None:
    """200 real news sentences per language, one at a time: the hardest case for detection."""
    wrong = []
    for sentence in (LANGID / f"{language}.txt").read_text(encoding="utf-8").splitlines():
        try:
            data = sentence.encode(codec)
        except UnicodeEncodeError:
            continue  # e.g. Belarusian "ў" has no KOI8 code at all
        if data.isascii():
            continue
        decoded, encoding = decode_bytes(data)
        # Russian sentences inside the Ukrainian file read the same in KOI8-R and KOI8-U.
        allowed = {expected, "koi8-r"} if expected == "koi8-u" else {expected}
        if decoded != sentence or encoding not in allowed:
            wrong.append((sentence, decoded, encoding))
    assert wrong == []


@pytest.mark.parametrize(("codec", "expected"), [("cp1251", "cp1251"), ("koi8-r", "koi8-r")])
def test_a_multi_megabyte_legacy_file_decodes_exactly(codec: str, expected: str) -> None:
    """The letter statistics that pick the Cyrillic codec read the first 64 KB (all of a 5 MB
    file took seconds, three readings over); a big file must still come back exactly."""
    article = next(SEEDS.glob("000_*.txt")).read_text(encoding="utf-8")
    text = article * (2_000_000 // len(article))
    assert decode_bytes(text.encode(codec)) == (text, expected)
