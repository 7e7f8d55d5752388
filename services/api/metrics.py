"""The API's own metrics, in a registry of their own, served at the API's ``/metrics``.

A registry of its own because the API process also imports ``shared.metrics`` (through the
Celery app) and would otherwise expose every worker counter, all at zero, beside its own.
Labels are bounded: ``route`` is the route template (``/v1/files/{receipt}``), never the raw
path with its ids; requests that match no route share ``route="unmatched"``; unknown methods
share ``method="OTHER"``.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

# Lookups and health checks take a millisecond or two; searches tens of milliseconds; an upload
# of a 10 MiB file, or a search over a large index, reaches seconds.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"

HTTP_REQUESTS = Counter(
    "newsflow_http_requests_total",
    "HTTP requests answered, by route template, method and status code.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_REQUEST_DURATION = Histogram(
    "newsflow_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by route template.",
    ["route"],
    buckets=REQUEST_BUCKETS,
    registry=REGISTRY,
)
