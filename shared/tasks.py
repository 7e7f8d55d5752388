"""The one base task: log context, metrics, failure classification, retries and dead letters.

Stage tasks stay thin: they receive an already-validated message model and return an outcome
word. Everything that must be true of every stage lives here, once:

* structlog context (``task_id``, ``stage``, ``receipt``, ``doc_id``) bound at start, cleared at
  end, and one canonical log line per message;
* ``newsflow_stage_duration_seconds`` and ``newsflow_documents_processed_total``;
* transient errors (Redis or the index unreachable) retried with capped exponential backoff and
  jitter for ``retry_for_seconds``, then dead-lettered as ``retries_exhausted``; a retry that
  cannot be published (the broker itself is down) leaves the message unacknowledged, never
  drops it;
* the soft time limit dead-letters the document as ``timeout``; the hard limit (a child killed
  in uninterruptible work) does too, from the worker's main process (``on_failure``);
* a message whose task keeps killing its process is dead-lettered as ``worker_lost`` after
  ``max_deliveries`` starts instead of taking down worker after worker;
* permanent errors dead-lettered at once with their reason; an unexpected exception is a bug, and
  is dead-lettered as ``internal_error`` with its traceback rather than lost.
"""

from __future__ import annotations

import random
import sqlite3
import time
import traceback
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property, partial
from typing import Any, ClassVar, Literal

import redis
import structlog
from celery import Task
from celery.exceptions import Reject, Retry, SoftTimeLimitExceeded, TimeLimitExceeded
from kombu.exceptions import OperationalError as BrokerError
from pydantic import BaseModel, ValidationError

from shared.celery_app import SENT_AT_HEADER, NewsflowCelery, Publisher
from shared.deadletters import DeadLetterStore
from shared.errors import DeadLetterReason, PermanentError, TransientError
from shared.keys import batch_starts_key, deliveries_key
from shared.messages import DeadLetter, EnrichedDocument, ParsedDocument
from shared.metrics import (
    BATCH_SIZE,
    DEAD_LETTERS,
    DOCUMENTS_PROCESSED,
    STAGE_DURATION,
    TASK_RETRIES,
)
from shared.receipts import Ledger, Redrive, State
from shared.redis_client import redis_client
from shared.settings import Settings
from shared.stages import TASK_NAMES, Stage

log = structlog.get_logger("newsflow.task")

# Errors that say "a server is not answering right now", not "this input is bad".
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    redis.ConnectionError,
    redis.TimeoutError,
    redis.exceptions.BusyLoadingError,  # a restarted Redis still loading its AOF
    BrokerError,
    sqlite3.OperationalError,  # "database is locked" while another writer holds it
)
# When a message first met a transient error: carried from retry to retry so the retry window
# is measured from the first failure, not from each attempt.
FIRST_FAILURE_HEADER = "newsflow_first_failure"


# A document's work after its checks: returns its outcome word.
Finish = Callable[[], str]


def _reraise(error: BaseException) -> str:
    raise error


def soft_limit_behind(error: BaseException) -> SoftTimeLimitExceeded | None:
    """The soft time limit that ``error`` was raised in answer to, if any: a limit that strikes
    inside a library comes out wrapped (kombu's ``EncodeError`` when it strikes while the result
    is being serialised for the next stage), and the document then stopped at its time limit, it
    did not fail."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, SoftTimeLimitExceeded):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def retry_countdown(retries: int, cap: int) -> float:
    """Exponential backoff with full jitter, so retrying workers do not stampede together; at
    least a second, the shortest delay RabbitMQ's native delayed delivery can express (kombu
    refuses a countdown that rounds down to zero)."""
    return max(1.0, random.uniform(0, min(cap, 2 ** (retries + 1))))  # noqa: S311  # jitter


def receipt_of(payload: Any, fallback: str) -> str:
    receipt = payload.get("receipt") if isinstance(payload, dict) else None
    return receipt if isinstance(receipt, str) and receipt else fallback


# What the worker's main process does with a message of a batch once the batch has run.
Verdict = Literal["ack", "requeue"]
# A message header: run this message by itself, never in a batch (see ``StageTask.run_batch``).
ALONE_HEADER = "newsflow_alone"


@dataclass(frozen=True)
class BatchItem:
    """One message of a batch as its child gets it: Celery's request (id, retries, headers,
    delivery info) and the task's one argument."""

    request: dict[str, Any]
    payload: Any

    @property
    def task_id(self) -> str:
        return str(self.request.get("id") or "")

    @property
    def retries(self) -> int:
        return int(self.request.get("retries") or 0)

    def context(self) -> dict[str, Any]:
        """The request context this message's task would run with (as Celery's tracer builds
        it), so ``self.request`` and ``self.retry`` see this message."""
        return {
            **self.request,
            "args": [self.payload],
            "kwargs": {},
            "called_directly": False,
            "is_eager": False,
        }


class StageTask(Task):  # type: ignore[misc]  # Celery's Task is untyped
    """Base class of every stage task; see the module docstring for what it owns."""

    abstract = True
    stage: ClassVar[Stage]
    payload_model: ClassVar[type[BaseModel]]
    acks_late = True
    reject_on_worker_lost = True
    # Celery's own retry limit (3 by default) would raise the original error out of
    # ``self.retry`` on the fourth retry, and the failed task's message would be acknowledged:
    # lost. The window and count of retries are ours (``_retry_or_give_up``), so Celery's is off.
    max_retries = None
    # The stage's work over several messages at once, returning each one's finishing step;
    # set by ``register_stage_task`` when the stage batches.
    run_many: ClassVar[Callable[[Any, list[Any]], list[Finish]] | None] = None

    # What the stage functions need from the worker, built once per process from the app.

    @property
    def settings(self) -> Settings:
        app: NewsflowCelery = self.app
        return app.settings

    @property
    def redis(self) -> redis.Redis:
        return redis_client(self.settings.redis_url)

    @cached_property
    def ledger(self) -> Ledger:
        return Ledger(self.redis, self.settings)

    @cached_property
    def publisher(self) -> Publisher:
        return Publisher(self.app)

    def forward(self, stage: Stage, message: BaseModel) -> None:
        """Hand the result to the next stage."""
        self.publisher.send(stage, message.model_dump(mode="json"))

    def report(
        self,
        doc: ParsedDocument,
        state: State,
        duplicate_of: str | None = None,
        adopt: Redrive | None = None,
    ) -> None:
        """Record in the ledger how far a document got (never backwards); an indexed
        near-duplicate says of what, so `submit --wait` and `status` can show it."""
        near = doc.near_duplicate_of if isinstance(doc, EnrichedDocument) else None
        self.ledger.advance(
            doc.receipt,
            state,
            adopt=adopt,
            filename=doc.filename,
            doc_id=doc.id,
            stage=self.stage,
            duplicate_of=duplicate_of,
            near_duplicate_of=near,
            similarity=doc.similarity if near and isinstance(doc, EnrichedDocument) else None,
        )

    # The task.

    def __call__(self, payload: Any) -> str:
        """Validate, run, classify: the task body only ever sees a valid message model."""
        receipt = receipt_of(payload, self.request.id)

        def work() -> str:
            deliveries = self._count_delivery(receipt)
            outcome = str(self.run(self.payload_model.model_validate(payload)))
            self._forget_delivery(deliveries)
            return outcome

        return self._process(payload, receipt, work, time.perf_counter(), batch=False)

    def _process(
        self, payload: Any, receipt: str, work: Finish, started: float, *, batch: bool
    ) -> str:
        """One message: its log context, ``work`` classified, its metrics and canonical line.

        In a batch (``batch``), the soft time limit is the batch's, not this document's: it is
        raised to the batch, which sends what it has not finished to run alone."""
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            task_id=self.request.id,
            stage=self.stage,
            receipt=receipt,
            doc_id=payload.get("id") if isinstance(payload, dict) else None,
        )
        outcome = "dead_letter"
        try:
            try:
                outcome = self._run_classified(payload, receipt, started, work, batch=batch)
            except SoftTimeLimitExceeded as late:
                if batch:
                    raise
                # The soft limit struck while a failure was being handled (a dead letter or a
                # retry waiting on a broker that is down): keep the message for redelivery.
                log.error("time limit while handling a failure; message kept")
                raise Reject(late, requeue=True) from late
        finally:
            duration = time.perf_counter() - started
            STAGE_DURATION.labels(stage=self.stage).observe(duration)
        DOCUMENTS_PROCESSED.labels(stage=self.stage, outcome=outcome).inc()
        log.info("message processed", outcome=outcome, duration_s=round(duration, 6))
        structlog.contextvars.clear_contextvars()
        return outcome

    def _run_classified(
        self, payload: Any, receipt: str, started: float, work: Finish, *, batch: bool
    ) -> str:
        try:
            outcome = str(work())
        except (Retry, Reject):
            raise
        except ValidationError as error:
            self._dead_letter(payload, receipt, "invalid_message", str(error))
        except SoftTimeLimitExceeded:
            if batch:
                raise
            self._dead_letter_timeout(payload, receipt, started)
        except PermanentError as error:
            self._dead_letter(payload, receipt, error.reason, error.detail)
        except TRANSIENT_ERRORS as error:
            self._retry_or_give_up(payload, receipt, error)
        except Exception as error:  # a bug must not lose the message: dead-letter it
            if (limit := soft_limit_behind(error)) is not None:
                if batch:
                    raise limit from error
                self._dead_letter_timeout(payload, receipt, started)
            else:
                self._dead_letter(payload, receipt, "internal_error", traceback.format_exc())
        else:
            return outcome
        return "dead_letter"

    def _dead_letter_timeout(self, payload: Any, receipt: str, started: float) -> None:
        soft, _ = self.settings.time_limits(self.stage)
        elapsed = time.perf_counter() - started
        self._dead_letter(
            payload,
            receipt,
            "timeout",
            f"{self.stage} stopped at its soft time limit of {soft:g} s (after {elapsed:.1f} s)",
        )

    # Batches: ``shared.batches`` hands a child several messages of this task at once.

    def run_batch(self, items: list[BatchItem], started: float) -> list[Verdict]:
        """Several messages in one child, each ending as it would alone (its outcome, dead letter
        or retry); the verdicts tell the worker's main process which messages to acknowledge and
        which to hand back to the broker. ``started`` is when the child took the batch.

        A batch of one takes the one-message path exactly. In a larger batch:

        * a message that was started before without finishing (its batch was killed, or ran
          out of time) is sent to run alone, so that a document that kills its process or
          outlasts the time limit takes only itself down and ends as it would alone;
        * the stage's work runs over the others together (``run_many``), then each document is
          finished (reported, forwarded) under its own log context and classification;
        * anything the batch as a whole raises sends each message down the one-message path, in
          this child: a poison document is dead-lettered with its reason, the rest go on;
        * the soft time limit, the batch's, sends every message not yet finished to run alone.
        """
        BATCH_SIZE.labels(stage=self.stage).observe(len(items))
        if len(items) == 1:
            return [self._one_message(items[0], started, batch=False)]
        verdicts: dict[int, Verdict] = {}
        finished: list[str] = []
        try:
            self._run_together(items, verdicts, started, finished)
        except SoftTimeLimitExceeded:
            unfinished = [i for i in range(len(items)) if i not in verdicts]
            log.warning(
                "batch stopped at its soft time limit; the rest runs alone",
                stage=self.stage,
                size=len(items),
                unfinished=len(unfinished),
            )
            for i in unfinished:
                verdicts[i] = self._send_alone(items[i])
        finally:
            self._forget_delivery(*finished)
        structlog.contextvars.clear_contextvars()
        return [verdicts[i] for i in range(len(items))]

    def _run_together(
        self,
        items: list[BatchItem],
        verdicts: dict[int, Verdict],
        started: float,
        finished: list[str],
    ) -> None:
        run_many = type(self).run_many
        try:
            together = self._start_batch(items, verdicts)
            messages: list[tuple[int, BaseModel]] = []
            for i in together:
                try:
                    messages.append((i, self.payload_model.model_validate(items[i].payload)))
                except ValidationError:
                    verdicts[i] = self._one_message(items[i], started, batch=True)
            if run_many is None:
                raise RuntimeError(f"{self.name} has no batch function")
            finishers = run_many(self, [message for _, message in messages]) if messages else []
        except SoftTimeLimitExceeded:
            raise
        except TRANSIENT_ERRORS as error:
            # A server is not answering: the batch was one attempt for each of its documents,
            # and each is retried (or dead-lettered once its window is over) as it would be
            # alone. Trying them again one by one would hold the rest for an attempt each (a
            # database pool gives up after seconds) while their receipts' clocks stand still.
            log.warning(
                "batch met a transient error; each of its messages is retried",
                stage=self.stage,
                size=len(items),
                error=repr(error),
            )
            for i, item in enumerate(items):
                if i not in verdicts:
                    verdicts[i] = self._verdict(item, partial(_reraise, error), started, batch=True)
            return
        except Exception as error:  # noqa: BLE001  # which document? each finds out alone
            log.warning(
                "batch failed as a whole; its messages run one by one",
                stage=self.stage,
                size=len(items),
                error=repr(error),
            )
            for i, item in enumerate(items):
                if i not in verdicts:
                    verdicts[i] = self._one_message(item, started, batch=True)
            return
        for (i, _), finish in zip(messages, finishers, strict=True):
            verdicts[i] = self._finish_in_batch(items[i], finish, started, finished)
        log.info(
            "batch processed",
            stage=self.stage,
            size=len(items),
            together=len(messages),
            duration_s=round(time.perf_counter() - started, 6),
        )

    def _start_batch(self, items: list[BatchItem], verdicts: dict[int, Verdict]) -> list[int]:
        """Count this start of each message (one pipeline) and restart its receipt's clock;
        send to run alone each one started before; the indices of the others."""
        pipe = self.redis.pipeline()
        for item in items:
            key = batch_starts_key(item.task_id, item.retries)
            pipe.incr(key)
            pipe.expire(key, 24 * 3600)
            pipe.get(deliveries_key(item.task_id, item.retries))
            self.ledger.touch(receipt_of(item.payload, item.task_id), pipe)
        replies = pipe.execute()
        together = []
        for i, item in enumerate(items):
            batch_starts, _, alone_starts, _ = replies[4 * i : 4 * i + 4]
            if int(batch_starts) > 1 or alone_starts is not None:
                verdicts[i] = self._send_alone(item)
            else:
                together.append(i)
        return together

    def _finish_in_batch(
        self, item: BatchItem, finish: Finish, started: float, finished: list[str]
    ) -> Verdict:
        """Finish one document of a batch; its start counter joins ``finished``, which the
        batch forgets in one command at its end (``run_batch``), not one round trip each."""

        def work() -> str:
            outcome = finish()
            finished.append(batch_starts_key(item.task_id, item.retries))
            return outcome

        return self._verdict(item, work, started, batch=True)

    def _one_message(self, item: BatchItem, started: float, *, batch: bool) -> Verdict:
        """The one-message path (``__call__``) for a message of a batch, in this child."""

        def work() -> str:
            deliveries = self._count_delivery(receipt_of(item.payload, item.task_id))
            outcome = str(self.run(self.payload_model.model_validate(item.payload)))
            self._forget_delivery(deliveries)
            return outcome

        return self._verdict(item, work, started, batch=batch)

    def _verdict(self, item: BatchItem, work: Finish, started: float, *, batch: bool) -> Verdict:
        """Run ``work`` for one message with that message's request as the task's (so a retry
        is published as Celery would publish it), and say what becomes of the message."""
        self.push_request(**item.context())
        try:
            receipt = receipt_of(item.payload, item.task_id)
            self._process(item.payload, receipt, work, started, batch=batch)
        except Retry:
            return "ack"  # the retry is queued; Celery acknowledges a retried message too
        except Reject as rejected:
            return "requeue" if rejected.requeue else "ack"
        finally:
            self.pop_request()
        return "ack"

    def _send_alone(self, item: BatchItem) -> Verdict:
        """Queue a copy of the message, same id and retry number, marked to run by itself;
        if it cannot be published, hand the message back to the broker instead."""
        headers = {ALONE_HEADER: True}
        first = item.request.get(FIRST_FAILURE_HEADER)
        if first is not None:
            headers[FIRST_FAILURE_HEADER] = first
        try:
            self.publisher.send(
                self.stage,
                item.payload if isinstance(item.payload, dict) else {},
                task_id=item.task_id,
                retries=item.retries,
                headers=headers,
            )
        except Exception as error:  # noqa: BLE001  # the broker is down: keep the message
            log.error("cannot send a message to run alone; message kept", error=repr(error))
            return "requeue"
        log.info("message sent to run alone", task_id=item.task_id, stage=self.stage)
        return "ack"

    def _count_delivery(self, receipt: str) -> str:
        """Count this start of this delivery; refuse one that has already killed its process
        ``max_deliveries`` times (each kill redelivers it, and it would kill the next one).

        The start also restarts the receipt's clock in the ledger: a message that waited in a
        backlog longer than the reconciler's deadline is being worked on now, not lost (in a
        database outage each attempt holds it for seconds, out of the queue)."""
        key = deliveries_key(self.request.id, int(self.request.retries or 0))
        pipe = self.redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, 24 * 3600)
        self.ledger.touch(receipt, pipe)
        starts = int(pipe.execute()[0])
        if starts > self.settings.max_deliveries:
            raise PermanentError(
                "worker_lost",
                f"started {starts - 1} times without finishing: the process running it died "
                "each time (out of memory, killed, or a crash in native code)",
            )
        return key

    def _forget_delivery(self, *keys: str) -> None:
        if not keys:
            return
        with suppress(*TRANSIENT_ERRORS):  # they expire on their own; the documents are done
            self.redis.delete(*keys)

    def _retry_or_give_up(self, payload: Any, receipt: str, error: BaseException) -> None:
        settings = self.settings
        now = time.time()
        first = float(getattr(self.request, FIRST_FAILURE_HEADER, None) or now)
        retries = int(self.request.retries or 0)
        if retries >= settings.task_max_retries or now - first >= settings.retry_for_seconds:
            self._dead_letter(
                payload,
                receipt,
                "retries_exhausted",
                f"{retries} retries over {now - first:.0f} s; last error: {error!r}",
            )
            return
        TASK_RETRIES.labels(stage=self.stage).inc()
        countdown = retry_countdown(retries, settings.retry_backoff_max)
        log.warning("transient error, retrying", error=repr(error), countdown=round(countdown, 2))
        try:
            retry = self.retry(
                exc=error,
                countdown=countdown,
                max_retries=None,
                headers={FIRST_FAILURE_HEADER: first, SENT_AT_HEADER: now},
                throw=False,
            )
        except Reject as unpublished:
            # Celery drops the message (requeue=False) when it cannot publish the retry, i.e.
            # exactly when the broker is down. Keep it instead: unacknowledged, it comes back.
            log.error("cannot publish the retry; message kept", error=repr(unpublished.reason))
            raise Reject(unpublished.reason, requeue=True) from error
        except Exception as unexpected:  # noqa: BLE001  # escaping would ack (lose) the message
            log.error("cannot retry; message kept", error=repr(unexpected))
            raise Reject(unexpected, requeue=True) from error
        # The receipt has not moved, but it is not lost: restart its clock in the ledger, after
        # the retry is queued (the reconciler compares the clock with its queue's oldest
        # message), so the reconciler leaves it to the retries. Best effort: if Redis is down
        # too, the reconciler at worst sends it once more, which changes nothing.
        with suppress(*TRANSIENT_ERRORS):
            self.ledger.touch(receipt)
        raise retry from error

    def on_failure(
        self,
        exc: BaseException,
        task_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        einfo: Any,
    ) -> None:
        """Called in the worker's main process when the hard time limit killed the child (and
        for failures ``__call__`` let through): dead-letter the message before Celery
        acknowledges it, so a document that hangs a process is not silently dropped."""
        if not isinstance(exc, TimeLimitExceeded):
            return
        payload = args[0] if args else None
        _, hard = self.settings.time_limits(self.stage)
        structlog.contextvars.bind_contextvars(task_id=task_id, stage=self.stage)
        try:
            self._dead_letter(
                payload,
                receipt_of(payload, task_id),
                "timeout",
                f"{self.stage} killed at its hard time limit of {hard:g} s",
            )
        except Reject:
            # Redis is down: Celery acknowledges the message regardless, but the receipt is
            # still pending in the ledger, so the reconciler drives it again later.
            return
        finally:
            structlog.contextvars.clear_contextvars()
        DOCUMENTS_PROCESSED.labels(stage=self.stage, outcome="dead_letter").inc()

    def _dead_letter(
        self, payload: Any, receipt: str, reason: DeadLetterReason, error: str
    ) -> None:
        """Store the original payload with the reason; if even that fails, requeue the message."""
        letter = DeadLetter(
            stage=self.stage,
            receipt=receipt,
            reason=reason,
            error=error[-4000:],
            failed_at=datetime.now(UTC),
            task_name=self.name,
            payload=payload if isinstance(payload, dict) else {"value": repr(payload)[:4000]},
            doc_id=structlog.contextvars.get_contextvars().get("doc_id"),
        )
        try:
            # The store gives the receipt's claim-checked bytes the dead letters' TTL.
            DeadLetterStore.for_settings(self.redis, self.settings).add(letter)
            self.ledger.advance(
                receipt,
                "dead_letter",
                stage=self.stage,
                reason=reason,
                error=error[:500],
                filename=str(letter.payload.get("filename", "")) or None,
                doc_id=letter.doc_id,
            )
        except TRANSIENT_ERRORS as store_error:
            # Acking now would lose the message: hand it back to the broker instead.
            log.error("cannot store dead letter, requeueing", error=repr(store_error))
            raise Reject(store_error, requeue=True) from store_error
        DEAD_LETTERS.labels(stage=self.stage, reason=reason).inc()
        log.error("message dead-lettered", reason=reason, error=error[:500])


def register_stage_task(
    app: NewsflowCelery,
    stage: Stage,
    run: Any,
    payload_model: type[BaseModel],
    run_many: Callable[[Any, list[Any]], list[Finish]] | None = None,
) -> Any:
    """Add a stage's task to ``app``: bound (``run(task, message)``), named and routed by
    stage, with the stage's time limits from the app's settings. With ``run_many`` (the
    stage's work over several messages, one finishing step each) and a batch size above one
    in the settings, the worker consumes it in batches (``shared.batches``)."""
    soft, hard = app.settings.time_limits(stage)
    options: dict[str, Any] = {}
    size, _ = app.settings.batching(stage)
    if run_many is not None and size > 1:
        options["Strategy"] = "shared.batches:batching_strategy"
        options["run_many"] = staticmethod(run_many)
        # The buffer fills from the prefetched messages: room for a batch running in each
        # child and the next one filling (see ``shared.batches``).
        app.conf.worker_prefetch_multiplier = 2 * size
    return app.task(
        base=StageTask,
        bind=True,
        name=TASK_NAMES[stage],
        stage=stage,
        payload_model=payload_model,
        soft_time_limit=soft,
        time_limit=hard,
        **options,
    )(run)
