"""``submit --wait`` rides out a Redis restart: it waits while Redis is away, says so once, and
submits again (under the same receipt) a file whose receipt Redis lost."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import fakeredis
import pytest
import redis

from newsflow import waiting
from services.ingest.intake import Intake
from shared.receipts import record_status
from shared.settings import Settings


class Recorder:
    """Stands in for the publisher: what would have gone onto a queue."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send(self, stage: str, payload: dict[str, Any], **_: Any) -> None:
        self.sent.append((stage, payload))


@pytest.fixture
def intake() -> Intake:
    settings = Settings(_env_file=None)
    return Intake(fakeredis.FakeRedis(), settings, Recorder())  # type: ignore[arg-type]


@pytest.fixture
def news(tmp_path: Path) -> Path:
    path = tmp_path / "a.txt"
    path.write_text("Заголовок\n\nТекст новости.\n", encoding="utf-8")
    return path


def test_a_receipt_redis_lost_is_submitted_again_under_the_same_receipt(
    intake: Intake, news: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(waiting, "LOST_AFTER_SECONDS", 0.2)
    receipt = "lost-receipt"
    publisher: Recorder = intake.publisher  # type: ignore[assignment]

    def finish_after_resubmit() -> None:
        while not publisher.sent:
            threading.Event().wait(0.05)
        record_status(intake.client, 60, receipt, "indexed", doc_id="d1")

    helper = threading.Thread(target=finish_after_resubmit)
    helper.start()
    final = waiting.wait_for_receipts(intake, {receipt: news}, timeout=10, warn=lambda _: None)
    helper.join()
    assert [(stage, payload["receipt"]) for stage, payload in publisher.sent] == [
        ("ingest", receipt)
    ]
    assert final[receipt].state == "indexed"


class FlakyRedis(fakeredis.FakeRedis):
    """Refuses every command while ``down`` is set, as a restarting Redis does."""

    down = True

    def mget(self, *args: Any, **kwargs: Any) -> Any:
        if FlakyRedis.down:
            raise redis.ConnectionError("Connection refused")
        return super().mget(*args, **kwargs)


def test_an_outage_is_waited_out_with_one_warning_and_one_all_clear(news: Path) -> None:
    client = FlakyRedis()
    intake = Intake(client, Settings(_env_file=None), Recorder())  # type: ignore[arg-type]
    record_status(client, 60, "r1", "indexed")
    said: list[str] = []

    def come_back() -> None:
        threading.Event().wait(0.6)
        FlakyRedis.down = False

    FlakyRedis.down = True
    threading.Thread(target=come_back).start()
    final = waiting.wait_for_receipts(intake, {"r1": news}, timeout=10, warn=said.append)
    assert final["r1"].state == "indexed"
    assert len(said) == 2
    assert "not answering" in said[0]
    assert "back" in said[1]


def test_submitting_waits_for_redis_and_keeps_one_receipt(
    intake: Intake, news: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str | None] = []
    real = waiting.submit_path

    def flaky_submit(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("receipt"))
        if len(calls) < 3:
            raise redis.ConnectionError("Connection refused")
        return real(*args, **kwargs)

    monkeypatch.setattr(waiting, "submit_path", flaky_submit)
    monkeypatch.setattr(waiting.time, "sleep", lambda _: None)
    raw = waiting.submit_patiently(intake, news, warn=lambda _: None)
    assert len(calls) == 3
    assert len(set(calls)) == 1
    assert raw.receipt == calls[0]


def test_submitting_gives_up_after_its_patience(
    intake: Intake, news: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*_: Any, **__: Any) -> Any:
        raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr(waiting, "submit_path", down)
    with pytest.raises(redis.ConnectionError):
        waiting.submit_patiently(intake, news, warn=lambda _: None, patience=0.0)
