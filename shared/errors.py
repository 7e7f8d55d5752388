"""The two kinds of failure a stage can raise, so the base task can classify them in one place.

A stage function raises ``PermanentError`` when retrying cannot help (the input itself is bad) and
``TransientError`` when the same call may work later (a server was unreachable). Anything else that
escapes a stage is a bug; the base task dead-letters it as ``internal_error`` rather than losing it.
"""

from __future__ import annotations

from typing import Literal

# Bounded on purpose: these values become a metric label and a dead-letter field.
DeadLetterReason = Literal[
    "binary",
    "undecodable",
    "too_large",
    "empty",
    "invalid_message",
    "missing_payload",
    "retries_exhausted",
    "timeout",
    "worker_lost",
    "stalled",
    "internal_error",
]


class PermanentError(Exception):
    """The input cannot be processed, however often we try: dead-letter it at once."""

    def __init__(self, reason: DeadLetterReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: DeadLetterReason = reason
        self.detail = detail


class TransientError(Exception):
    """A dependency (Redis, the index) failed in a way that may heal: retry with backoff."""
