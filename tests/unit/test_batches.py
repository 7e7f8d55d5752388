"""When the worker's buffer makes a batch (``shared.batches.BatchBuffer``), and what a batch's
message carries to its child (``shared.tasks.BatchItem``)."""

from __future__ import annotations

from shared.batches import BatchBuffer, _argument
from shared.tasks import BatchItem


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
