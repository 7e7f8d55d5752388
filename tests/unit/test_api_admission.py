"""Admission to the ingest queue is atomic: concurrent requests never overshoot the limit.

Over fakeredis (with its Lua support); tests/integration/test_api.py does the same with thirty
concurrent uploads against a real ``newsflow serve`` and a real Redis.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import fakeredis
import pytest

from services.api.admission import AdmissionControl
from shared.keys import admission_key

LIMIT = 5


@pytest.fixture
def client() -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis()


def _upload(
    control: AdmissionControl, client: fakeredis.FakeRedis, start: threading.Barrier
) -> bool:
    """One request: wait for the others, ask, and if admitted publish slowly (as a broker
    round trip is), so that every request asks while the others are still publishing."""
    start.wait()
    with control.admit(1) as admission:
        if admission.admitted:
            time.sleep(0.05)
            client.rpush("ingest", b"message")
        return admission.admitted


def test_thirty_concurrent_requests_admit_exactly_the_limit(client: fakeredis.FakeRedis) -> None:
    """The audit's case: check-then-act let all thirty through a limit of five."""
    control = AdmissionControl(client, "ingest", LIMIT)
    start = threading.Barrier(30)
    with ThreadPoolExecutor(30) as pool:
        admitted = list(pool.map(lambda _: _upload(control, client, start), range(30)))
    assert sum(admitted) == LIMIT
    assert client.llen("ingest") == LIMIT
    assert client.zcard(admission_key("ingest")) == 0  # every reservation released


def test_messages_queued_by_others_count_against_the_limit(client: fakeredis.FakeRedis) -> None:
    """newsflow submit and the watcher do not reserve: their messages count by being queued."""
    control = AdmissionControl(client, "ingest", LIMIT)
    client.rpush("ingest", *[b"m"] * 4)
    assert control.peek().admitted
    assert not control.peek(2).admitted
    with control.admit(2) as admission:
        assert (admission.admitted, admission.depth, admission.reserved) == (False, 4, 0)


def test_reserved_room_counts_until_released(client: fakeredis.FakeRedis) -> None:
    control = AdmissionControl(client, "ingest", LIMIT)
    with control.admit(3) as first:
        assert first.admitted
        with control.admit(3) as second:
            assert (second.admitted, second.reserved) == (False, 3)
        assert control.peek(2).admitted
    assert control.peek(5).admitted


def test_a_crashed_requests_reservation_expires(client: fakeredis.FakeRedis) -> None:
    """An API process killed between reserving and publishing must not hold the room forever."""
    control = AdmissionControl(client, "ingest", LIMIT, reservation_ttl_ms=200)
    held = control.admit(LIMIT)
    assert held.__enter__().admitted  # never left: the process "died" here
    assert not control.peek().admitted
    time.sleep(0.3)
    assert control.peek(LIMIT).admitted
