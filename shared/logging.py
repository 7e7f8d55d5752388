"""One logging setup for every process: structlog, rendered by the stdlib ``ProcessorFormatter``.

Routing structlog through stdlib logging means Celery's own log records come out in the same JSON
as ours. The console renderer is used only when stderr is a terminal (or when asked), so files
and log shippers always get one JSON object per line.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog

from shared.redact import redact_event

_SHARED_PROCESSORS: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


# An ANSI escape sequence (colours, cursor moves): what a terminal shows, noise in a JSON line.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def plain_text(
    _logger: object, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """For JSON: no colour codes in any value, and no ``color_message``, the coloured copy of
    its message uvicorn attaches to its records (rendered by ``ExtraAdder`` as a field)."""
    event.pop("color_message", None)
    for key, value in event.items():
        if isinstance(value, str) and "\x1b" in value:
            event[key] = _ANSI.sub("", value)
    return event


def configure_logging(
    level: str = "INFO", fmt: Literal["auto", "json", "console"] = "auto"
) -> None:
    """Configure structlog and the root logger; safe to call more than once."""
    use_console = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer() if use_console else structlog.processors.JSONRenderer()
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED_PROCESSORS, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            # Last, so it also sees Celery's lines and formatted tracebacks: no password of a
            # Redis, PostgreSQL or AMQP URL reaches a log line.
            redact_event,
            *([] if use_console else [plain_text]),
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries that narrate routine work at INFO (pymorphy2 announces every dictionary load).
    for name in ("pymorphy2",):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))

    structlog.configure(
        processors=[
            *_SHARED_PROCESSORS,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
