"""What a ``newsflow`` command says when a server it needs is not there, and its exit codes.

An operator whose Redis is down needs one line: what could not be reached, where (the URL, its
password masked), why, and which setting points there. An 80-line traceback says the same thing
worse; it is shown only with ``--debug`` or ``NEWSFLOW_LOG_LEVEL=DEBUG``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import IntEnum

from shared.errors import TransientError
from shared.redact import redact_text, redact_url
from shared.settings import Settings


class ExitCode(IntEnum):
    """Every command's exit codes (the README lists them)."""

    OK = 0
    FAILED = 1  # some files were dead-lettered (or, for reindex, ended as duplicates)
    USAGE = 2  # a bad argument, option or setting
    UNAVAILABLE = 3  # Redis, the broker or the index could not be reached
    TIMED_OUT = 4  # a wait ended before every file had its outcome


@dataclass(frozen=True)
class Unavailable:
    what: str
    where: str
    setting: str
    why: str

    def line(self) -> str:
        return f"cannot reach {self.what} at {self.where}: {self.why} (set {self.setting})"


def _causes(error: BaseException) -> list[BaseException]:
    """The error and what it was raised from, outermost first (each once)."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _why(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return redact_text(text[0] if text else type(error).__name__)[:200]


def unavailable(error: BaseException, settings: Settings) -> Unavailable | None:
    """The server ``error`` says could not be reached, or None if it is something else."""
    # Imported here: every command imports this module for its exit codes, and `newsflow run`
    # must not pay for Redis, kombu and psycopg.
    import redis  # noqa: PLC0415
    from kombu.exceptions import OperationalError as BrokerError  # noqa: PLC0415

    index_errors: tuple[type[BaseException], ...] = (TransientError, sqlite3.OperationalError)
    try:
        import psycopg  # noqa: PLC0415
    except ImportError:  # an install without the postgres extra has no PostgreSQL to lose
        pass
    else:
        index_errors = (*index_errors, psycopg.OperationalError)
    for cause in _causes(error):
        if isinstance(cause, BrokerError):
            setting = "NEWSFLOW_BROKER_URL" if settings.broker_url else "NEWSFLOW_REDIS_URL"
            return Unavailable("the broker", redact_url(settings.broker), setting, _why(cause))
        if isinstance(cause, redis.ConnectionError | redis.TimeoutError):
            return Unavailable(
                "Redis", redact_url(settings.redis_url), "NEWSFLOW_REDIS_URL", _why(cause)
            )
        if isinstance(cause, index_errors):
            return Unavailable(
                "the index", redact_url(settings.index_url), "NEWSFLOW_INDEX_URL", _why(cause)
            )
    return None
