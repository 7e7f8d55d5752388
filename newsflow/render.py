"""What the commands print for a person: a readable block per enriched file, a sentence for what
``reindex`` did, a line per file the watcher finished and a periodic summary.

Built from the same records the ``--json`` forms print (and the watcher's scan reports), so the
two never disagree on a fact; only the layout differs. Nothing here reads settings, Redis or the
index.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from services.ingest.watch import Finished, ScanReport, WatchSummary

# The body is a preview: the block is for reading at a terminal, --json carries it whole.
BODY_PREVIEW_CHARS = 240
# Entities and money listed per block, most frequent first; the rest are counted.
MAX_LISTED = 8
_LABEL_WIDTH = 11


def _line(label: str, text: str) -> str:
    return f"  {label:<{_LABEL_WIDTH}} {text}"


def _shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] or flat[:limit]
    return cut + " …"


def _amount(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ") if value == int(value) else f"{value:g}"


def _outcome(record: Mapping[str, Any]) -> str:
    if record.get("duplicate_of"):
        return f"duplicate of {record['duplicate_of']} (an earlier file of this run)"
    if record.get("near_duplicate_of"):
        similarity = record.get("similarity")
        shown = f" ({similarity:.2f})" if isinstance(similarity, float) else ""
        return f"near-duplicate of {record['near_duplicate_of']}{shown}"
    return "no duplicate in this run"


def _languages(record: Mapping[str, Any]) -> str:
    text = f"{record['language']} ({record['language_confidence']:.2f})"
    shares = record.get("languages") or []
    if len(shares) > 1:
        parts = ", ".join(f"{share['code']} {share['share']:.0%}" for share in shares)
        text += f"; by paragraph: {parts}"
    return text


def _country(record: Mapping[str, Any]) -> str:
    """``BY (BY 69%, RU 31%)``: the country the document is about and each one's share of the
    evidence; ``none`` without evidence, ``undecided`` on a tie."""
    shares = record.get("countries") or []
    if not shares:
        return "none"
    parts = ", ".join(f"{share['code']} {share['share']:.0%}" for share in shares)
    return f"{record.get('country') or 'undecided'} ({parts})"


def _rates(rates: Sequence[Mapping[str, Any]]) -> list[str]:
    """The rates the text quotes: ``1 USD = 3.2 BYN «3,2 рубля за доллар»``. The header's own
    rate (no place in the text) is on the header line already."""
    listed = []
    for rate in rates:
        if rate.get("start") is None:
            continue
        base = f"1 {rate['base']} = " if rate.get("base") else ""
        listed.append(f"{base}{rate['value']:g} {rate['quote']} «{_shorten(rate['text'], 40)}»")
    return listed


def _entities(entities: Sequence[Mapping[str, Any]]) -> list[str]:
    """One entry per distinct entity (by id), the most mentioned first: «PER Надежда Лазаревич
    (per:ndsd-lsrvc) ×3». Its most used normal form names it, the longer on a tie (a full name
    over a bare surname)."""
    counts: Counter[tuple[str, str]] = Counter()
    forms: dict[tuple[str, str], Counter[str]] = {}
    for entity in entities:
        key = (entity["type"], entity["id"])
        counts[key] += 1
        forms.setdefault(key, Counter())[entity["normal"]] += 1
    listed = []
    for key, count in counts.most_common(MAX_LISTED):
        name = max(forms[key].items(), key=lambda item: (item[1], len(item[0])))[0]
        times = f" ×{count}" if count > 1 else ""
        listed.append(f"{key[0]} {name} ({key[1]}){times}")
    if len(counts) > MAX_LISTED:
        listed.append(f"and {len(counts) - MAX_LISTED} more")
    return listed


def _money(mentions: Sequence[Mapping[str, Any]]) -> list[str]:
    listed = []
    for mention in mentions[:MAX_LISTED]:
        text = f"{_amount(mention['amount'])} {mention['currency']}"
        if mention.get("per_currency"):
            text += f" per {mention['per_currency']}"
        if mention.get("bound", "exact") != "exact":
            text += f" ({mention['bound']})"
        listed.append(f"{text} «{_shorten(mention['text'], 40)}»")
    if len(mentions) > MAX_LISTED:
        listed.append(f"and {len(mentions) - MAX_LISTED} more")
    return listed


def _mentions(count: int) -> str:
    return "none" if not count else "1 mention" if count == 1 else f"{count} mentions"


def enrich_block(record: Mapping[str, Any]) -> str:
    """``newsflow enrich`` without ``--json``: what it found in one file, a line per fact.

    ``record`` is the file's ``--json`` record (``newsflow.cli.enrich_record``)."""
    lines = [str(record["file"])]
    if record.get("error"):
        lines.append(_line("rejected", f"dead letter: {record['error']}"))
        if record.get("error_detail"):
            lines.append(_line("why", _shorten(str(record["error_detail"]), 200)))
        return "\n".join(lines)
    lines.append(_line("id", str(record["id"])))
    lines.append(_line("title", str(record["title"])))
    header = []
    if record.get("published"):
        header.append(f"published {record['published']}")
    rate = record.get("header_rate")
    if rate:
        header.append(f"rate {rate['value']:g} {rate['currency']}")
    lines.append(_line("header", ", ".join(header) or "none"))
    lines.append(_line("language", _languages(record)))
    lines.append(_line("outcome", _outcome(record)))
    if "countries" in record:  # written by an enrich that has the country focus
        lines.append(_line("country", _country(record)))
    for label, mentions, listed in (
        ("entities", record.get("entities") or [], _entities(record.get("entities") or [])),
        ("money", record.get("money") or [], _money(record.get("money") or [])),
    ):
        lines.append(_line(label, _mentions(len(mentions))))
        lines.extend(_line("", item) for item in listed)
    rates = _rates(record.get("rates") or [])
    if rates:
        lines.append(_line("rates", _mentions(len(rates))))
        lines.extend(_line("", rate) for rate in rates)
    repairs = Counter(repair["kind"] for repair in record.get("repairs") or [])
    if repairs:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(repairs.items()))
        lines.append(_line("repaired", kinds))
    for warning in record.get("warnings") or []:
        lines.append(_line("warning", str(warning)))
    lines.append(_line("encoding", str(record.get("encoding"))))
    lines.append(_line("body", _shorten(str(record["body"]), BODY_PREVIEW_CHARS) or "(empty)"))
    return "\n".join(lines)


def reindex_report(record: Mapping[str, Any], *, stale_only: bool) -> list[str]:
    """``newsflow reindex`` without ``--json``: what it found and sent, and with ``--wait`` how
    those documents ended. ``record`` is the command's ``--json`` object."""
    total, sent = int(record["documents"]), int(record["sent"])
    stale = record.get("stale_by_enricher") or {}
    why = ", ".join(f"{name} {count}" for name, count in stale.items())
    if stale_only and not sent:
        lines = [f"{total} documents in the index, none enriched by an older version: sent none."]
    elif stale_only:
        lines = [
            f"{total} documents in the index, {sent} enriched by an older version "
            f"(stale enrichers: {why}): sent {sent} back to enrich."
        ]
    else:
        lines = [f"{total} documents in the index: sent {sent} back to enrich."]
    outcomes = record.get("outcomes")
    if outcomes is None:
        if sent:
            lines.append(
                "The enrich and index workers update them in place (same ids); "
                "--wait waits for them."
            )
        return lines
    names = {
        "indexed": "re-indexed",
        "duplicate": "reported as duplicates",
        "dead_letter": "dead-lettered (newsflow dlq list)",
        "timed_out": "still going when the wait ended",
    }
    parts = [f"{outcomes[key]} {label}" for key, label in names.items() if outcomes.get(key)]
    parts += [f"{count} {state}" for state, count in outcomes.items() if state not in names]
    lines.append("Outcomes: " + (", ".join(parts) if parts else "nothing to wait for") + ".")
    return lines


def finished_line(finished: Finished) -> str:
    """One file the watcher moved: ``done    a.txt  indexed as 1a2b3c4d5e6f``. Ids shortened as
    in the other tables (a unique prefix works with ``status`` and ``show``)."""
    detail = finished.detail
    if detail == "indexed" and finished.doc_id:
        detail = f"indexed as {finished.doc_id[:12]}"
    moved = finished.moved_to
    renamed = f" -> {moved}" if moved and moved.split("/", 1)[-1] != finished.name else ""
    return f"{finished.outcome:<7} {finished.name}{renamed}  {detail}  [{finished.receipt[:12]}]"


@dataclass
class _Counts:
    done: int = 0
    failed: int = 0
    refused: int = 0

    def any(self) -> bool:
        return bool(self.done or self.failed or self.refused)


class WatchProgress:
    """What ``newsflow watch`` shows while it runs, fed each scan's report.

    ``print_line`` (on a terminal) gets a line per finished file and, every ``every`` seconds in
    which something happened or is still waiting, a summary; ``log_summary`` gets the same
    summary as counts (for the JSON log when nobody watches a terminal). An idle watcher says
    nothing, so a quiet night is not a screen of zeros."""

    def __init__(
        self,
        *,
        every: float,
        print_line: Callable[[str], None] | None = None,
        log_summary: Callable[[dict[str, float]], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._every = every
        self._print = print_line
        self._log = log_summary
        self._clock = clock
        self._since = clock()
        self._window = _Counts()
        self._pending = 0
        self._waiting = 0

    def __call__(self, report: ScanReport) -> None:
        for finished in report.finished:
            if self._print is not None:
                self._print(finished_line(finished))
            if finished.detail.startswith("refused: "):
                self._window.refused += 1
            elif finished.outcome == "done":
                self._window.done += 1
            else:
                self._window.failed += 1
        self._pending, self._waiting = report.pending, report.waiting
        now = self._clock()
        if self._every <= 0 or now - self._since < self._every:
            return
        if self._window.any() or self._pending or self._waiting:
            counts: dict[str, float] = {
                "done": self._window.done,
                "failed": self._window.failed,
                "refused": self._window.refused,
                "pending": self._pending,
                "settling": self._waiting,
                "window_s": round(now - self._since, 1),
            }
            if self._print is not None:
                self._print(summary_line(counts))
            if self._log is not None:
                self._log(counts)
        self._window = _Counts()
        self._since = now


def summary_line(counts: Mapping[str, float]) -> str:
    """``in the last 60 s: 12 done, 1 failed, 0 refused; 3 waiting for an outcome, 1 settling``"""
    return (
        f"in the last {counts['window_s']:.0f} s: {counts['done']} done, {counts['failed']} "
        f"failed, {counts['refused']} refused; {counts['pending']} waiting for an outcome, "
        f"{counts['settling']} still being written"
    )


def watch_totals(summary: WatchSummary) -> str:
    """The last line of an interactive ``newsflow watch``."""
    return (
        f"stopped: {summary.done} done, {summary.failed} failed, {summary.refused} refused; "
        f"{summary.pending} still waiting for an outcome"
    )
