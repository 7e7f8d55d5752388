"""`newsflow worker`'s default pool sizes: enrich takes the cores it may run on, ingest and index
one child each (README, "Scaling out", has the measurements behind them)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from newsflow.cli import default_concurrency


@pytest.mark.parametrize("stage", ["ingest", "index"])
def test_ingest_and_index_start_one_child(stage: str) -> None:
    assert default_concurrency(stage) == 1


def test_enrich_starts_a_child_per_core_it_may_run_on() -> None:
    assert default_concurrency("enrich") == len(os.sched_getaffinity(0))
    # Pinned to one core (taskset, a container's cpuset), it starts one child, not one per
    # core of the machine.
    pinned = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
            "from newsflow.cli import default_concurrency; print(default_concurrency('enrich'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert pinned.stdout.strip() == "1"
