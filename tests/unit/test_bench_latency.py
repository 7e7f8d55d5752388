"""The latency bench's percentile: nearest rank, so p99 of 100 values is the 99th, not the max."""

from __future__ import annotations

import pytest

from bench.latency import percentile


@pytest.mark.parametrize(
    ("share", "expected"), [(0.5, 50.0), (0.95, 95.0), (0.99, 99.0), (1.0, 100.0), (0.0, 1.0)]
)
def test_percentile_is_the_nearest_rank(share: float, expected: float) -> None:
    assert percentile([float(v) for v in range(100, 0, -1)], share) == expected


def test_percentile_of_one_value_is_that_value() -> None:
    assert percentile([7.0], 0.99) == 7.0
