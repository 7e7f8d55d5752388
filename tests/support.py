"""What lets two test runs share one machine: free ports, a Redis database and a RabbitMQ virtual
host of the run's own.

A run claims one database number on the shared Redis by ``SET NX`` on a lock key in database 0
(with a TTL a heartbeat keeps fresh), uses only that database, and frees it at the end. A run
killed without cleaning up loses its claim when the TTL runs out. Database 0 is never claimed:
it is the default of a developer's own newsflow.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import threading
from urllib.parse import urlsplit, urlunsplit

import redis

LOCK_PREFIX = "newsflow-test:database:"
LOCK_TTL_SECONDS = 120
HEARTBEAT_SECONDS = 20


def free_port() -> int:
    """A TCP port nothing listens on right now (the kernel's choice, so two runs differ)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def with_database(url: str, number: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{number}"))


class DatabaseClaim:
    """One Redis database held by this test run until ``release``."""

    def __init__(self, server_url: str) -> None:
        self._locks = redis.Redis.from_url(with_database(server_url, 0), socket_connect_timeout=2)
        self._token = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.number = self._claim()
        self.url = with_database(server_url, self.number)

    def _claim(self) -> int:
        databases = int(self._locks.config_get("databases").get("databases", 16))
        for number in range(1, databases):
            if self._locks.set(f"{LOCK_PREFIX}{number}", self._token, nx=True, ex=LOCK_TTL_SECONDS):
                return number
        raise RuntimeError(f"all {databases - 1} Redis test databases are held by other runs")

    def start_heartbeat(self) -> None:
        def beat() -> None:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                try:
                    self._locks.expire(f"{LOCK_PREFIX}{self.number}", LOCK_TTL_SECONDS)
                except redis.RedisError:
                    continue  # the next beat tries again; the TTL leaves room for several

        self._thread = threading.Thread(target=beat, name="redis-claim-heartbeat", daemon=True)
        self._thread.start()

    def release(self) -> None:
        self._stop.set()
        key = f"{LOCK_PREFIX}{self.number}"
        # Free it only if it is still ours (a paused run whose claim expired must not free
        # a database another run has taken since).
        if self._locks.get(key) == self._token.encode():
            self._locks.delete(key)
        self._locks.close()


class VirtualHost:
    """A RabbitMQ virtual host of this run's own (its queues cannot meet another run's), made
    and deleted with ``rabbitmqctl`` on this machine."""

    def __init__(self, server_url: str) -> None:
        self.name = f"newsflow-test-{os.getpid()}-{secrets.token_hex(4)}"
        self._ctl("add_vhost", self.name)
        self._ctl("set_permissions", "-p", self.name, _user(server_url), ".*", ".*", ".*")
        self.url = urlunsplit(urlsplit(server_url)._replace(path=f"/{self.name}"))

    @staticmethod
    def _ctl(*args: str) -> None:
        subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)

    def delete(self) -> None:
        self._ctl("delete_vhost", self.name)


def _user(url: str) -> str:
    return urlsplit(url).username or "guest"
