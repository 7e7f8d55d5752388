"""The enrich worker's task: language, duplicates, money and entities, then on to index.

``register(app)`` adds it to an app built by ``shared.celery_app.make_celery``; start the worker
with ``newsflow worker enrich``.
"""

from __future__ import annotations

import gc
from functools import partial
from typing import Any

import structlog
from celery import signals

from services.enrich import entities, language, stories
from services.enrich.dedupe import RedisClaims
from services.enrich.neardup import RedisNearDuplicates
from services.enrich.stage import EnrichStores, enrich_with_stories, enrich_with_story
from services.enrich.stories import StoryAssignment
from shared.celery_app import NewsflowCelery
from shared.messages import EnrichedDocument, ParsedDocument
from shared.metrics import (
    DOCUMENTS_BY_LANGUAGE,
    DUPLICATES,
    ENTITIES,
    MONEY_MENTIONS,
    STORIES,
    STORY_SIZE,
    initialise_stage_series,
)
from shared.process_memory import page_out_file, release_free_memory, return_large_blocks
from shared.tasks import Finish, StageTask, register_stage_task


def stores_for(task: StageTask) -> EnrichStores:
    client = task.redis
    return EnrichStores(
        claims=RedisClaims(client),
        near_duplicates=RedisNearDuplicates(client),
        stories=stories.RedisStories(client, stories.VERSION),
    )


def document(task: StageTask, doc: ParsedDocument) -> str:
    enriched, assignment = enrich_with_story(doc, stores_for(task), task.settings)
    return finish(task, doc, enriched, assignment)


def documents(task: StageTask, docs: list[ParsedDocument]) -> list[Finish]:
    """A batch (``shared.batches``): the enrichers over all of them together, then each
    document's own finishing step, which the base task runs under its classification."""
    results = enrich_with_stories(docs, stores_for(task), task.settings)
    return [
        partial(finish, task, doc, enriched, assignment)
        for doc, (enriched, assignment) in zip(docs, results, strict=True)
    ]


def finish(
    task: StageTask,
    doc: ParsedDocument,
    enriched: EnrichedDocument,
    assignment: StoryAssignment | None,
) -> str:
    """Count, record and forward one enriched document."""
    structlog.contextvars.bind_contextvars(
        language=enriched.language,
        language_confidence=enriched.language_confidence,
        duplicate_of=enriched.duplicate_of,
        near_duplicate_of=enriched.near_duplicate_of,
        cluster_id=enriched.cluster_id,
        story_id=enriched.story_id,
        story_vetoes=list(assignment.vetoes) if assignment else [],
    )
    if enriched.duplicate_of:
        DUPLICATES.labels(kind="exact").inc()
        task.report(doc, "duplicate", duplicate_of=enriched.duplicate_of)
        return "duplicate"
    # Data-quality counts describe what gets indexed, so an exact copy is not counted twice.
    DOCUMENTS_BY_LANGUAGE.labels(language=enriched.language).inc()
    if enriched.near_duplicate_of:
        DUPLICATES.labels(kind="near").inc()
    for mention in enriched.money:
        MONEY_MENTIONS.labels(currency=mention.currency).inc()
    for entity in enriched.entities:
        ENTITIES.labels(type=entity.type).inc()
    if assignment is not None:
        STORIES.labels(outcome=assignment.outcome).inc()
        STORIES.labels(outcome="merged").inc(len(assignment.merged_from))
        STORY_SIZE.observe(assignment.size)
    task.report(doc, "enriched")
    task.forward("index", enriched)
    return "enriched"


def load_models_before_fork(languages: tuple[str, ...], full_models: frozenset[str]) -> None:
    """Load the NER models and the language models once, in the worker's main process, before
    the pool forks.

    Every child then starts with them already in memory (a replacement child is ready in
    milliseconds, far inside Celery's start-up limit, instead of loading for seconds), and
    ``gc.freeze()`` moves them out of the collector's sight so that collections in the children
    do not touch, and so copy, the pages they share with the parent.

    Before the freeze, the loaders' garbage is collected (frozen, it would stay for good) and
    the memory it held goes back to the system: a child's new objects would otherwise go into
    those free holes in the parent's pages and copy each page they land on. Large blocks are
    returned when freed, in the children too, and the pages of every library file read while
    loading go back to the kernel (``shared.process_memory``): lingua's holds its models
    compressed and is never read again, and numpy's and BLAS's code that only loading ran
    would stay the parent's alone (10 MB); what the children run comes back from the file.
    """
    return_large_blocks()
    entities.load_models()
    language.preload_models(languages, full_models)
    page_out_file()
    gc.collect()
    release_free_memory()
    gc.freeze()


def register(app: NewsflowCelery) -> None:
    register_stage_task(app, "enrich", document, ParsedDocument, run_many=documents)

    @signals.worker_init.connect(weak=False)
    def _load_models(**_: Any) -> None:
        settings = app.settings
        load_models_before_fork(
            tuple(settings.languages), frozenset(settings.language_full_models)
        )

    initialise_stage_series("enrich", ("enriched", "duplicate", "dead_letter"))
