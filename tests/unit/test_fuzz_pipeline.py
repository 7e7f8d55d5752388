"""Property tests over ingest+enrich: whatever bytes arrive, the only way out other than a valid
enriched document is the designed dead letter (``PermanentError``).

Three kinds of input: arbitrary bytes, arbitrary text in the encodings our sources use, and
documents built from the pieces real files are made of (header lines, headlines, prose, amounts
in every spelling, names, repeated paragraphs, subscribe trailers, hostile runs), where the
enrichers have the most to do. Each result must survive the JSON trip to the index stage
unchanged, and every money and entity mention must index ``doc.text`` exactly. The number of
examples and their randomness come from the Hypothesis profile (``tests/conftest.py``): 200
fixed examples each in CI; ``bench/fuzz.py`` runs 10^4+ inputs.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsflow.local import local_stores
from services.ingest.repair import DEFAULT_TRAILERS_FILE, read_patterns
from shared.errors import PermanentError
from shared.settings import Settings
from tests.hostile import DENSE_PARAGRAPH, WORDS, ingest_and_enrich, problems

# The default limit, and two small ones so that the cut often falls among mentions.
LIMITS = (100_000, 300, 40)
SETTINGS = {limit: Settings(_env_file=None, enrich_max_chars=limit) for limit in LIMITS}

SENTENCES = (
    "Премьер-министры России и Беларуси провели в Москве короткие переговоры.",
    "Мінскі гарвыканкам прапанаваў стварыць кластар тэхнапаркаў рэгіёнаў Беларусі.",
    "Прем'єр-міністри двох країн провели у Києві короткі переговори.",
    "Die Internationale Industriemesse findet zum ersten Mal in Minsk statt.",
    "The international industrial exhibition takes place in Minsk for the first time.",
    "Präsident Alexander Lukaschenko besuchte Minsk und traf Nadeschda Lasarewitsch.",
    DENSE_PARAGRAPH,
)
TRAILERS = tuple(
    pattern.removesuffix("*").strip()
    for pattern in read_patterns(DEFAULT_TRAILERS_FILE.read_text(encoding="utf-8"))
)
CURRENCIES = (
    "руб.", "рублей", "белорусских рублей", "российских рублей", "р.", "BYN", "USD", "$", "€",
    "евро", "долларов США", "доллара", "Euro", "Mio. Euro", "грн", "тенге", "₽", "Br", "EUR",
    "dollars", "млн руб.", "тыс. долларов", "Mrd. Euro", "billion dollars",
)  # fmt: skip
SCALES = ("", " млн", " тыс.", " млрд", " Mio.", " Mrd.", " million", " bn", "k")
HOSTILE_RUNS = (
    "!",
    "«",
    "-",
    "—",
    " ",
    "\u00a0",
    "\u0301",
    "\u0301\u0316",
    "\u200b",
    "\u202e",
    "1",
)


@st.composite
def numbers(draw: st.DrawFn) -> str:
    """Digits with every thousands and decimal convention: «1 234,5», «1.234,56», «1,234.56»."""
    whole = draw(st.integers(min_value=0, max_value=10**13))
    thousands = draw(st.sampled_from(["", " ", "\u00a0", ".", ",", "'", "\u202f"]))
    text = f"{whole:,}".replace(",", thousands)
    if draw(st.booleans()):
        text += draw(st.sampled_from([",", "."])) + str(draw(st.integers(0, 999)))
    return text


@st.composite
def amounts(draw: st.DrawFn) -> str:
    """Money-like strings: «1 234,5 млн руб.», «$5–7 million», «от 5 до 7 млн долларов»."""
    number = draw(numbers()) + draw(st.sampled_from(SCALES))
    currency = draw(st.sampled_from(CURRENCIES))
    shape = draw(st.integers(0, 4))
    if shape == 0:
        return f"{number} {currency}"
    if shape == 1:
        return f"{currency}{draw(st.sampled_from(['', ' ']))}{number}"
    if shape == 2:
        return f"от {draw(numbers())} до {number} {currency}"
    if shape == 3:
        return f"{draw(numbers())}–{number} {currency}"
    return f"{number} {currency} за {draw(st.sampled_from(['доллар', 'евро', '1 USD']))}"


@st.composite
def header_lines(draw: st.DrawFn) -> str:
    """` date 2025-10-11 3.69 BYN` and the ways sources get it wrong."""
    day = draw(st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31))).isoformat()
    if draw(st.integers(0, 5)) == 0:
        day = draw(st.sampled_from(["2025-13-45", "2025-02-30", "25-10-11", "2025-10-11x"]))
    rate = draw(st.sampled_from(["3.69", "3,69", "0", "1e3", "3.69.1", ""]))
    currency = draw(st.sampled_from(["BYN", "USD", "byn", "RUBL", "", "BYN extra words"]))
    return " ".join(part for part in ("date", day, rate, currency) if part)


@st.composite
def hostile_runs(draw: st.DrawFn) -> str:
    unit = draw(st.sampled_from(HOSTILE_RUNS))
    return unit * draw(st.integers(1, 3000)) + draw(st.sampled_from(["", " word", "Минск"]))


pieces = st.one_of(
    st.sampled_from(SENTENCES),
    st.sampled_from(TRAILERS),
    amounts(),
    hostile_runs(),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=30).map(" ".join),
    st.text(max_size=200),
)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A raw file as sources write them: maybe a header, a headline, paragraphs made of the
    pieces above, some repeated, maybe trailers at the end, joined by any line break."""
    paragraphs = draw(
        st.lists(st.lists(pieces, min_size=1, max_size=4).map(" ".join), min_size=0, max_size=12)
    )
    if paragraphs and draw(st.booleans()):
        repeated = draw(st.sampled_from(paragraphs))
        for _ in range(draw(st.integers(1, 5))):
            paragraphs.insert(draw(st.integers(0, len(paragraphs))), repeated)
    trailers = draw(st.lists(st.sampled_from(TRAILERS), max_size=3))
    lines = [draw(st.one_of(st.sampled_from(SENTENCES), st.text(max_size=80)))]
    if draw(st.booleans()):
        lines.insert(0, draw(header_lines()))
    separator = draw(st.sampled_from(["\n", "\n\n", "\r\n", "\n \t\n", "\u2029", "\r"]))
    return separator.join([*lines, *paragraphs, *trailers])


def _check(data: bytes, limit: int) -> None:
    """The property: a valid enriched document, or the designed dead letter."""
    try:
        doc = ingest_and_enrich(data, SETTINGS[limit], local_stores())
    except PermanentError:
        return
    assert problems(doc) == []


@pytest.mark.timeout(300)
@given(data=st.binary(max_size=4096), limit=st.sampled_from(LIMITS))
def test_arbitrary_bytes_end_as_a_document_or_a_dead_letter(data: bytes, limit: int) -> None:
    _check(data, limit)


@pytest.mark.timeout(300)
@given(
    text=st.text(max_size=3000),
    encoding=st.sampled_from(["utf-8", "utf-16", "utf-16-le", "cp1251", "koi8-r", "cp1252"]),
    limit=st.sampled_from(LIMITS),
)
def test_arbitrary_text_in_any_encoding_ends_as_a_document_or_a_dead_letter(
    text: str, encoding: str, limit: int
) -> None:
    _check(text.encode(encoding, errors="ignore"), limit)


@pytest.mark.timeout(300)
@given(text=documents(), limit=st.sampled_from(LIMITS))
def test_news_shaped_documents_end_as_a_document_or_a_dead_letter(text: str, limit: int) -> None:
    _check(text.encode(), limit)
