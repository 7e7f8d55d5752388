"""Redis behind Sentinel: one URL that both the app-state client and the Celery broker read.

redis-py wants a list of sentinel addresses, a master name and keyword arguments; kombu wants
its own URL (``sentinel://h1:26379;sentinel://h2:26379``) plus transport options. An operator
should write one URL for both, so newsflow takes this form and translates it for each:

    sentinel://[[USER]:PASSWORD@]HOST[:PORT][,HOST[:PORT]...][/DB]?master=NAME
        [&sentinel_username=USER][&sentinel_password=PASSWORD]
        [&ssl=true[&ssl_cert_reqs=required][&ssl_ca_certs=PATH][&ssl_certfile=PATH]
                  [&ssl_keyfile=PATH]]

- The hosts are the sentinels (port 26379 unless given), tried in order; one that does not
  answer is skipped. ``DB`` is the database on the master (0 unless given).
- ``master`` is the name the sentinels monitor the master by (``sentinel monitor NAME ...``).
- The user info is the Redis master's (and its replicas') credentials; the sentinels' own, if
  they have ``requirepass``, are ``sentinel_username`` / ``sentinel_password``.
  Percent-encode special characters in either (``@`` is ``%40``).
- ``ssl=true`` speaks TLS to the sentinels and the master alike, verifying certificates
  (``ssl_cert_reqs=required``) unless told otherwise. Both clients get these options from here,
  so they cannot end up at two security levels.

Everything here is pure: parsing and translating, never connecting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, unquote

SCHEME = "sentinel"
DEFAULT_PORT = 26379
SSL_CERT_REQS = ("required", "optional", "none")
SSL_FILES = ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile")
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")
PARAMETERS = (
    "master",
    "sentinel_username",
    "sentinel_password",
    "ssl",
    "ssl_cert_reqs",
    *SSL_FILES,
)
FORM = "sentinel://[:PASSWORD@]HOST:26379[,HOST:26379...]/DB?master=NAME"


def is_sentinel_url(url: str) -> bool:
    return url.startswith(f"{SCHEME}://")


@dataclass(frozen=True)
class SentinelUrl:
    """A parsed ``sentinel://`` URL (see the module docstring for its form)."""

    sentinels: tuple[tuple[str, int], ...]
    master: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_username: str | None = None
    sentinel_password: str | None = None
    # (name, value) pairs of the ssl_* options when TLS is on; None: plain TCP.
    tls: tuple[tuple[str, str], ...] | None = None

    def _tls_kwargs(self) -> dict[str, Any]:
        return {} if self.tls is None else {"ssl": True, **dict(self.tls)}

    def master_kwargs(self) -> dict[str, Any]:
        """redis-py keyword arguments for connections to the master (``Sentinel.master_for``)."""
        kwargs: dict[str, Any] = {"db": self.db, **self._tls_kwargs()}
        if self.username is not None:
            kwargs["username"] = self.username
        if self.password is not None:
            kwargs["password"] = self.password
        return kwargs

    def sentinel_kwargs(self) -> dict[str, Any]:
        """redis-py keyword arguments for connections to the sentinels themselves."""
        kwargs = self._tls_kwargs()
        if self.sentinel_username is not None:
            kwargs["username"] = self.sentinel_username
        if self.sentinel_password is not None:
            kwargs["password"] = self.sentinel_password
        return kwargs

    def kombu_url(self) -> str:
        """kombu's form: one ``sentinel://`` URL per sentinel, joined by ``;``. Each carries the
        master's credentials and database, because kombu reads them from whichever URL it is
        connected through (it moves to the next one when a connection fails)."""
        userinfo = ""
        if self.username is not None or self.password is not None:
            userinfo = quote(self.username or "", safe="")
            if self.password is not None:
                userinfo += f":{quote(self.password, safe='')}"
            userinfo += "@"
        return ";".join(
            f"{SCHEME}://{userinfo}{_host(host)}:{port}/{self.db}" for host, port in self.sentinels
        )

    def kombu_transport_options(self) -> dict[str, Any]:
        """What kombu's Sentinel transport needs besides its URL (socket options are added by
        the caller, who knows its timeouts)."""
        return {"master_name": self.master, "sentinel_kwargs": self.sentinel_kwargs()}

    def kombu_ssl(self) -> dict[str, str] | None:
        """Celery's ``broker_use_ssl`` for the master connections, or None without TLS."""
        return None if self.tls is None else dict(self.tls)


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _address(part: str, number: int) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port``. Errors name the address by its
    place, not its text: a mistyped URL may have put part of a password there."""
    if part.startswith("["):
        host, bracket, rest = part[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"sentinel address {number} is not [IPv6]:PORT")
        port_text = rest[1:]
    else:
        host, _, port_text = part.partition(":")
    if not host:
        raise ValueError(f"sentinel address {number} has no host")
    if not port_text:
        return host, DEFAULT_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"sentinel address {number}: the port must be a number from 1 to 65535")
    return host, int(port_text)


def _flag(name: str, value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValueError(f"{name}= takes true or false, not {value!r}")


def parse_sentinel_url(url: str) -> SentinelUrl:
    """Parse ``url``; a ValueError says what is wrong without echoing a password."""
    if not is_sentinel_url(url):
        raise ValueError(f"not a sentinel URL; the form is {FORM}")
    rest = url[len(SCHEME) + 3 :]
    if f"{SCHEME}://" in rest:
        raise ValueError(
            "name the sentinels comma-separated in one URL "
            "(sentinel://h1:26379,h2:26379/0?master=NAME), not kombu's ';'-joined form"
        )
    # Split by hand: urlsplit refuses a comma-separated list with an [IPv6] host in it.
    rest, _, fragment = rest.partition("#")
    rest, _, query_text = rest.partition("?")
    netloc, _, path = rest.partition("/")
    if fragment or "@" in path or "@" in query_text.partition("=")[0]:
        raise ValueError("percent-encode '/', '?', '#' and '@' in a password (%2F, %3F, %23, %40)")
    userinfo, at, hosts = netloc.rpartition("@")
    username = password = None
    if at:
        user, colon, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    parts = [part.strip() for part in hosts.split(",")]
    if not any(parts):
        raise ValueError(f"name at least one sentinel: {FORM}")
    sentinels = tuple(_address(part, number) for number, part in enumerate(parts, 1) if part)
    db_text = path.strip("/") or "0"
    if not db_text.isdigit():
        raise ValueError("the database after the hosts must be a number (/0)")

    given = parse_qs(query_text, keep_blank_values=True)
    query = {name: values[-1] for name, values in given.items()}
    unknown = sorted(set(query) - set(PARAMETERS))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {', '.join(unknown)}; a sentinel URL takes "
            f"{', '.join(PARAMETERS)}"
        )
    master = query.get("master", "").strip()
    if not master:
        raise ValueError(
            "a sentinel:// URL needs ?master=NAME, the name its sentinels monitor the Redis "
            f"master by (sentinel monitor NAME ...): {FORM}"
        )
    return SentinelUrl(
        sentinels=sentinels,
        master=master,
        db=int(db_text),
        username=username,
        password=password,
        sentinel_username=query.get("sentinel_username") or None,
        sentinel_password=query.get("sentinel_password") or None,
        tls=_tls_options(query),
    )


def _tls_options(query: dict[str, str]) -> tuple[tuple[str, str], ...] | None:
    given = [name for name in ("ssl_cert_reqs", *SSL_FILES) if name in query]
    if not _flag("ssl", query.get("ssl", "false")):
        if given:
            # A forgotten ssl=true must not mean a silent plain-text connection.
            raise ValueError(f"{', '.join(given)} given without ssl=true")
        return None
    cert_reqs = query.get("ssl_cert_reqs", "required")
    if cert_reqs not in SSL_CERT_REQS:
        raise ValueError(f"ssl_cert_reqs takes {', '.join(SSL_CERT_REQS)}, not {cert_reqs!r}")
    return (
        ("ssl_cert_reqs", cert_reqs),
        *((name, query[name]) for name in SSL_FILES if query.get(name)),
    )
