"""Hostile raw files for ingest and enrich: shapes (each a function from a size to the bytes),
the two stages composed as the workers run them, and what a good result must satisfy.

Every shape is one an operator hit or one a super-linear path was found with (combining marks,
punctuation and space runs, megabyte lines and paragraphs, a million lines, long digit runs,
dense names and amounts, ...). The unit tests run each at a size where a quadratic path would
blow the test timeout (``tests/unit/test_hostile_inputs.py``); ``bench/fuzz.py`` runs them at
random sizes and mixes them. Add a shape here when a new slow input turns up.

A shape gives about ``size`` bytes (UTF-8 unless its name says otherwise), the same bytes for the
same size: the randomness in a shape is seeded by its size, so a slow input can be rebuilt from
its name and size alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from services.enrich.stage import EnrichStores, enrich_document
from services.ingest.intake import raw_file_message
from services.ingest.stage import ingest_raw
from shared.messages import EnrichedDocument
from shared.settings import Settings

Shape = Callable[[int], bytes]

TITLE = "Заголовок новости"
_WORD_TEXT = (
    "Минск выставка Лукашенко 5 млн рублей технопарк Belarus Берлин Александр Мишустин встреча "
    "договор 1 234,5 млн руб. экономика $ 20 долларов Москва Гродно «Белшина» — Надзея "
    "Лазарэвіч 3,69 BYN Präsident 7 Mrd. Euro"
)
WORDS = tuple(_WORD_TEXT.split())
MIXED_SPACES = " \t\u00a0\u2009"
DENSE_PARAGRAPH = (
    "Александр Лукашенко и Михаил Мишустин встретились в Минске. Беларусь и Россия подписали "
    "договор на 1 234,5 млн руб. в Москве."
)


def _repeat(unit: str, size: int) -> str:
    """``unit`` repeated to about ``size`` bytes of UTF-8."""
    return unit * max(1, size // len(unit.encode()))


def _words(size: int, separator: str = " ") -> str:
    rng = random.Random(size)
    parts: list[str] = []
    total = 0
    while total < size:
        word = rng.choice(WORDS)
        parts.append(word)
        total += len(word.encode()) + len(separator)
    return separator.join(parts)


def _text(text: str) -> bytes:
    return text.encode()


SHAPES: dict[str, Shape] = {
    # Combining marks: NFC sorts a run of them by insertion sort (the operator's 200 KB, 156 s).
    "marks_after_letter": lambda n: _text("a" + _repeat("\u0301", n)),
    "marks_alone": lambda n: _text(_repeat("\u0301", n)),
    "marks_mixed_classes": lambda n: _text(f"{TITLE}\n\nа" + _repeat("\u0301\u0316", n)),
    "marks_tibetan": lambda n: _text(f"{TITLE}\n\n" + _repeat("\u0f73", n)),
    "marks_on_every_letter": lambda n: _text(_repeat("Мі\u0301нск\u0316 ", n)),
    # Punctuation: the trailer key's edge-noise regex (78 KB: 25 s).
    "punctuation_before_word": lambda n: _text(f"{TITLE}\n\nЧитайте {_repeat('!', n)} новости"),
    "punctuation_only": lambda n: _text(_repeat("!?…", n)),
    # The bare rouble's sentence bounds (a place is named, so they are read): quadratic in the
    # run (a 54 000-mark run in a fuzzed 210 KB file: 33 s).
    "punctuation_before_rouble": lambda n: _text(
        f"{TITLE}\n\nВ Минске цена 5 рублей {_repeat('!', n)} новости"
    ),
    # A company's legal form, then one long dotted token: the name was tried from each capital.
    "dotted_capitals": lambda n: _text(f"{TITLE}\n\nSiemens AG {_repeat('A.', n)}1"),
    # An English apposition («X, the company»), then one long word: the name was tried from
    # each of its capitals.
    "apposition_long_word": lambda n: _text(
        f"Title\n\nAlstom, the French company. {_repeat('Ab', n)}Я"
    ),
    "noise_around_trailer": lambda n: _text(
        f"{TITLE}\n\nТекст.\n\n{_repeat('→', n // 2)} Подписаться {_repeat('!', n // 2)}"
    ),
    # Megabyte lines and paragraphs: NER over all of it (5 MB: 17 minutes, 4.4 GB).
    "single_line_words": lambda n: _text(_words(n)),
    "one_repeated_character": lambda n: _text(_repeat("a", n)),
    "one_repeated_cyrillic": lambda n: _text(_repeat("Ж", n)),
    "huge_paragraph": lambda n: _text(f"{TITLE}\n\n{_words(n)}"),
    # Many paragraphs: per-paragraph work, repairs, language per paragraph.
    "tiny_paragraphs": lambda n: _text(TITLE + "".join(f"\n{i}" for i in range(max(1, n // 7)))),
    "short_sentence_paragraphs": lambda n: _text(
        TITLE + "".join(f"\nМинск и выставка номер {i}." for i in range(max(1, n // 44)))
    ),
    "repeated_paragraphs": lambda n: _text(f"{TITLE}\n\n" + _repeat(DENSE_PARAGRAPH + "\n\n", n)),
    "repeated_short_lines": lambda n: _text(TITLE + _repeat("\nа", n)),
    "empty_lines_only": lambda n: _text(_repeat("\n \t\n", n)),
    # Digits and money: long runs, dense amounts, number words that grow without bound.
    "long_digit_run": lambda n: _text(f"{TITLE}\n\n{_repeat('1', n)} руб."),
    "digit_groups": lambda n: _text(f"{TITLE}\n\n1{_repeat(' 000', n)} руб."),
    "digits_and_separators": lambda n: _text(f"{TITLE}\n\n{_repeat('1.2,3', n)} $"),
    "rouble_tokens": lambda n: _text(f"{TITLE}\n\n{_repeat('руб. ', n)}"),
    "money_dense": lambda n: _text(f"{TITLE}\n\n{_repeat('1 234,5 млн руб. ', n)}"),
    "money_ranges": lambda n: _text(f"{TITLE}\n\n{_repeat('5–', n)}7 млн долларов"),
    "number_words": lambda n: _text(f"Title\n\ntwo {_repeat('hundred ', n)}dollars"),
    # Spaces, dashes, quotes, invisible and right-to-left characters.
    "long_spaces": lambda n: _text(f"{TITLE}\n\n5 рублей{_repeat(' ', n)}и 50 копеек"),
    "long_mixed_spaces": lambda n: _text(f"{TITLE}\n\nслово{_repeat(MIXED_SPACES, n)}слово"),
    "long_dashes": lambda n: _text(f"{TITLE}\n\n{_repeat('-—–', n)}слово"),
    "long_quotes": lambda n: _text(f"{TITLE}\n\n{_repeat('«', n // 2)}Минск{_repeat('»', n // 2)}"),
    "rtl_and_zero_width": lambda n: _text(
        f"{TITLE}\n\n" + _repeat("\u200f\u200bМинск\u202e\u2067Лукашенко\u2069\u200d ", n)
    ),
    "only_invisible": lambda n: _text(_repeat("\u200b\u200f\ufeff", n)),
    # Dense entities: every NER span against every gazetteer match was quadratic.
    "names_dense": lambda n: _text(f"{TITLE}\n" + _repeat(DENSE_PARAGRAPH + "\n", n)),
    "names_dense_german": lambda n: _text(
        "Titel\n" + _repeat("Präsident Alexander Lukaschenko besuchte Minsk und Berlin. ", n)
    ),
    # Header line: a header-shaped first line with a huge token.
    "header_huge_token": lambda n: _text(
        f"date 2025-10-11{_repeat('9', n)} BYN\n{TITLE}\n\nТекст."
    ),
    # Other encodings and binary.
    "cp1251_text": lambda n: f"{TITLE}\n\n{_words(n)}".encode("cp1251", "replace"),
    "utf16_text": lambda n: f"{TITLE}\n\n{_words(n // 2)}".encode("utf-16"),
    "control_bytes": lambda n: bytes(random.Random(n).choices(b"\x01\x02\x1b a", k=n)),
    "random_bytes": lambda n: random.Random(n).randbytes(n),
}


def ingest_and_enrich(data: bytes, settings: Settings, stores: EnrichStores) -> EnrichedDocument:
    """One raw file through the two stages as the workers run them (``newsflow.local`` does the
    same from a path); raises ``PermanentError`` for a file designed to be dead-lettered."""
    raw = raw_file_message(data, len(data), filename="hostile.txt", source="cli", origin_path=None)
    return enrich_document(ingest_raw(raw, data, settings), stores, settings)


def problems(doc: EnrichedDocument) -> list[str]:
    """What is wrong with an enriched document, if anything: it must survive the JSON trip to
    the index stage unchanged, and every mention must index ``doc.text`` exactly."""
    found: list[str] = []
    if EnrichedDocument.model_validate_json(doc.model_dump_json()) != doc:
        found.append("changed on its way through JSON")
    text = doc.text
    for mention in [*doc.money, *doc.entities]:
        if not 0 <= mention.start < mention.end <= len(text):
            found.append(f"{mention.text!r} at {mention.start}:{mention.end} is outside the text")
        elif text[mention.start : mention.end] != mention.text:
            found.append(f"{mention.text!r} at {mention.start}:{mention.end} is not the text there")
    return found
