"""Secrets out of everything newsflow prints: the password of a URL, wherever one is shown.

Connection URLs (``redis://:pw@host``, ``rediss://``, ``postgresql://user:pw@host/db``,
``amqp://user:pw@host``, ``sentinel://:pw@h1,h2/0?master=m&sentinel_password=pw`` and kombu's
``sentinel://:pw@h1/0;sentinel://:pw@h2/0``) end up in settings errors, exception texts and log
lines; the keyword arguments built from them (``{'password': ...}``) may end up in a repr.
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

# The names of secret values. ``sentinel_password`` is spelled out: ``_`` is a word character,
# so ``\bpassword`` does not match inside it.
_HIDDEN_KEYS = r"(?:sentinel_password|password|passwd|pwd|sslpassword|secret|token|api_token)"
# key=value pairs whose value is a secret: URL query parameters (libpq accepts
# ``?password=``), libpq conninfo strings (``host=db password=...``) and tokens.
_SECRET_PAIR = re.compile(
    rf"(?i)(?P<key>\b{_HIDDEN_KEYS}\s*=\s*)"
    r"(?P<value>'[^']*'|\"[^\"]*\"|[^\s&;#'\"]+)"
)
# The same as a quoted key in a dict's repr: {'password': 'pw'}.
_SECRET_ITEM = re.compile(
    rf"(?i)(?P<key>(?P<quote>['\"]){_HIDDEN_KEYS}(?P=quote)\s*:\s*)"
    r"(?P<value>'[^']*'|\"[^\"]*\")"
)
# kombu joins alternative URLs (one per sentinel) with ";": each is masked on its own.
_NEXT_URL = re.compile(r";(?=[A-Za-z][A-Za-z0-9+.-]*://)")
# A URL with an authority part runs until whitespace or a quote.
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """``url`` with the password of its user info (and of secret query parameters) masked.

    ``redis://:s3cret@host:6379/0`` -> ``redis://:***@host:6379/0``; the user name, host, port,
    path and other parameters stay, so the line still says where the connection went.
    """
    alternatives = _NEXT_URL.split(url)
    if len(alternatives) > 1:
        return ";".join(redact_url(alternative) for alternative in alternatives)
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
        # The common case in log lines, made cheap: at most a repr of keyword arguments.
        return _SECRET_ITEM.sub(_mask_item, text) if "'" in text or '"' in text else text
    masked = _URL.sub(lambda match: redact_url(match.group(0)), text)
    masked = _SECRET_ITEM.sub(_mask_item, masked)
    return _SECRET_PAIR.sub(_mask_pair, masked)


def _mask_pair(match: re.Match[str]) -> str:
    return f"{match['key']}{MASK}"


def _mask_item(match: re.Match[str]) -> str:
    quote = match["value"][0]
    return f"{match['key']}{quote}{MASK}{quote}"


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
