"""Secrets out of everything newsflow prints: the password of a URL, wherever one is shown.

Connection URLs (``redis://:pw@host``, ``rediss://``, ``postgresql://user:pw@host/db``,
``amqp://user:pw@host``) end up in settings errors, exception texts and log lines.
``redact_url`` hides the password of one URL (and password-like query parameters);
``redact_text`` does it for every URL and ``password=...`` pair inside a longer text. The logging
setup runs ``redact_event`` on every line as the last guard, so a URL that slips into an error
message is still masked in the logs; code that prints a URL itself calls ``redact_url``.

Over-masking is preferred to under-masking: a password with unescaped ``/`` or ``@`` is masked
up to the last ``@`` of the URL, even if that hides a little of the path.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

MASK = "***"

# key=value pairs whose value is a secret: URL query parameters (libpq accepts
# ``?password=``), libpq conninfo strings (``host=db password=...``) and tokens.
_SECRET_PAIR = re.compile(
    r"(?i)(?P<key>\b(?:password|passwd|pwd|sslpassword|secret|token|api_token)\s*=\s*)"
    r"(?P<value>'[^']*'|\"[^\"]*\"|[^\s&;#'\"]+)"
)
# A URL with an authority part runs until whitespace or a quote.
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """``url`` with the password of its user info (and of secret query parameters) masked.

    ``redis://:s3cret@host:6379/0`` -> ``redis://:***@host:6379/0``; the user name, host, port,
    path and other parameters stay, so the line still says where the connection went.
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        # Not even a URL (a typo such as "redis:/:pw@host"): whatever precedes an "@" may be
        # a password.
        at = url.rfind("@")
        return _SECRET_PAIR.sub(_mask_pair, url if at == -1 else f"{MASK}{url[at:]}")
    authority_end = min((i for i in (rest.find(c) for c in "/?#") if i != -1), default=len(rest))
    at = rest.rfind("@", 0, authority_end)
    if at == -1:
        # No user info in the authority; an "@" later means a password with an unescaped
        # "/", "?" or "#" in it (libraries disagree on how to split those): mask up to it.
        at = rest.rfind("@")
    if at != -1:
        user, colon, _ = rest[:at].partition(":")
        if colon:
            rest = f"{user}:{MASK}{rest[at:]}"
    return f"{scheme}://{_SECRET_PAIR.sub(_mask_pair, rest)}"


def redact_text(text: str) -> str:
    """``text`` with the password of every URL in it, and every ``password=`` value, masked."""
    if "://" not in text and "=" not in text:
        return text  # the common case in log lines, made cheap
    masked = _URL.sub(lambda match: redact_url(match.group(0)), text)
    return _SECRET_PAIR.sub(_mask_pair, masked)


def _mask_pair(match: re.Match[str]) -> str:
    return f"{match['key']}{MASK}"


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(item) for item in value)
    if isinstance(value, dict):
        return {key: _redact_value(item) for key, item in value.items()}
    return value


def redact_event(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask secrets in every string of a log line (the message, the
    ``error=`` fields, a formatted traceback, strings inside lists and dicts). Must run after
    ``format_exc_info``."""
    for key, value in event_dict.items():
        event_dict[key] = _redact_value(value)
    return event_dict
