"""One stage's Celery worker process: settings -> app -> the stage's task -> Celery's worker.

``newsflow worker STAGE`` runs ``python -m newsflow.worker STAGE [celery options]`` with the
prometheus multiprocess directory set (it must be set before Python starts), so this module is
the composition root of a worker: the only place that builds its app and wires its signals.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from typing import Any

from celery import signals

from shared.celery_app import NewsflowCelery, make_celery, queue_depth
from shared.logging import configure_logging
from shared.metrics import (
    ActiveStoriesCollector,
    QueueDepthCollector,
    mark_process_dead,
    serve_metrics,
)
from shared.redis_client import redis_client
from shared.settings import Settings, load_settings
from shared.stages import STAGES, Stage

STAGE_TASKS: dict[Stage, str] = {stage: f"services.{stage}.tasks" for stage in STAGES}


def build_worker_app(stage: Stage, settings: Settings) -> NewsflowCelery:
    """The app of a worker for ``stage``: its one task registered, its signals connected."""
    app = make_celery(settings)
    importlib.import_module(STAGE_TASKS[stage]).register(app)

    @signals.setup_logging.connect(weak=False)
    def _use_our_logging(**_: Any) -> None:
        """Connecting this signal stops Celery from installing its own log handlers."""
        configure_logging(settings.log_level, settings.log_format)

    @signals.worker_process_shutdown.connect(weak=False)
    def _mark_child_dead(pid: int | None = None, **_: Any) -> None:
        mark_process_dead(pid or os.getpid())

    return app


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in STAGES:
        sys.stderr.write(
            f"usage: python -m newsflow.worker {{{','.join(STAGES)}}} [celery options]\n"
        )
        raise SystemExit(2)
    stage: Stage = args[0]
    settings = load_settings()
    app = build_worker_app(stage, settings)
    start_metrics(app, settings, stage)
    share_objects_with_children()
    app.worker_main(["worker", "-Q", stage, *args[1:]])


def share_objects_with_children() -> None:
    """Freeze the collector's view of every object right before each fork of a pool child.

    A child shares the parent's pages until it writes one; a collection of the oldest
    generation writes the header of every object it tracks, so without this each child copies
    most of the parent's Python heap at its first full collection (measured: 10-25 MB a child of
    an idle index worker). Frozen objects are never looked at by the collector again, in the
    parent or the child (the parent's later objects are not frozen until the next fork).
    """
    os.register_at_fork(before=gc.freeze)


def start_metrics(app: NewsflowCelery, settings: Settings, stage: Stage) -> None:
    """Serve /metrics from this, the main process, before Celery starts (children write to the
    multiprocess directory). A port that is taken stops the worker here, loudly: a worker that
    reports "ready" without its metrics is invisible to every alert. The enrich worker also
    reports the active stories, read from the story store at each scrape."""
    collectors: list[Any] = [QueueDepthCollector(STAGES, lambda queue: queue_depth(app, queue))]
    if stage == "enrich":
        from services.enrich import stories  # noqa: PLC0415  # only the enrich worker needs it

        store = stories.RedisStories(redis_client(settings.redis_url), stories.VERSION)
        collectors.append(ActiveStoriesCollector(store.active_since))
    try:
        serve_metrics(settings.metrics_port, *collectors)
    except OSError as error:
        sys.stderr.write(
            f"newsflow worker: cannot serve metrics on port {settings.metrics_port}: "
            f"{error.strerror or error} (set --metrics-port or NEWSFLOW_METRICS_PORT)\n"
        )
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
