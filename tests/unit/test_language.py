"""Language on short lines and on mixed documents: what the letters say, not the paragraphs."""

from __future__ import annotations

import time

import pytest

from services.enrich.language import (
    FULL_MODEL_LANGUAGES,
    MAX_PIECE_CHARS,
    detect_language,
    language_profile,
    pieces,
)

LANGS = ("ru", "be", "uk", "de", "en", "pl", "kk")


ALL_FULL = frozenset(LANGS)


def detect(text: str, full_models: frozenset[str] = ALL_FULL) -> str:
    guess = detect_language(
        text, LANGS, min_confidence=0.5, min_letters=12, full_models=full_models
    )
    return guess.language


SHORT_LINES = [
    ("ru", "Идёт снег."),
    ("ru", "Пора спать."),
    ("ru", "Кто виноват?"),
    ("be", "Ідзе снег."),
    ("uk", "Іде сніг."),
    ("de", "Es regnet."),
    ("en", "It rains."),
]


@pytest.mark.parametrize(("expected", "line"), SHORT_LINES)
def test_a_short_line_lingua_is_sure_of_gets_its_language(expected: str, line: str) -> None:
    """Fewer letters than ``min_letters`` used to mean ``und`` whatever lingua said; a line of a
    few words that lingua scores above the threshold is labelled (with every language's full
    models, as NEWSFLOW_LANGUAGE_FULL_MODELS=ru,be,uk,de,en,pl,kk asks)."""
    assert detect(line, ALL_FULL) == expected


@pytest.mark.parametrize(("expected", "line"), SHORT_LINES[:-2])
def test_the_default_full_models_keep_short_east_slavic_lines(expected: str, line: str) -> None:
    """Russian, Belarusian and Ukrainian keep all of lingua's models by default: two words of
    them are told apart as before."""
    assert detect(line, FULL_MODEL_LANGUAGES) == expected


def test_a_language_on_trigrams_only_loses_only_the_shortest_lines() -> None:
    """German and English are told apart on trigrams by default: «Es regnet.» still is German,
    but lingua is no longer sure of «It rains.», which stays ``und`` rather than guessed; a line
    of a few more words is English again."""
    assert detect("Es regnet.", FULL_MODEL_LANGUAGES) == "de"
    assert detect("It rains.", FULL_MODEL_LANGUAGES) == "und"
    assert detect("It rains today in Minsk.", FULL_MODEL_LANGUAGES) == "en"


@pytest.mark.parametrize(
    ("expected", "line"),
    [
        ("pl", "Pada deszcz nad Mińskiem od rana."),
        ("pl", "Bank centralny obniżył stopę procentową."),
        ("kk", "Ұлттық банк базалық мөлшерлемені төмендетті."),
        ("ru", "Национальный банк снизил ставку рефинансирования."),
        ("uk", "Національний банк знизив облікову ставку."),
        ("be", "Нацыянальны банк знізіў стаўку рэфінансавання."),
        ("de", "Die Nationalbank senkte den Leitzins."),
        ("en", "The National Bank cut its refinancing rate."),
    ],
)
def test_the_two_tiers_recognise_every_configured_language(expected: str, line: str) -> None:
    """By default Polish and Kazakh, like German and English, are recognised on trigrams, and
    the East Slavic languages by the full models: a sentence of each lands where it belongs."""
    assert detect(line, FULL_MODEL_LANGUAGES) == expected


@pytest.mark.parametrize("line", ["Нет и нет.", "Вот и он."])
def test_a_short_line_is_judged_among_the_languages_that_can_write_it(line: str) -> None:
    """lingua puts these below 0.5 for Russian, with part of the rest on Kazakh (no Kazakh
    letter here) and Belarusian (which has no «и»). Without the impossible languages Russian
    is clear."""
    guess = detect_language(line, LANGS, min_confidence=0.5, min_letters=12)
    assert guess.language == "ru"
    assert guess.confidence >= 0.5


def test_the_threshold_still_applies_to_a_short_line() -> None:
    """«Вот так.» is Russian, Ukrainian or Belarusian as far as its letters go, and lingua
    gives Russian 0.42 of it: below the threshold, ``und``."""
    guess = detect_language("Вот так.", LANGS, min_confidence=0.5, min_letters=12)
    assert guess.language == "und"
    assert 0.0 < guess.confidence < 0.5


@pytest.mark.parametrize("line", ["Минск 2025", "Berlin", "Фото", "  2025 !!! "])
def test_a_lone_word_stays_undetermined(line: str) -> None:
    """One word is a name or a label spelled alike in several languages: no label."""
    assert detect(line) == "und"


def test_a_short_line_in_two_alphabets_stays_undetermined() -> None:
    """A line in two alphabets («и» is not Belarusian, «і» not Russian) is ``und`` whatever
    lingua's confidence: no language can write all of it."""
    guess = detect_language("Минск Мінск", LANGS, min_confidence=0.5, min_letters=12)
    assert guess.language == "und"
    assert guess.confidence > 0.5


TITLE = "Глава МВФ оценила перспективы белорусской экономики"
RUSSIAN = [
    "Директор-распорядитель Международного валютного фонда выступила в среду на "
    "пресс-конференции в Вашингтоне и ответила на вопросы журналистов о странах региона.",
    "По словам экономистов, опрошенных нашим изданием, оценка фонда в целом совпадает с "
    "прогнозами Национального банка, хотя расходится в деталях.",
    "Фонд также рекомендовал властям сократить объём директивного кредитования и постепенно "
    "перевести государственные предприятия на рыночные условия финансирования.",
    "Следующая миссия фонда прибудет в Минск осенью; её итоги будут опубликованы в "
    "заключительном заявлении.",
]
QUOTE = (
    "We see a recovery that is stronger than we expected at the start of the year, but the "
    "risks remain tilted to the downside. Inflation has come down from its peak, yet it is "
    "still well above the target, and the central bank should not ease its policy too early. "
    "Fiscal buffers are thin, public debt has risen, and state-owned enterprises continue to "
    "rely on directed lending, which crowds out private investment. Structural reforms are the "
    "only way to lift growth in the medium term, and we stand ready to support the authorities."
)


def letters(text: str) -> int:
    return sum(map(str.isalpha, text))


def shares(paragraphs: list[str]) -> tuple[str, dict[str, float]]:
    profile = language_profile(paragraphs, LANGS, min_confidence=0.5, min_letters=12)
    return profile.document.language, {share.code: share.share for share in profile.shares}


def test_the_test_article_is_mostly_russian_by_letters() -> None:
    """The cases below mean something only if Russian holds most letters, but not by far."""
    russian = letters(TITLE) + sum(letters(p) for p in RUSSIAN)
    assert 0.5 < russian / (russian + letters(QUOTE)) < 0.65


@pytest.mark.parametrize(
    "paragraphs",
    [
        pytest.param([TITLE, QUOTE, *RUSSIAN], id="quote first, its own paragraph"),
        pytest.param([TITLE, RUSSIAN[0], QUOTE, *RUSSIAN[1:]], id="quote its own paragraph"),
        pytest.param([TITLE, " ".join([QUOTE, *RUSSIAN])], id="quote opens the one paragraph"),
        pytest.param(
            [TITLE, " ".join([RUSSIAN[0], "Она сказала:", QUOTE, *RUSSIAN[1:]])],
            id="quote inside the one paragraph",
        ),
    ],
)
def test_a_russian_article_with_a_long_english_quote_is_russian(paragraphs: list[str]) -> None:
    """The quote has fewer letters than the Russian text: however the lines fall, the document
    is Russian and each share is near its share of the letters. A paragraph used to be judged
    by its first 500 characters, so a quote opening one long paragraph made it all English."""
    russian = letters(TITLE) + sum(letters(p) for p in RUSSIAN)
    expected_en = letters(QUOTE) / (russian + letters(QUOTE))
    language, by_code = shares(paragraphs)
    assert language == "ru"
    assert by_code["en"] == pytest.approx(expected_en, abs=0.05)


def test_shares_count_letters_not_characters() -> None:
    """A paragraph of figures is mostly digits and spaces; its few letters weigh only what
    they are. By characters this English rate table is more than half of the text."""
    russian = "Национальный банк опубликовал официальные курсы валют на завтра, среду."
    table = (
        "Rates: USD 3.2456 / 3.2511, EUR 3.5142 / 3.5188, RUB 100 3.5401 / 3.5467, "
        "PLN 10 8.1123 / 8.1190 (official, per unit)"
    )
    assert len(table) > len(russian)
    assert letters(table) >= 12
    language, by_code = shares([russian, table])
    assert language == "ru"
    assert by_code["ru"] == pytest.approx(letters(russian) / letters(russian + table), abs=0.01)


def test_pieces_cover_the_paragraph_and_cut_at_sentences() -> None:
    """Pieces are the paragraph in order, none longer than the limit, cut after a full stop."""
    paragraph = " ".join(RUSSIAN * 4)
    cut = list(pieces(paragraph))
    assert "".join(cut) == paragraph
    assert len(cut) > 1
    assert all(len(piece) <= MAX_PIECE_CHARS for piece in cut)
    assert all(piece.endswith(".") for piece in cut[:-1])


def test_a_short_latin_run_stays_in_its_russian_piece() -> None:
    """A name or a currency code is not a quote: the sentence is not cut around it."""
    sentence = "Компания Belarus Potash Company продала калий за USD по новой цене."
    assert list(pieces(sentence)) == [sentence]


@pytest.mark.timeout(60)
def test_pieces_of_a_long_mixed_run_take_linear_time() -> None:
    """Latin words between Cyrillic ones, a megabyte of them, must not make the run regex
    backtrack (it is possessive); the pieces stay bounded."""
    paragraph = "слово word, " * 100_000
    began = time.perf_counter()
    cut = list(pieces(paragraph))
    assert time.perf_counter() - began < 5
    assert "".join(cut) == paragraph
    assert max(map(len, cut)) <= MAX_PIECE_CHARS
