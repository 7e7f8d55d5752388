"""The human forms of command output: the facts of the --json records, laid out for reading."""

from __future__ import annotations

from typing import Any

from newsflow.render import (
    BODY_PREVIEW_CHARS,
    MAX_LISTED,
    WatchProgress,
    enrich_block,
    finished_line,
    reindex_report,
)
from services.ingest.watch import Finished, ScanReport


def _record(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "file": "in/a.txt",
        "id": "abc123",
        "title": "Title [with brackets]",
        "body": "word " * 200,
        "published": None,
        "header_rate": None,
        "language": "be",
        "language_confidence": 0.91,
        "languages": [{"code": "be", "share": 0.75}, {"code": "ru", "share": 0.25}],
        "duplicate_of": None,
        "near_duplicate_of": None,
        "similarity": None,
        "cluster_id": "abc123",
        "money": [],
        "entities": [],
        "enrichers": {},
        "warnings": [],
        "repairs": [],
        "encoding": "cp1251",
        "error": None,
        "error_detail": None,
    }
    record.update(changes)
    return record


def test_a_block_shows_languages_by_paragraph_and_cuts_the_body_at_a_word() -> None:
    block = enrich_block(_record())
    assert "  title       Title [with brackets]\n" in block
    assert "  language    be (0.91); by paragraph: be 75%, ru 25%\n" in block
    assert "  header      none\n" in block
    body = block.splitlines()[-1].removeprefix("  body        ")
    assert body.endswith("word …")
    assert len(body) <= BODY_PREVIEW_CHARS + 2


def test_a_near_duplicate_names_its_first_member_and_similarity() -> None:
    block = enrich_block(_record(near_duplicate_of="f00d", similarity=0.8234))
    assert "  outcome     near-duplicate of f00d (0.82)\n" in block


def test_entities_are_grouped_by_id_and_named_by_their_usual_form() -> None:
    """«Лазаревич» once and «Надежда Лазаревич» twice are one person, named in full; a long
    list is cut with a count of the rest."""
    person = {"type": "PER", "id": "per:x", "text": "", "start": 0, "end": 1}
    places = [
        {"type": "LOC", "id": f"geonames:{n}", "normal": f"Town {n}", "text": "", "start": 0,
         "end": 1}
        for n in range(MAX_LISTED + 2)
    ]  # fmt: skip
    entities = [
        {**person, "normal": "Лазаревич"},
        {**person, "normal": "Надежда Лазаревич"},
        {**person, "normal": "Надежда Лазаревич"},
        *places,
    ]
    lines = enrich_block(_record(entities=entities)).splitlines()
    at = lines.index(f"  entities    {len(entities)} mentions")
    assert lines[at + 1] == "              PER Надежда Лазаревич (per:x) ×3"
    assert lines[at + MAX_LISTED + 1] == "              and 3 more"


def test_money_reads_as_amounts_with_their_text() -> None:
    money = [
        {"text": "1,5 млрд долларов", "start": 0, "end": 1, "amount": 1.5e9, "currency": "USD",
         "bound": "exact", "per_currency": None},
        {"text": "4930 рублей за доллар", "start": 0, "end": 1, "amount": 4930.0,
         "currency": "BYR", "bound": "exact", "per_currency": "USD"},
        {"text": "от 2,5 млн", "start": 0, "end": 1, "amount": 2.5, "currency": "EUR",
         "bound": "min", "per_currency": None},
    ]  # fmt: skip
    block = enrich_block(_record(money=money))
    assert "  money       3 mentions\n" in block
    assert "1 500 000 000 USD «1,5 млрд долларов»" in block
    assert "4 930 BYR per USD «4930 рублей за доллар»" in block
    assert "2.5 EUR (min) «от 2,5 млн»" in block


def test_the_country_focus_and_quoted_rates_are_shown() -> None:
    """The header's own rate is on the header line; the rates list is what the text quotes."""
    rates = [
        {"base": None, "quote": "BYN", "value": 3.69, "text": "3.69 BYN", "start": None,
         "end": None},
        {"base": "USD", "quote": "BYN", "value": 3.2, "text": "3,2 рубля за доллар", "start": 5,
         "end": 24},
    ]  # fmt: skip
    block = enrich_block(
        _record(
            country=None,
            countries=[{"code": "BY", "share": 0.5}, {"code": "RU", "share": 0.5}],
            rates=rates,
            header_rate={"value": 3.69, "currency": "BYN"},
        )
    )
    assert "  country     undecided (BY 50%, RU 50%)\n" in block
    assert "  header      rate 3.69 BYN\n" in block
    lines = block.splitlines()
    at = lines.index("  rates       1 mention")
    assert lines[at + 1] == "              1 USD = 3.2 BYN «3,2 рубля за доллар»"
    plain = enrich_block(_record(country="BY", countries=[{"code": "BY", "share": 1.0}]))
    assert "  country     BY (BY 100%)\n" in plain
    assert "rates" not in plain


def test_a_rejected_file_says_why_and_nothing_else() -> None:
    block = enrich_block(_record(error="empty", error_detail="nothing left after cleaning"))
    assert block.splitlines() == [
        "in/a.txt",
        "  rejected    dead letter: empty",
        "  why         nothing left after cleaning",
    ]


def test_reindex_says_what_it_found_sent_and_how_it_ended() -> None:
    nothing = {"documents": 5, "scanned": 5, "sent": 0, "stale_by_enricher": {}}
    assert reindex_report(nothing, stale_only=True) == [
        "5 documents in the index, none enriched by an older version: sent none."
    ]
    stale = {"documents": 5, "scanned": 5, "sent": 2, "stale_by_enricher": {"money": 2}}
    lines = reindex_report(stale, stale_only=True)
    assert lines[0] == (
        "5 documents in the index, 2 enriched by an older version (stale enrichers: money 2): "
        "sent 2 back to enrich."
    )
    assert "--wait" in lines[1]
    waited = {**stale, "outcomes": {"indexed": 1, "dead_letter": 1}}
    assert reindex_report(waited, stale_only=False)[-1] == (
        "Outcomes: 1 re-indexed, 1 dead-lettered (newsflow dlq list)."
    )


def _report(finished: list[Finished], pending: int = 0, waiting: int = 0) -> ScanReport:
    return ScanReport(pending=pending, waiting=waiting, finished=finished)


GOOD = Finished("a.txt", "done", "r" * 32, "indexed", "d" * 16, "done/a.txt")
NEAR = Finished("b.txt", "done", "s" * 32, "near-duplicate of abc (0.82)", "e" * 16, "done/b-1.txt")
BAD = Finished("c.bin", "failed", "t" * 32, "dead letter: binary", None, "failed/c.bin")
LINK = Finished("l.txt", "failed", "u" * 32, "refused: symlink", None, "failed/l.txt")


def test_the_watcher_prints_a_line_per_finished_file() -> None:
    assert finished_line(GOOD) == f"done    a.txt  indexed as {'d' * 12}  [{'r' * 12}]"
    assert finished_line(NEAR) == (
        f"done    b.txt -> done/b-1.txt  near-duplicate of abc (0.82)  [{'s' * 12}]"
    )
    assert finished_line(BAD) == f"failed  c.bin  dead letter: binary  [{'t' * 12}]"


def test_the_watcher_summarises_each_period_and_is_quiet_when_idle() -> None:
    """A summary per period in which something happened or still waits; none when idle."""
    now = [0.0]
    printed: list[str] = []
    logged: list[dict[str, float]] = []
    progress = WatchProgress(
        every=60.0, print_line=printed.append, log_summary=logged.append, clock=lambda: now[0]
    )
    progress(_report([GOOD, BAD], pending=2))
    now[0] = 30.0
    progress(_report([LINK], pending=1, waiting=1))
    assert printed == [finished_line(GOOD), finished_line(BAD), finished_line(LINK)]
    assert logged == []
    now[0] = 61.0
    progress(_report([NEAR]))
    assert printed[-1] == (
        "in the last 61 s: 2 done, 1 failed, 1 refused; 0 waiting for an outcome, "
        "0 still being written"
    )
    assert logged == [
        {"done": 2, "failed": 1, "refused": 1, "pending": 0, "settling": 0, "window_s": 61.0}
    ]
    for second in (100.0, 130.0, 200.0):  # idle: nothing finished, nothing waiting
        now[0] = second
        progress(_report([]))
    assert len(printed) == 5
    assert len(logged) == 1
    now[0] = 300.0
    progress(_report([], pending=1))
    assert logged[-1]["pending"] == 1
