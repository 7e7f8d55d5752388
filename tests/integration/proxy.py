"""A TCP forwarder of the test's own, to take a server away from the workers and give it back.

``TcpProxy`` listens on a free port of 127.0.0.1 and relays each connection to one upstream
address, two threads per connection. ``stop()`` is an outage as a client sees it: the listening
socket is closed (new connections are refused) and every open connection is cut in both
directions; ``start()`` listens again on the same port. Only the test's own port is touched,
never the real server, so other runs sharing the machine see nothing of it.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time

from tests.support import free_port

_CHUNK = 65536
_REBIND_SECONDS = 10.0


class TcpProxy:
    """Relays 127.0.0.1:``port`` to ``upstream`` while started."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self.accepted = 0  # connections relayed since the proxy was made
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None

    def start(self) -> None:
        """Listen (again) on ``port``: the address the clients were given does not change."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + _REBIND_SECONDS
        while True:
            try:
                listener.bind(("127.0.0.1", self.port))
                break
            except OSError:
                # The old listener's port may be held for a moment by connections closing.
                if time.monotonic() > deadline:
                    listener.close()
                    raise
                time.sleep(0.1)
        listener.listen(128)
        self._stopping.clear()
        self._listener = listener
        self._acceptor = threading.Thread(
            target=self._accept_loop, args=(listener,), name="proxy-accept", daemon=True
        )
        self._acceptor.start()

    def stop(self) -> None:
        """Refuse new connections and cut every open one, as a server that went away."""
        self._stopping.set()
        if self._acceptor is not None:
            self._acceptor.join(timeout=5)
            self._acceptor = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            _cut(sock)

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._open) // 2

    def _accept_loop(self, listener: socket.socket) -> None:
        # A selector with a short timeout, so stop() never depends on close() waking accept().
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            while not self._stopping.is_set():
                if not selector.select(timeout=0.05):
                    continue
                try:
                    client, _ = listener.accept()
                except OSError:
                    continue
                self._relay(client)

    def _relay(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _cut(client)
            return
        server.settimeout(None)
        with self._lock:
            if self._stopping.is_set():
                _cut(client)
                _cut(server)
                return
            self._open |= {client, server}
            self.accepted += 1
        for source, sink in ((client, server), (server, client)):
            threading.Thread(
                target=self._pump, args=(source, sink), name="proxy-pump", daemon=True
            ).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        """Copy one direction until either side closes, then close both."""
        try:
            while data := source.recv(_CHUNK):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open -= {source, sink}
            _cut(source)
            _cut(sink)


def _cut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
