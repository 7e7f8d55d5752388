"""The index step shared by the worker and the in-process runner."""

from __future__ import annotations

from functools import lru_cache

from services.index.backend import IndexBackend, open_backend
from shared.settings import Settings


@lru_cache(maxsize=2)
def open_index(url: str) -> IndexBackend:
    """One open index per process and URL, opened on first use (in a prefork child, after the
    fork: neither a SQLite connection nor a PostgreSQL pool may cross a fork)."""
    return open_backend(url)


def index_for(settings: Settings) -> IndexBackend:
    return open_index(settings.index_url)
