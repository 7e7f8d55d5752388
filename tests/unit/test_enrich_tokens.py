"""Our tokeniser must give razdel's tokens exactly: the taggers were trained on them."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from razdel import tokenize as razdel_tokenize

from services.enrich.entities.tokens import WordToken, word_tokens

SEEDS = sorted((Path(__file__).parents[2] / "seeds").glob("*.txt"))
# Every character class razdel's rules look at: Cyrillic and Latin letters (either case), digits,
# each dash, "_", ".", ",", "/", "\\", sentence endings, quotes, brackets, smiley parts, letters
# of other scripts (its OTHER atoms), whitespace, and the one word with an exception (Yahoo!).
ALPHABET = [
    *"абвгдеёжийяАБЁЖЯabcxyzABCXYZ0123456789",
    *" \n\t\u00a0.,;:!?…-‑–—−_/\\()[]{}«»\"'„“”‘’*=$%&#@№^~`|<>+",
    *"ΔσßйЇ中ʼ",
    "yahoo", "Yahoo", ":-)", ";)", "=(((", "...", "--", "**",
]  # fmt: skip


def razdel_tokens(text: str) -> list[WordToken]:
    return [WordToken(t.start, t.stop, t.text) for t in razdel_tokenize(text)]


@pytest.mark.parametrize("seed", SEEDS, ids=lambda path: path.name[:3])
def test_seed_tokens_equal_razdels(seed: Path) -> None:
    text = seed.read_text(encoding="utf-8")
    assert word_tokens(text) == razdel_tokens(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "из-за Санкт-Петербурга",
        "из- за",
        "1,5 млрд и 1.844.036.360,12 руб.",
        "1/2 и 3\\4 и a/b",
        "snake_case и _x_",
        "Что?! Да... Нет!!! --- ***",
        "Улыбка :-) и ;) и =(((",
        "Yahoo! yahoo!",
        "ΔP и Δσ и mβж",
        "«Белавиа»—лидер, (ПВТ)",
        "$2.5bn, €1,2 Mrd., Br390",
    ],
)
def test_tricky_strings_equal_razdels(text: str) -> None:
    assert word_tokens(text) == razdel_tokens(text)


def test_random_strings_equal_razdels() -> None:
    """20 000 random strings over every character class the rules use (fixed seed)."""
    rng = random.Random(20261123)
    for _ in range(20_000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 24)))
        assert word_tokens(text) == razdel_tokens(text), repr(text)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("unit", ["!", "-", ".", "?!", "*"])
def test_a_long_run_of_punctuation_is_tokenised_in_linear_time(unit: str) -> None:
    """Each atom of a run that joins into one token («!!!», «---») was matched against the
    smileys together with the whole token so far: quadratic (40 000 took 1.7 s; this is 400 000).
    The tokens stay razdel's."""
    short = unit * (2000 // len(unit))
    assert word_tokens(short) == razdel_tokens(short)
    text = unit * (400_000 // len(unit))
    tokens = word_tokens(text)
    assert "".join(token.text for token in tokens) == text
