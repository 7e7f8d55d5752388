"""The exact-duplicate claim against the real Redis, raced by separate processes."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import pytest
import redis

from services.enrich.dedupe import RedisClaims

pytestmark = pytest.mark.integration


def _claim(args: tuple[str, str, int]) -> list[str]:
    url, doc_id, worker = args
    claims = RedisClaims(redis.Redis.from_url(url))
    return [claims.claim(f"{doc_id}-{n}", f"receipt-{worker}") for n in range(200)]


def test_processes_racing_for_the_same_documents_agree_on_every_winner(
    redis_url: str, redis_db: redis.Redis
) -> None:
    """Two enrich workers given copies at once must pick the same first copy, every time."""
    with ProcessPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(_claim, [(redis_url, "race", worker) for worker in range(4)]))
    for n in range(200):
        assert len({result[n] for result in results}) == 1, f"disagreement on document {n}"
