"""A Celery consumer that dead-letters every message it cannot turn into one of our tasks.

Celery's own consumer trusts a message's envelope: a body of ``null``, ``{}`` or ``[[x]]`` makes
``Request.__init__`` raise inside the consumer, the worker logs "Unrecoverable error", the
message goes back to the queue and every restart dies on it again; other malformed envelopes
vanish, and a task called with the wrong arguments is acknowledged silently as a failure. Our
standard is that bad input never stops a worker and never vanishes.

So every message is screened here, before Celery builds its ``Request``: the envelope (headers
and content type of task protocol 2), the task name (one this worker runs), the size, the JSON
body and its nesting, and the call shape (exactly one positional argument, a JSON object, as
every stage task takes). A message that fails is stored as a dead letter ``invalid_message``
with its raw bytes and acknowledged; anything Celery's own handling still raises is caught the
same way. If the dead letter cannot be stored (Redis is down) the message is left
unacknowledged, to come back when Redis does.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from celery.worker.consumer import Consumer

from shared.deadletters import DeadLetterStore
from shared.messages import DeadLetter
from shared.metrics import DEAD_LETTERS
from shared.redis_client import redis_client
from shared.settings import Settings
from shared.stages import STAGES, TASK_NAMES

log = structlog.get_logger("newsflow.consumer")

# Our messages nest a few levels (call -> document -> entities -> fields); anything much deeper
# is not ours, and a structure thousands deep costs recursion in every later step.
MAX_NESTING = 32
JSON_TYPES = ("application/json",)
# Serialisers that run code when they decode: named in the dead letter so an operator sees why.
UNSAFE_TYPES = {"application/x-python-serialize": "pickle", "application/x-yaml": "YAML"}


class Refused(Exception):
    """Why a message is not a task this worker can run."""


def nesting_depth(value: Any, limit: int) -> int:
    """How deeply ``value`` nests lists and objects, counted up to ``limit + 1`` at most (an
    iterative walk, so a hostile structure cannot exhaust the stack)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list):
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)
    return deepest


def max_message_bytes(max_file_bytes: int) -> int:
    """The largest message a stage may be sent: a parsed or enriched document carries its whole
    text (up to the file size, doubled by JSON escaping of non-ASCII) plus its entities."""
    return 4 * max_file_bytes + 1024 * 1024


def screen(
    headers: Any, content_type: Any, body: Any, known_tasks: frozenset[str], max_bytes: int
) -> dict[str, Any]:
    """The task's single argument if the message is a well-formed call of a known task, else
    raise ``Refused`` saying what is wrong. Pure, so every kind of bad message is unit-tested."""
    _screen_envelope(headers, content_type, known_tasks)
    return _screen_call(_decode(body, max_bytes))


def _screen_envelope(headers: Any, content_type: Any, known_tasks: frozenset[str]) -> None:
    if not isinstance(headers, dict):
        raise Refused("no task headers (not a task protocol 2 message)")
    task = headers.get("task")
    if not isinstance(task, str) or not task:
        raise Refused("no task name in the headers")
    if task not in known_tasks:
        raise Refused(f"unknown task {task[:100]!r} for this worker ({', '.join(known_tasks)})")
    task_id = headers.get("id")
    if not isinstance(task_id, str) or not task_id:
        raise Refused("no task id in the headers")
    if content_type not in JSON_TYPES:
        kind = UNSAFE_TYPES.get(str(content_type))
        named = f" ({kind}, never decoded)" if kind else ""
        raise Refused(f"content type {str(content_type)[:100]!r}{named} refused: JSON only")


def _decode(body: Any, max_bytes: int) -> Any:
    raw = body if isinstance(body, bytes) else str(body).encode("utf-8", "replace")
    if len(raw) > max_bytes:
        raise Refused(f"message of {len(raw)} bytes is over the limit of {max_bytes}")
    try:
        decoded = json.loads(raw)
    except RecursionError:
        raise Refused(f"body nests deeper than {MAX_NESTING} levels") from None
    except ValueError as error:
        raise Refused(f"body is not JSON: {error}") from None
    if nesting_depth(decoded, MAX_NESTING) > MAX_NESTING:
        raise Refused(f"body nests deeper than {MAX_NESTING} levels")
    return decoded


def _screen_call(decoded: Any) -> dict[str, Any]:
    if not isinstance(decoded, list) or len(decoded) != 3:
        raise Refused("body is not a task call [args, kwargs, embed]")
    args, kwargs, embed = decoded
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise Refused("task arguments are not [list, object]")
    if len(args) != 1 or kwargs:
        raise Refused(
            f"wrong arguments: {len(args)} positional and {len(kwargs)} keyword; "
            "a stage task takes exactly one message"
        )
    if not isinstance(args[0], dict):
        raise Refused(f"the message is a JSON {type(args[0]).__name__}, not an object")
    if embed is not None and not isinstance(embed, dict):
        raise Refused("task options (embed) are not an object")
    return args[0]


def store_refused(
    message: Any, reason_text: str, stage: str, settings: Settings, payload: dict[str, Any] | None
) -> None:
    """Keep a refused message as a dead letter with its raw bytes (and its decoded argument,
    when it had one, so that a replay after a fix can send it again)."""
    delivery = getattr(message, "delivery_info", None) or {}
    routed = str(delivery.get("routing_key") or "")
    stage = routed if routed in STAGES else stage
    headers = getattr(message, "headers", None)
    headers = headers if isinstance(headers, dict) else {}
    body = getattr(message, "body", b"")
    raw = body if isinstance(body, bytes) else str(body).encode("utf-8", "replace")
    receipt = payload.get("receipt") if payload else None
    letter = DeadLetter(
        stage=stage,
        receipt=str(receipt or headers.get("id") or uuid.uuid4().hex)[:256],
        reason="invalid_message",
        error=reason_text[:2000],
        failed_at=datetime.now(UTC),
        task_name=str(headers.get("task") or "")[:200],
        payload={
            "content_type": str(getattr(message, "content_type", None)),
            "headers": {str(key)[:100]: repr(value)[:200] for key, value in headers.items()},
            "body_b64": base64.b64encode(raw).decode(),
        },
    )
    DeadLetterStore.for_settings(redis_client(settings.redis_url), settings).add(letter)
    DEAD_LETTERS.labels(stage=stage, reason="invalid_message").inc()
    log.error(
        "message dead-lettered by consumer",
        stage=stage,
        reason="invalid_message",
        error=reason_text[:500],
        receipt=letter.receipt,
    )


class DeadLetteringConsumer(Consumer):  # type: ignore[misc]  # Celery's classes are untyped
    """Celery's consumer with every message screened before it becomes a ``Request``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # After a Redis restart, kombu's Redis channel of the lost connection raises
        # AttributeError ('NoneType' object has no attribute 'hostname') from anything that
        # still touches it (an ack of a task that finished across the reconnect, the restore
        # of its unacknowledged messages), because the connection it would rebuild a client
        # from is already released. Celery treats that as unrecoverable and the worker stops
        # consuming for good. It is a lost connection in disguise: counted as one, Celery logs
        # it, reconnects, and the message stays in Redis's unacked set and in the ledger.
        errors: tuple[type[BaseException], ...] = getattr(self, "connection_errors", ())
        self.connection_errors = (*errors, AttributeError)

    def refuse(self, message: Any, why: str, payload: dict[str, Any] | None = None) -> None:
        """Dead-letter and acknowledge a message; if Redis is down, leave it unacknowledged."""
        known = self._known_tasks()
        stage = next((s for s, name in TASK_NAMES.items() if name in known), "ingest")
        try:
            store_refused(message, why, stage, self.app.settings, payload)
        except Exception as error:  # noqa: BLE001  # Redis down: keep the message
            log.error("cannot store refused message; leaving it unacknowledged", error=repr(error))
            return
        message.ack()

    def _known_tasks(self) -> frozenset[str]:
        return frozenset(name for name in self.app.tasks if name in TASK_NAMES.values())

    def create_task_handler(self, *args: Any, **kwargs: Any) -> Callable[[Any], None]:
        handle = super().create_task_handler(*args, **kwargs)
        known = self._known_tasks()
        limit = max_message_bytes(self.app.settings.max_file_bytes)

        def on_task_received(message: Any) -> None:
            try:
                payload = screen(message.headers, message.content_type, message.body, known, limit)
            except Refused as why:
                self.refuse(message, str(why))
                return
            except Exception as error:  # noqa: BLE001  # a message must never stop the worker
                self.refuse(message, f"cannot read message: {error!r}")
                return
            try:
                handle(message)
            except Exception as error:  # Celery refused what we let through
                log.exception("consumer could not start the task")
                self.refuse(message, f"cannot start task: {error!r}", payload)

        return on_task_received

    def on_connection_error_after_connected(self, exc: Exception) -> None:
        """Celery closes the broken connection before it reconnects. On Redis, kombu's channel
        may then try to restore its unacknowledged messages through a client built from a
        connection it has already released, and raises ``AttributeError`` ('NoneType' object
        has no attribute 'hostname'), which Celery treats as unrecoverable: the worker stopped
        consuming for good after a Redis restart. Those messages stay in Redis's unacked set
        (restored after the visibility timeout) and in the ledger, so carrying on to the
        reconnect loses nothing."""
        try:
            super().on_connection_error_after_connected(exc)
        except AttributeError as error:
            log.warning(
                "closing the lost broker connection failed; reconnecting anyway", error=repr(error)
            )

    def on_decode_error(self, message: Any, exc: Exception) -> None:
        self.refuse(message, f"cannot decode message: {exc}")
