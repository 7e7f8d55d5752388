"""From raw bytes to a ParsedDocument: header, title, body, repairs, trailers, id, and refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from services.ingest.parse import Trailers, document_id, load_trailers, parse_raw
from services.ingest.repair import (
    DEFAULT_TRAILERS_FILE,
    MAX_LISTED_REPAIRS,
    collapse_repeats,
    read_patterns,
    strip_trailers,
)
from shared.errors import PermanentError
from shared.messages import HeaderRate, ParsedDocument, Repair

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
RECEIVED = datetime(2025, 10, 12, 8, 30, tzinfo=UTC)


def parse(text: str | bytes, trailers: Trailers | None = None) -> ParsedDocument:
    data = text.encode() if isinstance(text, str) else text
    return parse_raw(
        data,
        receipt="r-1",
        source="local",
        filename="news.txt",
        received_at=RECEIVED,
        trailers=trailers,
    )


def seed(prefix: str) -> ParsedDocument:
    path = next(SEEDS.glob(f"{prefix}_*.txt"))
    return parse(path.read_bytes())


def refusal(text: str | bytes) -> PermanentError:
    with pytest.raises(PermanentError) as caught:
        parse(text)
    return caught.value


# --- title and body ---------------------------------------------------------------------------


def test_first_line_is_title_and_each_other_line_a_paragraph() -> None:
    """Enrich and index rely on title and paragraphs being split the same way every time."""
    doc = parse("Заголовок\nПервый абзац.\n\n\nВторой абзац.\n")
    assert doc.title == "Заголовок"
    assert doc.paragraphs == ["Первый абзац.", "Второй абзац."]
    assert (doc.header, doc.published, doc.header_rate) == ("absent", None, None)
    assert doc.warnings == []
    assert doc.repairs == []


def test_message_fields_come_from_the_call() -> None:
    """Receipt and source tie the document back to its submission for status and replay."""
    data = "Заголовок\nАбзац.".encode("cp1251")
    doc = parse(data)
    assert (doc.receipt, doc.source, doc.filename, doc.received_at) == (
        "r-1",
        "local",
        "news.txt",
        RECEIVED,
    )
    assert doc.size == len(data)
    assert doc.encoding == "cp1251"


def test_headline_only_file_is_valid() -> None:
    """A wire flash is just a headline; it is still news."""
    doc = parse("\n  Срочно: курс доллара вырос  \n\n")
    assert doc.title == "Срочно: курс доллара вырос"
    assert doc.paragraphs == []


def test_parsed_document_survives_a_json_round_trip() -> None:
    """The document crosses a queue as JSON; it must come back equal."""
    doc = parse("date 2025-10-11 3,69 BYN\nЗаголовок\nАбзац.\nАбзац.\nПодписаться")
    assert ParsedDocument.model_validate(doc.model_dump(mode="json")) == doc


# --- header -----------------------------------------------------------------------------------


def test_header_line_is_consumed_and_title_is_the_next_line() -> None:
    """The header is metadata; the headline after it is the title."""
    doc = parse(" date 2025-10-11 3,69 BYN\nЗаголовок\nАбзац.")
    assert doc.header == "ok"
    assert doc.published == date(2025, 10, 11)
    assert doc.header_rate == HeaderRate(value=3.69, currency="BYN")
    assert (doc.title, doc.paragraphs) == ("Заголовок", ["Абзац."])


def test_header_known_only_to_the_month_gives_a_month_precise_date() -> None:
    """The document says what the source knew: October 2011, not the 1st of October."""
    doc = parse(" date 2011-10 8680 BYR\nЗаголовок\nАбзац.")
    assert (doc.header, doc.published, doc.published_precision) == (
        "ok",
        date(2011, 10, 1),
        "month",
    )
    assert parse(" date 2025-10-11 3,69 BYN\nЗаголовок").published_precision == "day"


def test_malformed_header_is_kept_as_first_paragraph_with_a_warning() -> None:
    """Nothing is lost, the real headline stays the title, and the warning says what is wrong."""
    doc = parse("date 2025-13-45 3.69 BYN\nЗаголовок\nАбзац.")
    assert doc.header == "malformed"
    assert (doc.published, doc.header_rate) == (None, None)
    assert doc.title == "Заголовок"
    assert doc.paragraphs == ["date 2025-13-45 3.69 BYN", "Абзац."]
    assert doc.warnings == [
        "malformed header 'date 2025-13-45 3.69 BYN': date '2025-13-45' does not exist"
    ]


def test_header_with_missing_currency_is_malformed() -> None:
    """A rate without a currency cannot be used, and the operator should hear about it."""
    doc = parse("date 2025-10-11 3.69\nЗаголовок")
    assert doc.header == "malformed"
    assert doc.warnings == ["malformed header 'date 2025-10-11 3.69': no currency after the rate"]


def test_headline_starting_with_date_is_the_title() -> None:
    """An English headline about dates is not a broken header."""
    doc = parse("Date palms grow in the Gomel region now\nA farmer planted them in 2021.")
    assert doc.header == "absent"
    assert doc.title == "Date palms grow in the Gomel region now"
    assert doc.warnings == []


# --- repairs ----------------------------------------------------------------------------------


def test_repeated_paragraphs_are_kept_once_and_recorded() -> None:
    """Scrapers sometimes save an article twice over; the copy must not double every count."""
    doc = parse("Заголовок\nПервый.\nВторой.\nПервый.\nВторой.\nТретий.")
    assert doc.paragraphs == ["Первый.", "Второй.", "Третий."]
    assert doc.repairs == [
        Repair(kind="paragraph_collapsed", text="Первый."),
        Repair(kind="paragraph_collapsed", text="Второй."),
    ]


def test_repeats_are_compared_after_normalisation() -> None:
    """A copy that differs only in NBSPs or trailing spaces is still the same paragraph."""
    doc = parse("Заголовок\nКурс\u00a0вырос. \nКурс  вырос.")
    assert doc.paragraphs == ["Курс вырос."]


def test_body_paragraph_equal_to_title_is_collapsed() -> None:
    """Some sites repeat the headline as the first line of the body."""
    doc = parse("Заголовок новости\nЗаголовок новости\nТекст.")
    assert doc.paragraphs == ["Текст."]
    assert doc.repairs == [Repair(kind="paragraph_collapsed", text="Заголовок новости")]


def test_repair_records_only_the_first_200_characters() -> None:
    """Repairs travel with every message; a whole long paragraph would bloat them."""
    long = "Абзац " * 100
    kept, repairs = collapse_repeats(["Заголовок", long, long])
    assert kept == ["Заголовок", long]
    assert repairs == [Repair(kind="paragraph_collapsed", text=long[:200])]


@pytest.mark.parametrize(
    "trailer",
    [
        "Подписывайтесь на наши новости в Вконтакте",
        "Подписывайтесь на наши новости в Telegram!",
        "Подписаться",
        "подписаться →",
        "Падпісвайцеся на нашы навіны ў Telegram",
        "Падпісацца",
        "Підписуйтесь на наші новини в Telegram",
        "Підписатися",
        "Abonnieren Sie unseren Newsletter",
        "Abonnieren",
        "Subscribe to our newsletter",
        "SUBSCRIBE",
        "Follow us on Telegram",
    ],
)
def test_known_trailer_at_end_is_stripped(trailer: str) -> None:
    """Calls to action are site furniture, not article text, in every language we receive."""
    doc = parse(f"Заголовок\nТекст статьи.\n{trailer}")
    assert doc.paragraphs == ["Текст статьи."]
    assert doc.repairs == [Repair(kind="trailer_stripped", text=trailer)]


def test_trailers_are_stripped_repeatedly_from_the_end() -> None:
    """Sites stack several calls to action; all of them go, last first."""
    doc = parse("Заголовок\nТекст.\nПодписывайтесь на наши новости в Вконтакте\n\nПодписаться")
    assert doc.paragraphs == ["Текст."]
    assert [r.text for r in doc.repairs] == [
        "Подписаться",
        "Подписывайтесь на наши новости в Вконтакте",
    ]


def test_trailer_in_the_middle_of_the_body_is_kept() -> None:
    """Only the end of an article is furniture; a quoted "Subscribe" mid-text is content."""
    doc = parse("Headline\nSubscribe\nThe minister spoke for an hour.")
    assert doc.paragraphs == ["Subscribe", "The minister spoke for an hour."]


def test_long_paragraph_starting_with_subscribe_is_not_stripped() -> None:
    """A real closing paragraph that begins like a trailer must never be deleted."""
    closing = (
        "Subscribe to our newsletter, the minister told the assembled journalists, was the "
        "advice his own press office gave him before the reform of the state media began."
    )
    doc = parse(f"Headline\nFirst paragraph.\n{closing}")
    assert doc.paragraphs == ["First paragraph.", closing]
    assert doc.repairs == []


@pytest.mark.parametrize("closing", ["Subscribers complained.", "Follow us onward, he said."])
def test_paragraph_that_only_begins_with_a_trailer_word_is_kept(closing: str) -> None:
    """Patterns match whole words: "Subscribers" is not "Subscribe", "onward" is not "on"."""
    doc = parse(f"Headline\nText.\n{closing}")
    assert doc.paragraphs == ["Text.", closing]


def test_document_pasted_twice_with_trailer_loses_copy_and_trailer() -> None:
    """Repeats go first, so the first copy's trailer ends up last and is stripped too."""
    doc = parse("Заголовок\nТекст.\nПодписаться\nТекст.\nПодписаться")
    assert doc.paragraphs == ["Текст."]
    assert [r.kind for r in doc.repairs] == [
        "paragraph_collapsed",
        "paragraph_collapsed",
        "trailer_stripped",
    ]


def test_extra_trailer_patterns_are_used() -> None:
    """Settings add site-specific trailers without editing the bundled file."""
    trailers = load_trailers(extra=("Читайте также *",))
    doc = parse("Заголовок\nТекст.\nЧитайте также: курс доллара", trailers)
    assert doc.paragraphs == ["Текст."]


def test_alternative_trailer_file_replaces_the_bundled_list(tmp_path: Path) -> None:
    """A deployment can replace the list entirely; bundled patterns then no longer apply."""
    path = tmp_path / "trailers.txt"
    path.write_text("# site furniture\nЧитать далее\n\n", encoding="utf-8")
    doc = parse("Заголовок\nТекст.\nПодписаться\nЧитать далее", load_trailers(path))
    assert doc.paragraphs == ["Текст.", "Подписаться"]


def test_load_trailers_is_cached_per_argument() -> None:
    """The ingest task asks for the trailers on every document; the file is read once."""
    assert load_trailers() is load_trailers()
    assert load_trailers(None, ["x *"]) is load_trailers(None, ("x *",))


def test_trailer_pattern_without_letters_is_rejected() -> None:
    """A bad pattern in settings must fail at start, not match every paragraph."""
    with pytest.raises(ValueError, match="no letters or digits"):
        Trailers.from_patterns(["→ *"])


def test_bundled_trailer_file_covers_every_language() -> None:
    """The shipped list must parse, and carry patterns for ru, be, uk, de and en."""
    patterns = read_patterns(DEFAULT_TRAILERS_FILE.read_text(encoding="utf-8"))
    trailers = Trailers.from_patterns(patterns)
    for word in ["Подписаться", "Падпісацца", "Підписатися", "Abonnieren", "Subscribe"]:
        assert trailers.matches(word)
    assert not any(p.startswith("#") for p in patterns)


def test_strip_trailers_can_empty_the_list() -> None:
    """The parser decides what an all-trailer file means; stripping just reports it."""
    kept, repairs = strip_trailers(["Subscribe", "Подписаться"], load_trailers())
    assert kept == []
    assert len(repairs) == 2


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "   \n\t\n\u00a0\u200b\n", "\ufeff", "\r\n\r\n"],
)
def test_empty_or_whitespace_only_file_is_refused_as_empty(text: str) -> None:
    """An empty file is dead-lettered with reason "empty", never indexed as a blank document."""
    assert refusal(text).reason == "empty"


def test_header_only_file_is_refused_as_empty() -> None:
    """A header with no article is not a document."""
    error = refusal(" date 2025-10-11 3.69 BYN\n\n")
    assert error.reason == "empty"
    assert "header" in error.detail


def test_malformed_header_only_file_is_refused_as_empty() -> None:
    """A broken header alone has no headline to become the title."""
    assert refusal("date 2025-13-45 3.69 BYN\n").reason == "empty"


def test_trailer_only_file_is_refused_as_empty() -> None:
    """A page that was nothing but its subscribe box holds no news."""
    error = refusal("Подписывайтесь на наши новости в Вконтакте\nПодписаться\n")
    assert error.reason == "empty"
    assert "trailers" in error.detail


def test_binary_file_is_refused_as_binary() -> None:
    """Decoding refusals pass through the parser unchanged, reason and detail."""
    error = refusal(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert (error.reason, error.detail) == ("binary", "NUL byte at offset 8")


# --- document id ------------------------------------------------------------------------------


def test_document_id_is_16_hex_digits_and_deterministic() -> None:
    """Every write is an upsert keyed by this id; it must be stable and well-formed."""
    first = document_id("Заголовок", ["Абзац."])
    assert first == document_id("Заголовок", ["Абзац."])
    assert len(first) == 16
    assert int(first, 16) >= 0


def test_document_id_depends_on_content_only() -> None:
    """The same article submitted twice, under another name, must get the same id."""
    one = parse_raw(
        b"Title\nBody.", receipt="a", source="cli", filename="a.txt", received_at=RECEIVED
    )
    two = parse_raw(
        b"Title\nBody.",
        receipt="b",
        source="watch",
        filename="b.txt",
        received_at=datetime.now(UTC),
    )
    assert one.id == two.id
    assert one.id != parse("Title\nOther body.").id
    assert document_id("Title", ["A", "B"]) != document_id("Title", ["A B"])


def test_document_id_is_the_same_for_crlf_lf_trailing_spaces_and_encoding() -> None:
    """Re-saving a file on Windows or in cp1251 must not create a duplicate in the index."""
    lf = parse("Заголовок\nПервый абзац.\nВторой абзац.\n")
    crlf = parse("Заголовок\r\nПервый абзац.  \r\n\r\nВторой абзац.\t\r\n")
    legacy = parse("Заголовок \nПервый абзац.\nВторой абзац.".encode("cp1251"))
    assert lf.id == crlf.id == legacy.id
    assert lf.id == document_id("Заголовок", ["Первый абзац.", "Второй абзац."])


def test_document_id_normalises_its_arguments() -> None:
    """Another stage recomputing the id from raw strings must get the same value."""
    assert document_id(" Заголовок\u00a0 ", ["Абзац\u200b."]) == document_id(
        "Заголовок", ["Абзац."]
    )


def test_header_does_not_change_the_document_id() -> None:
    """The id covers the article, not the metadata line in front of it."""
    with_header = parse("date 2025-10-11 3.69 BYN\nЗаголовок\nАбзац.")
    without = parse("Заголовок\nАбзац.")
    assert with_header.id == without.id


# --- the seed files ---------------------------------------------------------------------------


def test_seed_000_header_is_read() -> None:
    """The quick start runs on the seeds; their header must give date and rate."""
    doc = seed("000")
    assert doc.header == "ok"
    assert doc.published == date(2025, 10, 11)
    assert doc.header_rate == HeaderRate(value=3.69, currency="BYN")
    assert doc.title.startswith('"За этим будущее" - Лазаревич')
    assert doc.warnings == []


def test_seed_001_leading_blank_line_and_doubled_paragraphs_are_repaired() -> None:
    """The German seed starts with an empty line and contains its body twice."""
    doc = seed("001")
    assert doc.header == "absent"
    assert doc.title.startswith("MINSK, 29. September (BelTA)")
    # No headline: the first paragraph gives the title and stays whole in the body.
    assert len(doc.paragraphs) == len(set(doc.paragraphs)) == 6
    assert [r.kind for r in doc.repairs] == ["paragraph_collapsed"] * 5
    assert doc.paragraphs[0].startswith("MINSK, 29. September (BelTA)")
    assert doc.paragraphs[1].startswith("Nadeschda Lasarewitsch betonte")


def test_seed_002_header_is_read() -> None:
    """The second header-carrying seed, with another date and rate."""
    doc = seed("002")
    assert doc.header == "ok"
    assert doc.published == date(2025, 9, 29)
    assert doc.header_rate == HeaderRate(value=3.64, currency="BYN")
    assert doc.title.startswith("Новые проекты и контракты")


def test_seed_003_has_no_header_and_no_repairs() -> None:
    """A clean file must come through untouched."""
    doc = seed("003")
    assert (doc.header, doc.repairs, doc.warnings) == ("absent", [], [])
    assert doc.title.startswith("Центр управления проектами")
    assert doc.paragraphs[0].startswith(doc.title)  # a one-sentence paragraph, not a headline
    assert len(doc.paragraphs) == 8


def test_seed_004_subscribe_trailers_are_stripped() -> None:
    """The seed ends with two calls to action that must not reach the index."""
    doc = seed("004")
    assert doc.title == "Дмитрий Медведев показал белорусскому коллеге Сергею Румасу инновации"
    assert doc.repairs == [
        Repair(kind="trailer_stripped", text="Подписаться"),
        Repair(kind="trailer_stripped", text="Подписывайтесь на наши новости в Вконтакте"),
    ]
    assert doc.paragraphs[-1].startswith("Беларусь выступает за обмен опытом")


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_seed_parses_the_same_from_cp1251_or_cp1252_bytes(prefix: str) -> None:
    """The same article saved in a legacy encoding is the same document, with the same id."""
    path = next(SEEDS.glob(f"{prefix}_*.txt"))
    codec = "cp1252" if prefix == "001" else "cp1251"
    legacy = parse(path.read_text(encoding="utf-8").encode(codec))
    original = seed(prefix)
    assert legacy.encoding == codec
    assert legacy.model_dump(exclude={"encoding", "size"}) == original.model_dump(
        exclude={"encoding", "size"}
    )


@pytest.mark.timeout(60)
def test_a_punctuation_run_before_a_word_is_matched_in_linear_time() -> None:
    """The edge-noise regex (``[\\W_]+$``) was tried from every position of a run of punctuation
    that a word follows, each try scanning to the run's end: 78 KB took 25 s. 400 KB here would
    take about 10 minutes that way."""
    noise = "!" * 400_000
    trailers = load_trailers()
    assert not trailers.matches(f"Читайте также {noise} новости дня")
    assert not trailers.matches(f"{noise} новости {noise}")
    # Noise around a whole trailer is still only noise: the trailer is recognised.
    assert trailers.matches(f"{noise} Подписаться {noise}")
    doc = parse(f"Заголовок\nТекст статьи.\nЧитайте также {noise} новости дня")
    assert doc.paragraphs == ["Текст статьи.", f"Читайте также {noise} новости дня"]


def test_repairs_beyond_the_listed_maximum_are_counted_in_a_warning() -> None:
    """A million copies of one line would make a million repair records (5 MB of "a\\n" made a
    105 MB message); the first are listed and the rest counted, so none goes unmentioned."""
    copies = MAX_LISTED_REPAIRS + 500
    doc = parse("Заголовок\n" + "Абзац.\n" * copies + "Подписаться")
    assert doc.paragraphs == ["Абзац."]
    assert len(doc.repairs) == MAX_LISTED_REPAIRS
    assert doc.repairs[0] == Repair(kind="paragraph_collapsed", text="Абзац.")
    # 499 copies and the trailer were removed but not listed.
    assert doc.warnings == [
        f"500 more repeated or trailer paragraphs removed than the {MAX_LISTED_REPAIRS} listed "
        "in repairs"
    ]


def test_a_huge_header_shaped_line_gives_a_short_warning() -> None:
    """A header line can be one huge token; the warning quotes its start, not megabytes."""
    doc = parse(f"date 2025-10-11{'9' * 1_000_000} BYN\nЗаголовок\nТекст.")
    assert doc.header == "malformed"
    assert len(doc.warnings[0]) < 400
    assert doc.paragraphs[0].startswith("date 2025-10-11999")
