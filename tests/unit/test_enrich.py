"""Enrichers: language on long and short text, and the exact-duplicate claim."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import fakeredis
import pytest

from services.enrich.dedupe import MemoryClaims, RedisClaims, SqliteClaims, duplicate_of
from services.enrich.language import detect_language, language_profile

LANGS = ("ru", "be", "uk", "de", "en", "pl", "kk")

SENTENCES = {
    "ru": "Премьер-министры России и Беларуси провели в Москве короткие переговоры.",
    "be": "Мінскі гарвыканкам прапанаваў стварыць кластар тэхнапаркаў рэгіёнаў Беларусі і Расіі.",
    "uk": "Прем'єр-міністри двох країн провели у Києві короткі переговори.",
    "de": "Die Internationale Industriemesse findet zum ersten Mal in Minsk statt.",
    "en": "The international industrial exhibition takes place in Minsk for the first time.",
    "pl": "Międzynarodowe targi przemysłowe odbywają się po raz pierwszy w Mińsku tej jesieni.",
}


@pytest.mark.parametrize(("expected", "text"), SENTENCES.items())
def test_language_of_a_news_sentence(expected: str, text: str) -> None:
    """One sentence of news is enough to tell the configured languages apart."""
    guess = detect_language(text, LANGS, min_confidence=0.5, min_letters=12)
    assert guess.language == expected
    assert 0.5 <= guess.confidence <= 1.0


HEADLINES = [
    ("ru", "Лукашенко встретился с Путиным"),
    ("ru", "Цены на бензин выросли"),
    ("ru", "Новые проекты на ИННОПРОМ"),
    ("ru", "В Минске открылся новый технопарк"),
    ("be", "Лукашэнка сустрэўся з Пуціным"),
    ("be", "Цэны на бензін выраслі"),
    ("be", "Новыя праекты на выставе"),
    ("be", "У Мінску адкрыўся новы тэхнапарк"),
    ("uk", "Зеленський зустрівся з Макроном"),
    ("uk", "Нові проєкти на виставці"),
    ("uk", "Ціни на пальне знову зросли"),
    ("uk", "У Києві відкрився новий технопарк"),
]


@pytest.mark.parametrize(("expected", "headline"), HEADLINES)
def test_language_of_a_short_headline(expected: str, headline: str) -> None:
    """Headlines of 3-6 words are common documents; ru, be and uk must not be confused."""
    guess = detect_language(headline, LANGS, min_confidence=0.5, min_letters=12)
    assert guess.language == expected


def test_ukrainian_without_kazakh_letters_is_not_kazakh() -> None:
    """lingua calls some Ukrainian sentences Kazakh with full confidence; we re-decide those."""
    sentence = "За час дощів Надія перетворилась на величезну ріку."
    assert detect_language(sentence, LANGS, min_confidence=0.5, min_letters=12).language == "uk"
    kazakh = "Қазақстан Республикасының Президенті жаңа заңға қол қойды."
    assert detect_language(kazakh, LANGS, min_confidence=0.5, min_letters=12).language == "kk"


def test_mixed_document_reports_each_language_share() -> None:
    """A Russian article quoting a German statement is mixed; both languages must show."""
    paragraphs = [SENTENCES["ru"] * 3, SENTENCES["de"], "Фото: БелТА"]
    profile = language_profile(paragraphs, LANGS, min_confidence=0.5, min_letters=12)
    shares = profile.shares
    assert profile.document.language == "ru"
    assert [share.code for share in shares] == ["ru", "de"]
    assert shares[0].share == pytest.approx(3 / 4, abs=0.05)
    assert sum(share.share for share in shares) == pytest.approx(1.0, abs=0.001)


def test_single_language_document_has_one_share() -> None:
    """The common case: one language, all of the text."""
    profile = language_profile(
        [SENTENCES["de"], SENTENCES["de"]], LANGS, min_confidence=0.5, min_letters=12
    )
    assert [(share.code, share.share) for share in profile.shares] == [("de", 1.0)]
    assert profile.document.language == "de"
    assert profile.document.confidence >= 0.9


def test_document_without_a_majority_language_is_judged_as_a_whole() -> None:
    """Half Russian, half German: no paragraph majority, so the whole text decides."""
    profile = language_profile(
        [SENTENCES["ru"], SENTENCES["de"]], LANGS, min_confidence=0.5, min_letters=12
    )
    assert {share.code for share in profile.shares} == {"ru", "de"}
    assert profile.document.language in {"ru", "de"}


def test_headline_only_document_gets_its_language() -> None:
    """A file with only a title line is a document; its language comes from the title."""
    profile = language_profile(
        ["Лукашэнка сустрэўся з Пуціным"], LANGS, min_confidence=0.5, min_letters=12
    )
    assert profile.document.language == "be"


def test_too_short_text_is_undetermined() -> None:
    """A label guessed from a few letters is worse than none."""
    assert (
        detect_language("Минск 2025", LANGS, min_confidence=0.5, min_letters=12).language == "und"
    )
    assert (
        detect_language("12 345 !!!", LANGS, min_confidence=0.5, min_letters=12).language == "und"
    )


def test_low_confidence_is_undetermined() -> None:
    """Below the threshold we say 'und' but still report how confident the best guess was."""
    guess = detect_language("Минск Мінск", LANGS, min_confidence=0.99, min_letters=3)
    assert guess.language == "und"
    assert 0.0 < guess.confidence < 0.99


def test_first_claim_wins_and_a_redelivery_is_not_its_own_duplicate() -> None:
    """A copy is a duplicate of the first; the first's own redelivered message is not."""
    claims = RedisClaims(fakeredis.FakeRedis())
    assert duplicate_of(claims, "doc1", "receipt-a") is None
    assert duplicate_of(claims, "doc1", "receipt-a") is None
    assert duplicate_of(claims, "doc1", "receipt-b") == "doc1"
    assert duplicate_of(claims, "doc2", "receipt-b") is None


def test_concurrent_claims_agree_on_one_winner() -> None:
    """Two workers with two copies at the same moment must not both index them."""
    for claims in (RedisClaims(fakeredis.FakeRedis()), MemoryClaims()):
        with ThreadPoolExecutor(max_workers=8) as pool:
            holders = list(pool.map(claims.claim, ["same"] * 64, [f"r{i}" for i in range(64)]))
        assert len(set(holders)) == 1


def test_a_claims_file_keeps_the_first_holder_across_runs(tmp_path: Path) -> None:
    """newsflow run keeps its claims in a file: a second run must find the first's claims."""
    path = tmp_path / "newsflow.db-claims"
    with SqliteClaims(path) as claims:
        assert claims.claim("doc-1", "r-first") == "r-first"
        assert claims.claim("doc-1", "r-first") == "r-first"
    with SqliteClaims(path) as claims:
        assert duplicate_of(claims, "doc-1", "r-second") == "doc-1"
        assert duplicate_of(claims, "doc-1", "r-first") is None
        assert duplicate_of(claims, "doc-2", "r-second") is None


def test_runs_claiming_one_file_at_once_agree_on_every_winner(tmp_path: Path) -> None:
    """Two runs started together on the same files must not both believe they were first."""
    path = tmp_path / "newsflow.db-claims"
    SqliteClaims(path).close()
    workers = 8
    barrier = threading.Barrier(workers)

    def claim_all(receipt: str) -> list[str]:
        with SqliteClaims(path) as claims:  # one connection each, as separate runs have
            barrier.wait()
            return [claims.claim(f"doc-{n}", receipt) for n in range(20)]

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(claim_all, [f"r-{n}" for n in range(workers)]))
    assert all(won == results[0] for won in results)
    assert set(results[0]) <= {f"r-{n}" for n in range(workers)}


@pytest.mark.timeout(60)
def test_a_document_of_very_many_paragraphs_is_judged_on_a_sample() -> None:
    """Each paragraph costs a lingua call (0.1-0.5 ms): a file of a million short lines took
    minutes. An evenly spread sample of them gives the shares."""
    paragraphs = [f"{SENTENCES['ru'] if i % 2 else SENTENCES['de']} ({i})" for i in range(200_000)]
    profile = language_profile(paragraphs, LANGS, min_confidence=0.5, min_letters=12)
    shares = {share.code: share.share for share in profile.shares}
    assert set(shares) == {"ru", "de"}
    assert shares["ru"] == pytest.approx(0.5, abs=0.05)
