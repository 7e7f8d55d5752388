"""The Celery application every worker and producer shares.

JSON is the only accepted content type, so a pickle message is refused (and dead-lettered by
``shared.consumer``) instead of being executed. Each stage has its own queue and dotted task
name; tasks acknowledge late and are re-queued if their worker dies mid-task, so nothing is lost
on a crash (every write downstream is idempotent, so running twice is harmless).
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, signals
from kombu.entity import Queue

from shared.logging import configure_logging
from shared.metrics import QueueDepthCollector, mark_process_dead, serve_metrics
from shared.redis_client import redis_client
from shared.settings import load_settings
from shared.stages import STAGES, TASK_NAMES

settings = load_settings()

app = Celery("newsflow", broker=settings.redis_url)
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    result_serializer="json",
    task_ignore_result=True,  # outcomes are recorded per receipt; no result backend needed
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,  # with late acks, don't hoard messages a crash would delay
    broker_transport_options={"visibility_timeout": settings.visibility_timeout},
    broker_connection_retry_on_startup=True,
    task_queues=[Queue(stage, routing_key=stage) for stage in STAGES],
    task_default_queue="ingest",
    task_routes={
        name: {"queue": stage, "routing_key": stage} for stage, name in TASK_NAMES.items()
    },
    worker_hijack_root_logger=False,
    worker_consumer="shared.consumer:DeadLetteringConsumer",
    worker_send_task_events=False,
    enable_utc=True,
)


@signals.setup_logging.connect
def _use_our_logging(**_: Any) -> None:
    """Connecting this signal stops Celery from installing its own log handlers."""
    configure_logging(settings.log_level, settings.log_format)


@signals.worker_init.connect
def _start_metrics(**_: Any) -> None:
    """Serve /metrics from the parent process; children write to the multiprocess directory."""
    port = int(os.environ.get("NEWSFLOW_WORKER_METRICS_PORT", settings.metrics_port))
    depth = QueueDepthCollector(STAGES, lambda queue: int(redis_client().llen(queue)))
    serve_metrics(port, depth)


@signals.worker_process_shutdown.connect
def _mark_child_dead(pid: int | None = None, **_: Any) -> None:
    mark_process_dead(pid or os.getpid())


def send_to_stage(stage: str, payload: dict[str, Any]) -> None:
    """Publish a message to a stage's queue by task name (no import of the stage's code).

    ``argsrepr`` replaces the payload in Celery's own log lines: a whole document (or a file's
    base64 bytes) per log line would swamp the logs and copy article text into them.
    """
    summary = " ".join(
        f"{key}={payload[key]}" for key in ("receipt", "id", "filename") if payload.get(key)
    )
    app.send_task(
        TASK_NAMES[stage],  # type: ignore[index]  # stage names are checked by the callers' types
        args=[payload],
        queue=stage,
        routing_key=stage,
        argsrepr=summary,
        kwargsrepr="{}",
    )
