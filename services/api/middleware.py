"""One place that sees every request: its metrics and its one canonical log line.

A plain ASGI middleware rather than Starlette's ``BaseHTTPMiddleware``: it runs the request in
the same task (so log context bound by a route reaches the log line) and does not touch the
request body (so uploads stream through untouched).
"""

from __future__ import annotations

import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.metrics import (
    HTTP_REQUEST_DURATION,
    HTTP_REQUESTS,
    KNOWN_METHODS,
    UNMATCHED_ROUTE,
)

log = structlog.get_logger("newsflow.api")

REQUEST_ID_HEADER = b"x-request-id"


def route_template(scope: Scope) -> str:
    """The matched route's path template, or ``unmatched``: a bounded metric label."""
    path: object = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER:
            # A caller's id is echoed for tracing, but cut short and made printable.
            text = bytes(value).decode("latin-1")[:64]
            if text.isprintable() and text:
                return text
    return uuid.uuid4().hex


class RequestObserver:
    """Counts and times every HTTP request and writes one JSON log line for it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        status = 500  # what the client gets if the app raises before answering
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)

        async def observe_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER, request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, observe_send)
        finally:
            duration = time.perf_counter() - started
            route = route_template(scope)
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "OTHER"
            HTTP_REQUESTS.labels(route=route, method=method, status=str(status)).inc()
            HTTP_REQUEST_DURATION.labels(route=route).observe(duration)
            client = scope.get("client")
            log.info(
                "request",
                method=scope["method"],
                route=route,
                path=scope["path"],
                status=status,
                duration_s=round(duration, 6),
                client=client[0] if client else None,
            )
            structlog.contextvars.clear_contextvars()
