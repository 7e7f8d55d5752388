"""When the worker's buffer makes a batch (``shared.batches.BatchBuffer``), and what a batch's
message carries to its child (``shared.tasks.BatchItem``)."""

from __future__ import annotations

import time
from typing import Any

import fakeredis
import pytest
from celery.exceptions import Retry
from prometheus_client import REGISTRY
from pydantic import BaseModel

from shared import tasks
from shared.batches import BatchBuffer, _argument
from shared.celery_app import make_celery
from shared.deadletters import DeadLetterStore
from shared.errors import TransientError
from shared.keys import batch_starts_key, deliveries_key
from shared.settings import Settings
from shared.tasks import ALONE_HEADER, BatchItem, Finish, StageTask


def test_a_full_batch_goes_at_once() -> None:
    buffer = BatchBuffer(size=3, wait=0.2)
    for n in range(7):
        buffer.add(n, now=10.0)
    assert buffer.take(now=10.0, free_children=2) == [[0, 1, 2], [3, 4, 5]]
    assert buffer.due() == 10.2, "the one left waits for its time"


def test_a_partial_batch_waits_until_its_oldest_has_waited_long_enough() -> None:
    buffer = BatchBuffer(size=16, wait=0.2)
    buffer.add("a", now=10.0)
    buffer.add("b", now=10.15)
    assert buffer.take(now=10.1, free_children=2) == []
    assert buffer.due() == 10.2
    assert buffer.take(now=10.2, free_children=2) == [["a", "b"]]
    assert buffer.due() is None


def test_batches_go_only_to_free_children() -> None:
    """A batch handed to a busy pool would wait behind another run, unseen: it waits here, and
    fills meanwhile."""
    buffer = BatchBuffer(size=2, wait=0.0)
    for n in range(5):
        buffer.add(n, now=1.0)
    assert buffer.take(now=2.0, free_children=0) == []
    assert buffer.take(now=2.0, free_children=1) == [[0, 1]]
    assert buffer.take(now=2.0, free_children=5) == [[2, 3], [4]]


def test_a_batch_of_one_message_goes_when_the_wait_is_zero() -> None:
    buffer = BatchBuffer(size=16, wait=0.0)
    buffer.add("only", now=5.0)
    assert buffer.take(now=5.0, free_children=1) == [["only"]]


def test_the_child_reads_the_one_argument_and_turns_anything_else_into_none() -> None:
    """None is dead-lettered by the task as invalid_message; it must not fail the batch."""
    assert _argument(b'[[{"receipt": "r"}], {}, {}]') == {"receipt": "r"}
    assert _argument(b"not json") is None
    assert _argument(b"[[], {}, {}]") is None
    assert _argument(b"null") is None


def test_a_batch_item_runs_with_its_own_request() -> None:
    """Retries and dead letters read the request: each message's own, not the batch's."""
    item = BatchItem({"id": "t1", "retries": 2, "newsflow_first_failure": 5.0}, {"id": "d"})
    assert (item.task_id, item.retries) == ("t1", 2)
    context = item.context()
    assert context["args"] == [{"id": "d"}]
    assert context["called_directly"] is False
    assert context["newsflow_first_failure"] == 5.0


# What a child does with a batch (``StageTask.run_batch``), over fakeredis and a recording
# publisher: no broker, no worker.


class Doc(BaseModel):
    receipt: str
    id: str
    title: str


class RecordingPublisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def send(self, stage: str, payload: dict[str, Any], **options: Any) -> None:
        self.sent.append((stage, payload, options))


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> fakeredis.FakeRedis:
    fake = fakeredis.FakeRedis()
    monkeypatch.setattr(tasks, "redis_client", lambda _url: fake)
    return fake


def batch_task(
    settings: Settings,
    done: list[str],
    batch_calls: list[list[str]],
    batch_error: Exception | None = None,
) -> tuple[StageTask, RecordingPublisher]:
    """A stage task whose work fails on a document titled ``poison``, alone and in a batch,
    and whose batch raises ``batch_error`` when given."""

    def one(task: StageTask, doc: Doc) -> str:
        if doc.title == "poison":
            raise RuntimeError("a bug this document sets off")
        done.append(doc.id)
        return "enriched"

    def many(task: StageTask, docs: list[Doc]) -> list[Finish]:
        batch_calls.append([doc.id for doc in docs])
        if batch_error is not None:
            raise batch_error
        if any(doc.title == "poison" for doc in docs):
            raise RuntimeError("a bug this document sets off, somewhere in the batch")
        return [lambda doc=doc: (done.append(doc.id), "enriched")[1] for doc in docs]

    app = make_celery(settings)
    task = app.task(
        base=StageTask,
        bind=True,
        name="test.batch",
        stage="enrich",
        payload_model=Doc,
        run_many=staticmethod(many),
    )(one)
    publisher = RecordingPublisher()
    task.publisher = publisher
    return task, publisher


def items(*titles: str) -> list[BatchItem]:
    return [
        BatchItem(
            {"id": f"task-{n}", "retries": 0}, {"receipt": f"r{n}", "id": f"d{n}", "title": t}
        )
        for n, t in enumerate(titles)
    ]


def test_a_batch_runs_its_work_together_and_finishes_each_document(
    client: fakeredis.FakeRedis,
) -> None:
    done: list[str] = []
    calls: list[list[str]] = []
    task, publisher = batch_task(Settings(_env_file=None), done, calls)
    verdicts = task.run_batch(items("a", "b", "c"), time.perf_counter())
    assert verdicts == ["ack", "ack", "ack"]
    assert calls == [["d0", "d1", "d2"]]
    assert done == ["d0", "d1", "d2"]
    assert publisher.sent == []
    assert client.keys("newsflow:batch-starts:*") == [], "a finished message forgets its starts"


def test_a_poison_document_fails_only_itself_not_its_batch(client: fakeredis.FakeRedis) -> None:
    """The batch raises as a whole; each message then takes the one-message path in the same
    child: the poison one is dead-lettered as internal_error, the others finish."""
    done: list[str] = []
    calls: list[list[str]] = []
    task, _ = batch_task(Settings(_env_file=None), done, calls)
    verdicts = task.run_batch(items("a", "poison", "c"), time.perf_counter())
    assert verdicts == ["ack", "ack", "ack"]
    assert done == ["d0", "d2"]
    [letter] = DeadLetterStore(client).list()
    assert (letter.receipt, letter.reason) == ("r1", "internal_error")
    assert "a bug this document sets off" in letter.error
    assert letter.payload["title"] == "poison", "the letter keeps the payload to replay"


def test_a_message_started_before_in_a_batch_is_sent_to_run_alone(
    client: fakeredis.FakeRedis,
) -> None:
    """Its batch was lost (killed, or out of time): it may be what lost it, so it runs alone,
    same id and retry number, and the others go on together."""
    done: list[str] = []
    calls: list[list[str]] = []
    task, publisher = batch_task(Settings(_env_file=None), done, calls)
    client.set(batch_starts_key("task-1", 0), 1)
    verdicts = task.run_batch(items("a", "b", "c"), time.perf_counter())
    assert verdicts == ["ack", "ack", "ack"]
    assert calls == [["d0", "d2"]]
    [(stage, payload, options)] = publisher.sent
    assert (stage, payload["id"]) == ("enrich", "d1")
    assert (options["task_id"], options["retries"]) == ("task-1", 0)
    assert options["headers"][ALONE_HEADER] is True


def test_a_batch_of_one_takes_the_one_message_path(client: fakeredis.FakeRedis) -> None:
    """Counted as a delivery of its own, so worker_lost and timeout apply as without batches."""
    done: list[str] = []
    calls: list[list[str]] = []
    task, _ = batch_task(Settings(_env_file=None, max_deliveries=1), done, calls)
    client.set(deliveries_key("task-0", 0), 1)  # its process died under it once already
    assert task.run_batch(items("a"), time.perf_counter()) == ["ack"]
    assert (calls, done) == ([], [])
    [letter] = DeadLetterStore(client).list()
    assert letter.reason == "worker_lost"


def test_a_batch_that_meets_a_transient_error_retries_each_message_once(
    client: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index is down: the batch was one attempt for each document, and each is retried
    from there, with its own request, not tried again one by one (each try may hold the rest
    for seconds while their receipts' clocks stand still, and the reconciler drives them)."""
    done: list[str] = []
    calls: list[list[str]] = []
    task, _ = batch_task(Settings(_env_file=None), done, calls, TransientError("index down"))
    retried: list[str] = []

    def retry(**options: Any) -> Retry:
        retried.append(task.request.id)
        return Retry()

    monkeypatch.setattr(task, "retry", retry)
    verdicts = task.run_batch(items("a", "b", "c"), time.perf_counter())
    assert verdicts == ["ack", "ack", "ack"], "each retry is queued: the message is done with"
    assert calls == [["d0", "d1", "d2"]], "one attempt"
    assert retried == ["task-0", "task-1", "task-2"]
    assert done == []
    assert DeadLetterStore(client).list() == []


def _batch_sizes(stage: str) -> tuple[float, ...]:
    """Batches, messages, and batches of 2 or fewer and of 4 or fewer messages the batch-size
    histogram has counted for ``stage`` so far."""
    name = "newsflow_batch_size_messages"
    return tuple(
        REGISTRY.get_sample_value(f"{name}_{sample}", {"stage": stage, **labels}) or 0.0
        for sample, labels in (
            ("count", {}),
            ("sum", {}),
            ("bucket", {"le": "2.0"}),
            ("bucket", {"le": "4.0"}),
        )
    )


def test_each_batch_is_counted_with_its_size(client: fakeredis.FakeRedis) -> None:
    """``newsflow_batch_size_messages`` says how full the batches run: one observation per
    batch a child takes, of its number of messages (a batch of one included)."""
    done: list[str] = []
    calls: list[list[str]] = []
    task, _ = batch_task(Settings(_env_file=None), done, calls)
    before = _batch_sizes("enrich")
    task.run_batch(items("a", "b", "c"), time.perf_counter())
    task.run_batch(items("d"), time.perf_counter())
    after = _batch_sizes("enrich")
    assert [b - a for a, b in zip(before, after, strict=True)] == [2, 4, 1, 2]
