"""Waiting for submitted files to reach their outcome, riding out a Redis restart.

``newsflow submit --wait`` holds the files it submitted until each receipt is terminal. A Redis
blip is waited out (one warning, not a crash that would lose the receipts), and a receipt that
Redis lost (a restart that dropped its last second of writes) is submitted again from the file,
under the same receipt: every stage is idempotent, so a file the pipeline did get is not doubled.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

import redis

from services.ingest.intake import Intake, new_receipt, submit_path
from shared.keys import receipt_key
from shared.messages import RawFile
from shared.receipts import ReceiptStatus, read_status
from shared.tasks import TRANSIENT_ERRORS

POLL_SECONDS = 0.2
# A receipt is written before its message is published, so one that is missing for this long
# after the wait began (or after Redis came back) was lost with Redis's last writes.
LOST_AFTER_SECONDS = 10.0


# How long a submitter waits for Redis or the broker to come back before giving up on a file.
SUBMIT_PATIENCE_SECONDS = 60.0


def submit_patiently(
    intake: Intake,
    path: Path,
    *,
    source_name: str | None = None,
    warn: Callable[[str], None] = print,
    patience: float = SUBMIT_PATIENCE_SECONDS,
) -> RawFile:
    """``submit_path``, waiting out a Redis or broker restart (up to ``patience`` seconds)
    instead of failing the whole batch on the blip. The receipt is chosen once, so a file
    whose first attempt got half way (its receipt opened, its message not sent) is sent again
    under the same receipt, never twice under two."""
    receipt = new_receipt()
    deadline = time.monotonic() + patience
    delay = 0.5
    while True:
        try:
            return submit_path(intake, path, source="cli", receipt=receipt, source_name=source_name)
        except TRANSIENT_ERRORS as error:
            if time.monotonic() + delay > deadline:
                raise
            warn(f"cannot queue {path.name} yet ({type(error).__name__}); retrying")
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def wait_for_receipts(
    intake: Intake,
    receipts: Mapping[str, Path | None],
    timeout: float,
    *,
    source_name: str | None = None,
    warn: Callable[[str], None] = print,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, ReceiptStatus]:
    """Each receipt's final status, for those that reached one within ``timeout`` seconds.

    A receipt with a file (``submit --wait``) that Redis lost is submitted again from it; one
    without (a re-index) is waited for, since its document is still in the index.
    ``progress(finished, dead_letters)`` is called after every look."""
    deadline = time.monotonic() + timeout
    final: dict[str, ReceiptStatus] = {}
    missing_since: dict[str, float] = {}
    outage_since: float | None = None
    while len(final) < len(receipts) and time.monotonic() < deadline:
        pending = [receipt for receipt in receipts if receipt not in final]
        try:
            found = dict(zip(pending, _read_all(intake.client, pending), strict=True))
            for receipt, status in found.items():
                if status is not None and status.final:
                    final[receipt] = status
            if progress is not None:
                dead = sum(status.state == "dead_letter" for status in final.values())
                progress(len(final), dead)
            _resubmit_lost(
                intake,
                receipts,
                found,
                missing_since=missing_since,
                source_name=source_name,
                warn=warn,
            )
        except TRANSIENT_ERRORS as error:
            if outage_since is None:
                outage_since = time.monotonic()
                warn(f"Redis is not answering ({type(error).__name__}); still waiting")
            missing_since.clear()  # nothing seen during an outage counts as missing
        else:
            if outage_since is not None:
                warn(f"Redis is back after {time.monotonic() - outage_since:.0f} s")
                outage_since = None
        time.sleep(POLL_SECONDS)
    return final


def _read_all(client: redis.Redis, receipts: list[str]) -> list[ReceiptStatus | None]:
    if not receipts:
        return []
    raws = client.mget([receipt_key(receipt) for receipt in receipts])
    return [None if raw is None else read_status_raw(raw) for raw in raws]


def read_status_raw(raw: bytes | str) -> ReceiptStatus | None:
    try:
        return ReceiptStatus.model_validate_json(raw)
    except ValueError:
        return None


def _resubmit_lost(
    intake: Intake,
    receipts: Mapping[str, Path | None],
    found: dict[str, ReceiptStatus | None],
    *,
    missing_since: dict[str, float],
    source_name: str | None,
    warn: Callable[[str], None],
) -> None:
    now = time.monotonic()
    for receipt, status in found.items():
        path = receipts[receipt]
        if status is not None or path is None:
            missing_since.pop(receipt, None)
            continue
        since = missing_since.setdefault(receipt, now)
        if now - since < LOST_AFTER_SECONDS or read_status(intake.client, receipt) is not None:
            continue
        warn(f"receipt {receipt} was lost by Redis; submitting {path} again")
        submit_path(intake, path, source="cli", receipt=receipt, source_name=source_name)
        missing_since.pop(receipt, None)


def queues_without_consumers(intake: Intake, queues: set[str], timeout: float = 2.0) -> list[str]:
    """Which of ``queues`` no running worker consumes, by asking the workers (Celery's remote
    control): what a wait that timed out most often means is that nobody is there."""
    replies = intake.publisher.app.control.inspect(timeout=timeout).active_queues() or {}
    consumed = {queue["name"] for node in replies.values() for queue in node}
    return sorted(queues - consumed)
