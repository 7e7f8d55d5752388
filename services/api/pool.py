"""One index backend per thread, for the API's worker threads.

Index calls are blocking, so the API runs them in a thread pool; a SQLite connection must stay on
the thread that opened it, and opening one per request would cost PostgreSQL a connection per
search. So each pool thread keeps its own backend, opened on first use and dropped after a
transient failure, so the next call reconnects instead of reusing a broken connection.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

from services.index.backend import IndexBackend
from shared.tasks import TRANSIENT_ERRORS

# What says "the index cannot be reached now" (answered 503, and the connection dropped): the
# workers' transient errors, plus an OS error opening it (its disk or folder is gone).
INDEX_UNAVAILABLE: tuple[type[BaseException], ...] = (*TRANSIENT_ERRORS, OSError)


class BackendPool:
    def __init__(self, opener: Callable[[], IndexBackend]) -> None:
        self._opener = opener
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[IndexBackend] = []

    def _current(self) -> IndexBackend:
        backend: IndexBackend | None = getattr(self._local, "backend", None)
        if backend is None:
            backend = self._opener()
            self._local.backend = backend
            with self._lock:
                self._opened.append(backend)
        return backend

    def _discard(self) -> None:
        backend: IndexBackend | None = getattr(self._local, "backend", None)
        self._local.backend = None
        if backend is None:
            return
        with self._lock:
            self._opened = [kept for kept in self._opened if kept is not backend]
        with contextlib.suppress(Exception):  # it is broken already; closing is a courtesy
            backend.close()

    @contextlib.contextmanager
    def use(self) -> Iterator[IndexBackend]:
        """This thread's backend; after it proves unavailable it is closed and forgotten."""
        try:
            yield self._current()
        except INDEX_UNAVAILABLE:
            self._discard()
            raise

    def close(self) -> None:
        """Close every backend at shutdown.

        Some belong to other (idle) threads, and SQLite refuses to close a connection from
        another thread; the process is exiting, so those are left to it.
        """
        with self._lock:
            opened, self._opened = self._opened, []
        for backend in opened:
            with contextlib.suppress(Exception):
                backend.close()
