"""Batch consumption: a worker hands a child several messages of its stage's task at once.

The worker's main process keeps the messages it receives (prefetched, unacknowledged: late
acks) in a buffer, and hands a free child a batch when the buffer holds the stage's batch size
or its oldest message has waited the batch wait (``NEWSFLOW_<STAGE>_BATCH_SIZE``,
``NEWSFLOW_<STAGE>_BATCH_WAIT_MS``). The child runs ``StageTask.run_batch``, which ends each
document as it would end alone (outcome, dead letter, retry) and says for each message whether
to acknowledge it or hand it back; only then does this process acknowledge it. So:

* a batch lost with its child (killed, out of memory, the hard time limit) is handed back
  whole, and each of its messages, started once already, then runs alone (``run_batch``): a
  document that kills its process takes only itself down, and ends ``worker_lost`` or
  ``timeout`` exactly as it does without batches; a batch lost with the whole worker comes back
  from the broker (visibility timeout, connection closed) and the receipt ledger;
* a batch goes to a child only when one is free, so no message waits behind more than one run,
  and the visibility timeout's reasoning (``Settings.min_visibility_timeout``) holds;
* a message marked to run alone takes Celery's own one-message path, unchanged; a retry waits
  out its countdown here and then joins a batch.

Why not ``celery-batches``: its ``flush`` hands the pool the batch without the task's time
limits (a batch may run for ever), without an error callback (a batch lost with its child is
neither acknowledged nor handed back: on RabbitMQ its messages stay unacknowledged until the
worker restarts) and acknowledges every message when the batch returns, even when the batch
raised. Those three are the whole of what this module must get right; its buffer and timer are
the few lines left, and this module follows its design (a task ``Strategy``).

What this module must never do: acknowledge a message before its document has an outcome.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from time import monotonic, perf_counter, time
from typing import Any

import structlog
from billiard.einfo import ExceptionWithTraceback
from celery import signals
from celery._state import get_current_app
from celery.exceptions import TimeLimitExceeded
from celery.utils.imports import symbol_by_name
from celery.worker.request import Request, create_request_cls
from celery.worker.state import task_ready, task_reserved
from celery.worker.strategy import default as default_strategy

from shared.tasks import ALONE_HEADER, BatchItem, StageTask, Verdict

log = structlog.get_logger("newsflow.batches")


def run_batch(task_name: str, messages: list[tuple[dict[str, Any], Any]]) -> list[Verdict]:
    """In the child: the task's batch over (request, body) pairs, one verdict per message.
    Its clock starts here, with the time limits', before the bodies are decoded."""
    started = perf_counter()
    task: StageTask = get_current_app().tasks[task_name]
    items = [BatchItem(request, _argument(body)) for request, body in messages]
    return task.run_batch(items, started)


def _argument(body: Any) -> Any:
    """The task's one argument from a message body the consumer has already screened
    (``shared.consumer``); anything else becomes ``None``, which the task dead-letters as
    ``invalid_message`` rather than failing its batch."""
    try:
        args, _, _ = json.loads(body)
        return args[0]
    except (ValueError, TypeError, IndexError):
        return None


def batching_strategy(task: StageTask, app: Any, consumer: Any, **kwargs: Any) -> Any:
    """Celery's hook for how a worker handles its task's messages (``Task.Strategy``)."""
    return Batcher(task, app, consumer, default_strategy(task, app, consumer, **kwargs))


@dataclass
class BatchBuffer:
    """When messages make a batch: ``size`` of them, or fewer once the oldest has waited
    ``wait`` seconds, and only for a free child. Pure (times are given), so it is unit-tested."""

    size: int
    wait: float
    waiting: list[tuple[float, Any]] = field(default_factory=list)

    def add(self, item: Any, now: float) -> None:
        self.waiting.append((now, item))

    def take(self, now: float, free_children: int) -> list[list[Any]]:
        """The batches to hand over now, at most one per free child."""
        taken: list[list[Any]] = []
        while self.waiting and len(taken) < free_children:
            if len(self.waiting) < self.size and now < self.waiting[0][0] + self.wait:
                break
            taken.append([item for _, item in self.waiting[: self.size]])
            del self.waiting[: self.size]
        return taken

    def due(self) -> float | None:
        """When the oldest message will have waited long enough (None: nothing waits)."""
        return self.waiting[0][0] + self.wait if self.waiting else None


class Batcher:
    """The buffer of one worker's messages of one task, and the batches in its children."""

    def __init__(self, task: StageTask, app: Any, consumer: Any, one_by_one: Any) -> None:
        self.task = task
        self.app = app
        self.consumer = consumer
        self.one_by_one = one_by_one
        self.buffer = BatchBuffer(*app.settings.batching(task.stage))
        self.soft, self.hard = app.settings.time_limits(task.stage)
        self.running = 0
        self.timer: Any = None
        self.request_class = create_request_cls(
            symbol_by_name(task.Request),
            task,
            consumer.pool,
            consumer.hostname,
            consumer.event_dispatcher,
            app=app,
        )

    def __call__(
        self, message: Any, body: Any, ack: Any, reject: Any, callbacks: Any, **kwargs: Any
    ) -> Any:
        headers = message.headers or {}
        if headers.get(ALONE_HEADER):
            return self.one_by_one(message, body, ack, reject, callbacks, **kwargs)
        request = self.request_class(
            message,
            on_ack=ack,
            on_reject=reject,
            app=self.app,
            hostname=self.consumer.hostname,
            eventer=self.consumer.event_dispatcher,
            task=self.task,
            connection_errors=self.consumer.connection_errors,
            body=message.body,
            headers=headers,
            decoded=False,
            utc=True,
        )
        signals.task_received.send(sender=self.consumer, request=request)
        request.send_event(
            "task-received",
            name=request.name,
            args=request.argsrepr,
            kwargs=request.kwargsrepr,
            root_id=request.root_id,
            parent_id=request.parent_id,
            retries=request.request_dict.get("retries", 0),
        )
        eta = request.eta
        if eta is not None and eta.timestamp() > time():
            # A retry's countdown (Redis delivers it at once): held here until it is due, as
            # Celery holds one, with room in the prefetch for it; then it joins a batch, so the
            # retries of a batch that met an outage are tried again together, one attempt for
            # all, not one slow attempt each while their receipts' clocks stand still.
            self.consumer.qos.increment_eventually()
            self.consumer.timer.call_at(eta, self._due, (request,), priority=6)
            return None
        self._add(request)
        return None

    def _due(self, request: Request) -> None:
        self.consumer.qos.decrement_eventually()
        self._add(request)

    def _add(self, request: Request) -> None:
        task_reserved(request)
        self.buffer.add(request, monotonic())
        self.flush()

    def children(self) -> int:
        pool = self.consumer.pool
        return int(getattr(pool, "num_processes", None) or getattr(pool, "limit", None) or 1)

    def flush(self) -> None:
        """Hand free children their batches: full ones, or the one whose oldest message has
        waited long enough; otherwise wake up when it will have."""
        for batch in self.buffer.take(monotonic(), self.children() - self.running):
            self._hand_over(batch)
        due = self.buffer.due()
        if due is not None and self.timer is None and self.running < self.children():
            self.timer = self.consumer.timer.call_after(max(0.0, due - monotonic()), self._wake)

    def _wake(self) -> None:
        self.timer = None
        self.flush()

    def _hand_over(self, batch: list[Request]) -> None:
        self.running += 1
        settled = False

        def settle(verdicts: list[Verdict] | None, error: BaseException | None) -> None:
            nonlocal settled
            if settled:
                return
            settled = True
            self.running -= 1
            try:
                self._settle(batch, verdicts, error)
            finally:
                self.flush()

        def on_accepted(pid: int, time_accepted: float) -> None:
            for request in batch:
                request.on_accepted(pid, time_accepted)

        try:
            self.consumer.pool.apply_async(
                run_batch,
                args=(self.task.name, [(r.request_dict, r.body) for r in batch]),
                accept_callback=on_accepted,
                callback=lambda verdicts: settle(verdicts, None),
                error_callback=lambda einfo: settle(None, _exception(einfo)),
                soft_timeout=self.soft,
                timeout=self.hard,
            )
        except Exception as error:  # noqa: BLE001  # the pool is closing: hand them back
            settle(None, error)

    def _settle(
        self, batch: list[Request], verdicts: list[Verdict] | None, error: BaseException | None
    ) -> None:
        """Acknowledge or hand back each message of a batch that has run (or was lost)."""
        if verdicts is None or len(verdicts) != len(batch):
            if len(batch) == 1 and isinstance(error, TimeLimitExceeded):
                # One message killed at the hard limit: the task's own handling, as without
                # batches (the main process dead-letters it as ``timeout``, then acknowledges).
                batch[0].on_timeout(soft=False, timeout=self.hard)
                return
            log.error(
                "batch lost; its messages go back to the queue, to run alone",
                stage=self.task.stage,
                size=len(batch),
                error=repr(error),
            )
            verdicts = ["requeue"] * len(batch)
        for request, verdict in zip(batch, verdicts, strict=True):
            task_ready(request)
            if verdict == "ack":
                request.acknowledge()
                request.send_event("task-succeeded", result=None, runtime=None)
            else:
                request.reject(requeue=True)


def _exception(einfo: Any) -> BaseException:
    exc = getattr(einfo, "exception", einfo)
    if isinstance(exc, ExceptionWithTraceback):
        exc = exc.exc
    return exc if isinstance(exc, BaseException) else RuntimeError(repr(exc))
