"""Secrets never printed: URL passwords masked in settings errors, error texts and log lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.redact import MASK, redact_text, redact_url
from shared.settings import Settings, format_settings_error

NEWSFLOW = str(Path(sys.executable).with_name("newsflow"))
PASSWORD = "hunter2-Zq9"  # noqa: S105  # a test value, not a credential


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"redis://:{PASSWORD}@cache:6379/0", "redis://:***@cache:6379/0"),
        (
            f"rediss://default:{PASSWORD}@cache:6380/0?ssl_cert_reqs=required",
            "rediss://default:***@cache:6380/0?ssl_cert_reqs=required",
        ),
        (
            f"postgresql://newsflow:{PASSWORD}@db:5432/newsflow?sslmode=require",
            "postgresql://newsflow:***@db:5432/newsflow?sslmode=require",
        ),
        (f"amqp://guest:{PASSWORD}@rabbit:5672//", "amqp://guest:***@rabbit:5672//"),
        (
            f"postgresql://db/newsflow?password={PASSWORD}&sslmode=require",
            "postgresql://db/newsflow?password=***&sslmode=require",
        ),
        # Redis behind Sentinel: newsflow's form (the sentinels' password a parameter) and
        # kombu's, one URL per sentinel joined by ";", each masked.
        (
            f"sentinel://:{PASSWORD}@s1:26379,s2:26379/0?master=m&sentinel_password={PASSWORD}",
            "sentinel://:***@s1:26379,s2:26379/0?master=m&sentinel_password=***",
        ),
        (
            f"sentinel://:{PASSWORD}@s1:26379/0;sentinel://u:{PASSWORD}@s2:26379/0",
            "sentinel://:***@s1:26379/0;sentinel://u:***@s2:26379/0",
        ),
        # A password with an unescaped "/" or "@": masked up to the last "@".
        (f"redis://:a/{PASSWORD}@cache/0", "redis://:***@cache/0"),
        (f"redis://:a@{PASSWORD}@cache/0", "redis://:***@cache/0"),
        # Not even a URL (a typo), but it may still hold a password.
        (f"redis:/:{PASSWORD}@cache", "***@cache"),
        # Nothing secret: unchanged.
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://user@cache:6379/0", "redis://user@cache:6379/0"),
        ("./newsflow.db", "./newsflow.db"),
    ],
)
def test_redact_url_masks_only_the_password(url: str, expected: str) -> None:
    """The line must still say where a connection went (user, host, port, database), never
    with what password."""
    assert redact_url(url) == expected
    assert redact_url(expected) == expected  # masking twice changes nothing


def test_redact_text_masks_every_url_and_password_pair_in_a_message() -> None:
    text = (
        f"Error connecting to redis://:{PASSWORD}@cache:6379/0: refused; "
        f"conninfo host=db password='{PASSWORD}' dbname=x; "
        f"broker='amqp://guest:{PASSWORD}@rabbit//' token={PASSWORD}"
    )
    masked = redact_text(text)
    assert PASSWORD not in masked
    assert "redis://:***@cache:6379/0" in masked
    assert f"password={MASK} dbname=x" in masked
    assert "amqp://guest:***@rabbit//" in masked


def test_settings_error_does_not_echo_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad Redis URL is echoed so the operator sees the mistake, but not its password."""
    monkeypatch.setenv("NEWSFLOW_REDIS_URL", f"http://:{PASSWORD}@cache:6379/0")
    monkeypatch.setenv("NEWSFLOW_INDEX_URL", f"mysql://root:{PASSWORD}@db/newsflow")
    with pytest.raises(ValidationError) as error:
        Settings(_env_file=None)
    message = format_settings_error(error.value)
    assert PASSWORD not in message
    assert "NEWSFLOW_REDIS_URL" in message
    assert "http://:***@cache:6379/0" in message
    assert "mysql://root:***@db/newsflow" in message


def test_a_settings_error_at_start_prints_no_password(tmp_path: Path) -> None:
    """What an operator (and a log collector) sees when a process refuses to start."""
    result = subprocess.run(
        [NEWSFLOW, "status", "x"],
        env={"PATH": "/usr/bin:/bin", "NEWSFLOW_REDIS_URL": f"redis:/:{PASSWORD}@cache"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "NEWSFLOW_REDIS_URL" in result.stderr
    assert PASSWORD not in result.stderr + result.stdout


LOGGING_SCRIPT = f"""
import logging
import structlog
from shared.logging import configure_logging

configure_logging("INFO", "json")
log = structlog.get_logger("test")
log.warning(
    "cannot connect",
    url="redis://:{PASSWORD}@cache:6379/0",
    tried=["amqp://guest:{PASSWORD}@rabbit//"],
)
logging.getLogger("celery").error("Cannot connect to %s", "amqp://guest:{PASSWORD}@rabbit//")
try:
    raise ConnectionError("postgresql://newsflow:{PASSWORD}@db/newsflow is down")
except ConnectionError:
    log.exception("index unavailable")
"""


def test_log_lines_never_carry_a_url_password() -> None:
    """Every line, ours or Celery's, traceback included, goes through the same redaction."""
    result = subprocess.run(
        [sys.executable, "-c", LOGGING_SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert len(lines) == 3, result.stderr
    assert PASSWORD not in result.stderr
    assert lines[0]["url"] == "redis://:***@cache:6379/0"
    assert lines[0]["tried"] == ["amqp://guest:***@rabbit//"]
    assert lines[1]["event"] == "Cannot connect to amqp://guest:***@rabbit//"
    assert "postgresql://newsflow:***@db/newsflow is down" in lines[2]["exception"]


def test_redact_text_masks_secrets_in_the_repr_of_connection_options() -> None:
    """The sentinels' password travels in keyword arguments (kombu's ``sentinel_kwargs``); a
    repr of them in an error or a log line must not show it."""
    options = {"master_name": "m", "sentinel_kwargs": {"password": PASSWORD, "socket_timeout": 5}}
    assert redact_text(f"options {options}") == (
        "options {'master_name': 'm', 'sentinel_kwargs': {'password': '***', 'socket_timeout': 5}}"
    )
    assert redact_text(f'{{"sentinel_password": "{PASSWORD}"}}') == '{"sentinel_password": "***"}'
