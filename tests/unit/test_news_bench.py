"""The real-news benchmark's labels are sound, and its scorer counts right.

The labels are the yardstick every money and entity change is measured against, so a label that
points at the wrong characters, a file that went missing or a half that drifted would silently
move every figure.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bench.news_accuracy import offset_map, published_date, published_precision
from bench.news_gold import (
    EVENTS,
    LABELS,
    LANGUAGES,
    NEWS,
    Money,
    Span,
    build_labels,
    load_articles,
    occurrences,
    read_labels,
    score_entities,
    score_money_distinct,
    score_money_mentions,
    split_of,
)
from bench.story_accuracy import KINDS, load_events, load_pairs, received_at
from bench.story_tradeoff import at_threshold
from services.enrich.stories import StoryParams

CURRENCIES = {
    "BYN",
    "BYR",
    "RUB",
    "USD",
    "EUR",
    "UAH",
    "CNY",
    "PLN",
    "KZT",
    "GBP",
    "CHF",
    "SGD",
    "SEK",
}
MIN_PER_LANGUAGE = 18
MIN_ARTICLES = 110


@pytest.fixture(scope="module")
def labels() -> list[dict]:
    return read_labels()


def test_labels_are_what_the_hand_written_sources_build(labels: list[dict]) -> None:
    """labels.jsonl is generated from gold/*.toml; an edit to one without the other is caught."""
    assert build_labels() == labels


def test_every_label_points_at_its_text(labels: list[dict]) -> None:
    for record in labels:
        text = (NEWS / record["file"]).read_text(encoding="utf-8")
        for item in [*record["money"], *record["entities"], *record["rates"]]:
            assert text[item["start"] : item["end"]] == item["text"], (record["file"], item)


def test_every_article_has_a_source_a_date_a_split_and_a_known_language(
    labels: list[dict],
) -> None:
    files = [r["file"] for r in labels]
    assert len(files) == len(set(files))
    for record in labels:
        assert (NEWS / record["file"]).is_file()
        assert record["url"].startswith(("http://", "https://"))
        assert published_date(record["published"]) is not None
        assert record["published_basis"]
        assert record["lang"] in LANGUAGES
        assert record["file"].startswith(record["lang"] + "/")
        assert record["split"] == split_of(record["file"])


def test_every_article_file_is_labelled() -> None:
    """An article added without labels would be scored as holding nothing."""
    on_disk = {f"{p.parent.name}/{p.name}" for p in NEWS.glob("*/*.txt")}
    assert on_disk == {r["file"] for r in read_labels()}


def test_each_language_has_articles_in_both_halves(labels: list[dict]) -> None:
    assert len(labels) >= MIN_ARTICLES
    counts = Counter((r["lang"], r["split"]) for r in labels)
    for lang in LANGUAGES:
        total = counts[(lang, "dev")] + counts[(lang, "test")]
        assert total >= MIN_PER_LANGUAGE, lang
        assert abs(counts[(lang, "dev")] - counts[(lang, "test")]) <= 1, lang


def test_money_and_entity_labels_are_well_formed(labels: list[dict]) -> None:
    for record in labels:
        for money in record["money"]:
            assert money["currency"] in CURRENCIES, money
            assert money["amount"] > 0, money
            # BYN exists from the 2016-07-01 redenomination, announced in November 2015: an
            # article older than that can only mean BYR (newer ones may name both).
            if money["currency"] == "BYN":
                assert record["published"] >= "2015-11", (record["file"], money)
        for entity in record["entities"]:
            assert entity["type"] in ("PER", "ORG", "LOC")
            if entity["type"] == "PER":
                assert entity["id"].startswith("per:"), entity
        for rate in record["rates"]:
            assert rate["base"] in CURRENCIES
            assert rate["quote"] in CURRENCIES
            assert rate["value"] > 0


def test_events_name_labelled_articles_and_some_cross_languages() -> None:
    files = {r["file"] for r in read_labels()}
    events = [json.loads(line) for line in EVENTS.read_text(encoding="utf-8").splitlines()]
    for event in events:
        assert len(event["files"]) >= 2, event["event"]
        assert set(event["files"]) <= files, event["event"]
    crossing = [e for e in events if len({f.split("/")[0] for f in e["files"]}) > 1]
    assert len(crossing) >= 6


def test_labelled_pairs_agree_with_the_events_and_cover_every_kind() -> None:
    """The story benchmark's hand-labelled pairs: at least 40, every kind, template pairs in both
    halves (the false joins the issue counts apart), none contradicting ``events.jsonl``."""
    articles = load_articles()
    pairs = load_pairs(articles, load_events())
    assert len(pairs) >= 40
    assert {pair.kind for pair in pairs.values()} == set(KINDS)
    halves = {split_of(next(iter(key))) for key, pair in pairs.items() if pair.kind == "template"}
    assert halves == {"dev", "test"}


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ('{"a": "ru/ru001.txt", "b": "ru/ru002.txt", "kind": "template", "why": "x"}', "halves"),
        ('{"a": "ru/ru003.txt", "b": "ru/ru005.txt", "kind": "related", "why": "x"}', "disagrees"),
        ('{"a": "ru/ru001.txt", "b": "ru/ru007.txt", "kind": "similar", "why": "x"}', "kind"),
    ],
)
def test_a_pair_that_cannot_be_scored_is_refused(tmp_path: Path, line: str, error: str) -> None:
    """Halves are streamed apart, so a pair across them would count as never joined; a kind
    that contradicts the events would count one pair twice."""
    path = tmp_path / "pairs.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=error):
        load_pairs(load_articles(), load_events(), path)


def test_split_is_fixed_by_the_file_number() -> None:
    assert split_of("ru/ru001.txt") == "dev"
    assert split_of("be/be012.txt") == "test"


def test_occurrences_are_whole_words() -> None:
    text = "НББ и НББ-2, но не НББР; $1 и $1-billion"
    assert occurrences(text, "НББ") == [0, 6]
    assert occurrences(text, "$1") == [25, 30]


def test_money_scores_on_a_hand_example() -> None:
    """Gold: 4930 BYR twice and 1 USD; predicted: 4930 BYR once (right span), 4930 RUB (wrong
    currency), 1 USD at a span that overlaps nothing gold."""
    gold = [Money(0, 9, 4930, "BYR"), Money(20, 29, 4930, "BYR"), Money(40, 42, 1, "USD")]
    predicted = [Money(0, 9, 4930.0, "BYR"), Money(20, 29, 4930, "RUB"), Money(50, 52, 1, "USD")]
    mentions = score_money_mentions(predicted, gold)
    assert (mentions.true_positive, mentions.predicted, mentions.gold) == (1, 3, 3)
    assert mentions.precision == pytest.approx(1 / 3)
    distinct = score_money_distinct(predicted, gold)
    # distinct: predicted {BYR 4930, RUB 4930, USD 1}, gold {BYR 4930, USD 1}
    assert (distinct.true_positive, distinct.predicted, distinct.gold) == (2, 3, 2)
    assert distinct.recall == 1.0
    assert distinct.f1 == pytest.approx(2 * (2 / 3) * 1 / (2 / 3 + 1))


def test_entity_scores_on_a_hand_example() -> None:
    """Overlap with the same type counts once per gold entity; a wrong type is a miss and a
    false positive; the id agreement is over matched gold entities that have an id."""
    gold = [Span(0, 10, "ORG", "org:nb"), Span(20, 28, "LOC", "BY"), Span(30, 35, "PER", "per:x")]
    predicted = [
        Span(0, 7, "ORG", "org:nb"),  # overlaps the ORG: right, same id
        Span(2, 9, "ORG", "org:other"),  # a second overlap of the same ORG: a false positive
        Span(20, 28, "ORG", "org:by"),  # the LOC's span with the wrong type
        Span(30, 35, "PER", "per:y"),  # right span and type, another id
    ]
    scored = score_entities(predicted, gold)
    assert scored.by_type["ORG"].true_positive == 1
    assert scored.by_type["ORG"].predicted == 3
    assert scored.by_type["LOC"].recall == 0.0
    assert scored.by_type["PER"].f1 == 1.0
    assert (scored.all.true_positive, scored.all.predicted, scored.all.gold) == (2, 4, 3)
    assert (scored.id_matched, scored.id_agreed) == (2, 1)


def test_offsets_map_back_through_a_changed_text() -> None:
    """newsflow's offsets are into the parsed text; the scorer maps them onto the file's."""
    source = "Title\n\nTitle line that goes on.\n\nMinsk"
    target = "Title line that goes on.\n\nMinsk"
    span = offset_map(source, target)
    assert span(source.index("Minsk"), len(source)) == (target.index("Minsk"), len(target))


def test_labels_file_exists() -> None:
    assert LABELS.is_file()


@pytest.mark.parametrize(
    ("label", "first", "precision", "received"),
    [
        ("2011-05-23", date(2011, 5, 23), "day", datetime(2011, 5, 23, 12, tzinfo=UTC)),
        ("2011-10", date(2011, 10, 1), "month", datetime(2011, 10, 31, 12, tzinfo=UTC)),
        ("2020-12", date(2020, 12, 1), "month", datetime(2020, 12, 31, 12, tzinfo=UTC)),
        ("2020", date(2020, 1, 1), "year", datetime(2020, 12, 31, 12, tzinfo=UTC)),
    ],
)
def test_a_labelled_date_keeps_its_precision_and_arrives_at_its_periods_end(
    label: str, first: date, precision: str, received: datetime
) -> None:
    """newsflow is told only what the label knows (no made-up day), and the simulated feed
    cannot bring an article before the last day it may have been published on."""
    article = next(a for a in load_articles() if a.published)
    dated = dataclasses.replace(article, published=label)
    assert (published_date(label), published_precision(label)) == (first, precision)
    assert received_at(dated) == received


def test_the_tradeoff_replays_at_each_threshold_merging_at_no_less() -> None:
    params = StoryParams(threshold=0.25, merge_threshold=0.3, window_days=7)
    low = at_threshold(params, 0.2)
    high = at_threshold(params, 0.5)
    assert (low.threshold, low.merge_threshold, low.window_days) == (0.2, 0.3, 7)
    assert (high.threshold, high.merge_threshold, high.window_days) == (0.5, 0.5, 7)
