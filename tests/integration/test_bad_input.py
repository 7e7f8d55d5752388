"""Bad input through the real workers: each kind dead-lettered with its reason, nothing lost,
no worker down, and a dead letter replayable once its cause is fixed."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
from celery import Celery

from tests.integration.conftest import Pipeline

pytestmark = pytest.mark.integration

GOOD_TEXT = "Минский технопарк открыл новый корпус\n\nВ Минске открылся новый корпус технопарка.\n"


def _bad_files(folder: Path) -> dict[str, Path]:
    random.seed(7)
    files = {
        "binary": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200),
        "empty": b"  \r\n\t\n\n   \n",
        "too_large": ("Слово " * 20_000).encode(),  # ~140 KB, over the 64 KiB test limit
        "undecodable": bytes(random.randrange(0x80, 0x100) for _ in range(600)),
    }
    paths = {}
    for reason, data in files.items():
        path = folder / f"{reason}.txt"
        path.write_bytes(data)
        paths[reason] = path
    return paths


def _wait_state(pipeline: Pipeline, receipt: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = pipeline.newsflow("status", receipt)
        record: dict[str, Any] = json.loads(result.stdout)
        if record["state"] in ("indexed", "duplicate", "dead_letter"):
            return record
        time.sleep(0.3)
    pytest.fail(f"no final state for {receipt}")


def test_each_bad_input_is_dead_lettered_with_its_reason(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """Bad files must never crash a worker or vanish: each gets a dead letter naming why."""
    paths = _bad_files(tmp_path)
    outcomes = pipeline.submit_and_wait(*paths.values())
    by_file = {Path(o["file"]).stem: o for o in outcomes}
    assert {name: o["state"] for name, o in by_file.items()} == dict.fromkeys(paths, "dead_letter")
    assert {name: o["reason"] for name, o in by_file.items()} == {name: name for name in paths}

    listed = pipeline.newsflow("dlq", "list", "--json")
    letters = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {letter["reason"] for letter in letters} >= set(paths)

    shown = json.loads(pipeline.newsflow("dlq", "show", by_file["binary"]["receipt"]).stdout)
    assert shown["stage"] == "ingest"
    assert shown["payload"]["content_b64"], "the dead letter must keep the original bytes"
    assert "NUL" in shown["error"]
    assert pipeline.all_alive()

    # The workers keep working after bad input.
    good = tmp_path / "good.txt"
    good.write_text(GOOD_TEXT, encoding="utf-8")
    assert [o["state"] for o in pipeline.submit_and_wait(good)] == ["indexed"]


def test_too_large_file_is_replayed_after_it_is_fixed(pipeline: Pipeline, tmp_path: Path) -> None:
    """`dlq replay` re-reads a file that was refused unread, once the cause is gone."""
    big = tmp_path / "report.txt"
    big.write_text("Отчёт о доходах технопарка\n\n" + "Строка отчёта. " * 6000, encoding="utf-8")
    [outcome] = pipeline.submit_and_wait(big)
    assert (outcome["state"], outcome["reason"]) == ("dead_letter", "too_large")

    big.write_text(
        "Отчёт о доходах технопарка\n\nКраткая версия отчёта о доходах.\n", encoding="utf-8"
    )
    # Replay re-reads a file only inside the folders the operator allows (NEWSFLOW_DROP_DIRS).
    refused = pipeline.newsflow("dlq", "replay", outcome["receipt"])
    assert refused.returncode == 1
    assert "NEWSFLOW_DROP_DIRS" in refused.stderr
    allowed = {"NEWSFLOW_DROP_DIRS": str(tmp_path)}
    replayed = pipeline.newsflow("dlq", "replay", outcome["receipt"], env=allowed)
    assert replayed.returncode == 0, replayed.stderr
    final = _wait_state(pipeline, outcome["receipt"])
    assert final["state"] == "indexed", final
    listed = pipeline.newsflow("dlq", "list", "--json").stdout
    assert outcome["receipt"] not in listed


def test_invalid_message_is_dead_lettered_and_replay_keeps_the_letter(pipeline: Pipeline) -> None:
    """A message that does not match the model is kept with its payload, not dropped."""
    producer = Celery(broker=pipeline.env["NEWSFLOW_REDIS_URL"])
    producer.send_task(
        "enrich.document",
        args=[{"receipt": "bogus-receipt-1", "title": 5}],
        queue="enrich",
        routing_key="enrich",
    )
    final = _wait_state(pipeline, "bogus-receipt-1")
    assert (final["state"], final["reason"], final["stage"]) == (
        "dead_letter",
        "invalid_message",
        "enrich",
    )
    shown = json.loads(pipeline.newsflow("dlq", "show", "bogus-receipt-1").stdout)
    assert shown["payload"] == {"receipt": "bogus-receipt-1", "title": 5}


def test_pickle_message_is_refused_and_dead_lettered(pipeline: Pipeline) -> None:
    """Only JSON is accepted: a pickle body is never unpickled, and is kept as a dead letter."""
    producer = Celery(broker=pipeline.env["NEWSFLOW_REDIS_URL"])
    result = producer.send_task(
        "enrich.document",
        args=[{"receipt": "pickled"}],
        queue="enrich",
        routing_key="enrich",
        serializer="pickle",
    )
    deadline = time.monotonic() + 30
    letter = None
    while time.monotonic() < deadline and letter is None:
        for line in pipeline.newsflow("dlq", "list", "--json").stdout.splitlines():
            record = json.loads(line)
            if record["receipt"] == result.id:
                letter = record
        time.sleep(0.3)
    assert letter is not None, "the pickle message vanished"
    assert letter["reason"] == "invalid_message"
    assert "pickle" in letter["error"]
    assert pipeline.all_alive()
