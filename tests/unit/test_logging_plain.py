"""JSON log lines carry no terminal colour codes, whoever made the record. Each case runs in a
fresh interpreter: logging's configuration is process-wide."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import logging, sys
from shared.logging import configure_logging

configure_logging("INFO", sys.argv[1])
# uvicorn attaches a coloured copy of its message as `color_message`; a library may also put
# escape codes in the message itself.
logging.getLogger("uvicorn.error").info(
    "Uvicorn running on \\x1b[1m%s\\x1b[0m",
    "http://127.0.0.1:8000",
    extra={"color_message": "Uvicorn running on \\x1b[1m%s\\x1b[0m"},
)
"""


def _log(fmt: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, fmt],
        capture_output=True, text=True, timeout=60, check=True,
    ).stderr  # fmt: skip


def test_a_coloured_foreign_record_comes_out_plain_in_json() -> None:
    line = _log("json").strip()
    record = json.loads(line)
    assert record["event"] == "Uvicorn running on http://127.0.0.1:8000"
    assert "color_message" not in record
    assert "\\u001b" not in line


def test_the_console_renderer_keeps_its_colours() -> None:
    """On a terminal the colours are the point; only JSON is made plain."""
    assert "\x1b[1mhttp://127.0.0.1:8000" in _log("console")
