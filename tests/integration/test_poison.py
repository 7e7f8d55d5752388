"""Poison messages put straight onto each stage's queue: dead-lettered, the worker lives on.

Before the consumer screened messages, a body of ``null``, ``{}`` or ``[[x]]`` killed the
worker on every restart, other malformed envelopes killed it once and vanished, and a task
called with the wrong arguments was acknowledged silently. Here every kind goes onto every
queue of three real workers, raw, as a broken or hostile producer would send it; each must be
a dead letter ``invalid_message`` with its bytes, and a good file sent after them must still be
indexed.
"""

from __future__ import annotations

import json
import pickle
import time
import uuid
from pathlib import Path

import pytest
import redis
from kombu import Connection

from shared.deadletters import DeadLetterStore
from shared.stages import STAGES, TASK_NAMES
from tests.integration.conftest import Pipeline

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

GOOD_TEXT = "Белорусский технопарк растёт\n\nВ Минске открылся ещё один корпус технопарка.\n"


def _poison(stage: str, oversize: int) -> dict[str, tuple[dict[str, object] | None, str, bytes]]:
    """Each kind of poison: (headers, content type, body)."""

    def headers(task: str = TASK_NAMES[stage]) -> dict[str, object]:  # type: ignore[index]
        return {"task": task, "id": f"poison-{uuid.uuid4().hex}", "lang": "py"}

    call = json.dumps([[{"receipt": "r"}], {}, {}]).encode()
    return {
        "null body": (headers(), "application/json", b"null"),
        "empty object body": (headers(), "application/json", b"{}"),
        "list of lists body": (headers(), "application/json", b'[["x"]]'),
        "not JSON": (headers(), "application/json", b"\xff\xfe{not json"),
        "pickle": (headers(), "application/x-python-serialize", pickle.dumps({"receipt": "p"})),
        "YAML": (headers(), "application/x-yaml", b"!!python/object/apply:os.system ['id']"),
        "unknown task": (headers("newsflow.evil"), "application/json", call),
        "another stage's task": (
            headers(TASK_NAMES["index" if stage != "index" else "ingest"]),
            "application/json",
            call,
        ),
        "no headers": (None, "application/json", call),
        "no task id": ({"task": TASK_NAMES[stage]}, "application/json", call),  # type: ignore[index]
        "two arguments": (headers(), "application/json", b'[[{"a": 1}, 2], {}, {}]'),
        "keyword arguments": (headers(), "application/json", b'[[{"a": 1}], {"x": 1}, {}]'),
        "a string argument": (headers(), "application/json", b'[["text"], {}, {}]'),
        "deeply nested": (headers(), "application/json", b"[" * 100_000 + b"]" * 100_000),
        "oversized": (headers(), "application/json", b'[["' + b"x" * oversize + b'"], {}, {}]'),
        "wrong payload": (headers(), "application/json", call),  # right shape, not the model
    }


def _publish(
    url: str, queue: str, headers: dict[str, object] | None, ctype: str, body: bytes
) -> None:
    with Connection(url) as connection:
        connection.Producer().publish(
            body,
            exchange="",
            routing_key=queue,
            headers=headers or {},
            content_type=ctype,
            content_encoding="binary" if ctype != "application/json" else "utf-8",
        )


def test_every_poison_kind_on_every_queue_is_dead_lettered_and_workers_live(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    url = pipeline.env["NEWSFLOW_REDIS_URL"]
    client = redis.Redis.from_url(url)
    letters_before = DeadLetterStore(client).count()
    # The pipeline fixture limits files to 64 KiB, so messages over 4 * 64 KiB + 1 MiB are
    # oversized.
    oversize = 2 * 1024 * 1024
    sent = 0
    for stage in STAGES:
        for headers, ctype, body in _poison(stage, oversize).values():
            _publish(url, stage, headers, ctype, body)
            sent += 1

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and DeadLetterStore(client).count() < letters_before + sent:
        time.sleep(0.3)
    letters = DeadLetterStore(client).list()
    assert len(letters) - letters_before == sent, [(x.stage, x.error[:80]) for x in letters]
    assert {letter.reason for letter in letters} == {"invalid_message"}
    for stage in STAGES:
        assert sum(letter.stage == stage for letter in letters) >= len(_poison(stage, 1))
    assert all("body_b64" in letter.payload or "receipt" in letter.payload for letter in letters), (
        "a refused message keeps its raw bytes"
    )
    assert pipeline.all_alive(), "a poison message stopped a worker"

    good = tmp_path / "good.txt"
    good.write_text(GOOD_TEXT, encoding="utf-8")
    (outcome,) = pipeline.submit_and_wait(good)
    assert outcome["state"] == "indexed"
    assert pipeline.all_alive()
    for stage in STAGES:
        assert "Unrecoverable error" not in pipeline.log_text(stage)
