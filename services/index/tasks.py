"""The index worker's task: store the enriched document, idempotently, and make it searchable.

``register(app)`` adds it to an app built by ``shared.celery_app.make_celery``; start the worker
with ``newsflow worker index``.
"""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from functools import partial
from typing import Any

import structlog
from celery import signals

from services.index.backend import backend_opener
from services.index.lemmas import preload_ukrainian
from services.index.stage import index_for
from shared.celery_app import NewsflowCelery
from shared.messages import EnrichedDocument
from shared.metrics import END_TO_END_LATENCY, initialise_stage_series
from shared.process_memory import page_out_file, release_free_memory
from shared.settings import Settings
from shared.tasks import Finish, StageTask, register_stage_task


def document(task: StageTask, doc: EnrichedDocument) -> str:
    is_new = index_for(task.settings).upsert(doc)
    structlog.contextvars.bind_contextvars(new=is_new)
    return finish(task, doc)


def documents(task: StageTask, docs: list[EnrichedDocument]) -> list[Finish]:
    """A batch (``shared.batches``): one transaction for all (``upsert_many``), then each
    document's own finishing step. Should the write fail, nothing of it was stored, and each
    document takes the one-message path, which retries or dead-letters it as it would alone."""
    new = index_for(task.settings).upsert_many(docs)
    structlog.get_logger("newsflow.index").debug("batch written", size=len(docs), new=new)
    return [partial(finish, task, doc) for doc in docs]


def finish(task: StageTask, doc: EnrichedDocument) -> str:
    """Record one stored document and its end-to-end latency."""
    structlog.contextvars.bind_contextvars(language=doc.language)
    task.report(doc, "indexed")
    latency = (datetime.now(UTC) - doc.received_at).total_seconds()
    END_TO_END_LATENCY.observe(max(latency, 0.0))
    structlog.contextvars.bind_contextvars(end_to_end_s=round(latency, 3))
    # A near-duplicate is stored like any document; its own outcome lets the dashboard show
    # how much of what is indexed repeats earlier news.
    return "near_duplicate" if doc.near_duplicate_of else "indexed"


def open_index_at_start(settings: Settings) -> None:
    """Open the index (creating or migrating its schema) as each child starts, so a bad
    NEWSFLOW_INDEX_URL or an unreachable database shows at start, not at the first document."""
    try:
        index_for(settings)
    except Exception as error:  # noqa: BLE001  # tasks retry and dead-letter; the child lives
        structlog.get_logger("newsflow.index").error(
            "index not reachable at start", error=repr(error)
        )


def load_before_fork(settings: Settings) -> None:
    """Import the index backend's module and, when Ukrainian is a configured language, load the
    Ukrainian lemmatiser's dictionary (~17 MB), in the worker's main process, so that the pool's
    children share them; then collect and return what loading left free, and hand back the
    library pages only loading read (see ``shared.process_memory``). Each child imported its
    own backend and stemmer before: ~5 MB a child."""
    backend_opener(settings.index_url)
    if "uk" in settings.languages:
        preload_ukrainian()
    gc.collect()
    release_free_memory()
    page_out_file()


def register(app: NewsflowCelery) -> None:
    register_stage_task(app, "index", document, EnrichedDocument, run_many=documents)

    @signals.worker_init.connect(weak=False)
    def _load_before_fork(**_: Any) -> None:
        load_before_fork(app.settings)

    # Per child, after the fork: neither a SQLite connection nor a PostgreSQL pool may cross it.
    @signals.worker_process_init.connect(weak=False)
    def _open_index(**_: Any) -> None:
        open_index_at_start(app.settings)

    initialise_stage_series("index", ("indexed", "near_duplicate", "dead_letter"))
