"""The consumer's screen: every kind of message that is not a well-formed call of one of our
tasks is refused with a reason before Celery builds a ``Request`` from it (where it would have
killed the worker, or vanished)."""

from __future__ import annotations

import json
import pickle

import pytest

from shared.consumer import MAX_NESTING, Refused, max_message_bytes, nesting_depth, screen

TASKS = frozenset({"enrich.document"})
HEADERS = {"task": "enrich.document", "id": "t-1"}
GOOD = json.dumps([[{"receipt": "r1"}], {}, {"callbacks": None}]).encode()
LIMIT = 1024 * 1024


def test_a_well_formed_call_gives_its_one_argument() -> None:
    assert screen(HEADERS, "application/json", GOOD, TASKS, LIMIT) == {"receipt": "r1"}


@pytest.mark.parametrize(
    ("headers", "content_type", "body", "why"),
    [
        (HEADERS, "application/json", b"null", "not a task call"),
        (HEADERS, "application/json", b"{}", "not a task call"),
        (HEADERS, "application/json", b'[["x"]]', "not a task call"),
        (HEADERS, "application/json", b"\xff\xfe not json", "not JSON"),
        (HEADERS, "application/json", b"[1, 2, 3]", "arguments are not"),
        (HEADERS, "application/json", b'[[{"a": 1}, 2], {}, {}]', "wrong arguments"),
        (HEADERS, "application/json", b'[[{"a": 1}], {"x": 1}, {}]', "wrong arguments"),
        (HEADERS, "application/json", b"[[], {}, {}]", "wrong arguments"),
        (HEADERS, "application/json", b'[["a string"], {}, {}]', "not an object"),
        (HEADERS, "application/json", b'[[{"a": 1}], {}, 5]', "embed"),
        (HEADERS, "application/x-python-serialize", pickle.dumps({"a": 1}), "pickle"),
        (HEADERS, "application/x-yaml", b"!!python/object:os.system ls", "YAML"),
        ({"task": "index.document", "id": "t"}, "application/json", GOOD, "unknown task"),
        ({"id": "t"}, "application/json", GOOD, "no task name"),
        ({"task": "enrich.document"}, "application/json", GOOD, "no task id"),
        (None, "application/json", GOOD, "no task headers"),
        ("headers", "application/json", GOOD, "no task headers"),
        (HEADERS, "application/json", b"[" * 5000 + b"]" * 5000, "nests deeper"),
        (HEADERS, "application/json", b"[" * 40 + b"]" * 40, "nests deeper"),
        (HEADERS, "application/json", b" " * (LIMIT + 1), "over the limit"),
    ],
)
def test_every_bad_message_is_refused_with_its_reason(
    headers: object, content_type: str, body: bytes, why: str
) -> None:
    with pytest.raises(Refused, match=why):
        screen(headers, content_type, body, TASKS, LIMIT)


def test_nesting_depth_is_counted_without_recursion() -> None:
    """A structure far deeper than the interpreter's recursion limit is measured, not crashed
    on (the walk is iterative and stops just past the limit)."""
    deep: list[object] = []
    for _ in range(50_000):
        deep = [deep]
    assert nesting_depth(deep, MAX_NESTING) == MAX_NESTING + 1
    assert nesting_depth({"a": [1, {"b": []}]}, MAX_NESTING) == 4
    assert nesting_depth("flat", MAX_NESTING) == 0


def test_the_message_limit_leaves_room_for_a_whole_document() -> None:
    """An enriched document of a file at the size limit must still pass the screen."""
    assert max_message_bytes(10 * 1024 * 1024) > 4 * 10 * 1024 * 1024
