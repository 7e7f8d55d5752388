"""The same input gives the same enriched output in every process.

The Redis pipeline and `newsflow run` are different processes, each with its own random string
hash seed; any result that depends on set iteration order would make them disagree (it did once:
a city's normal form). This runs the real command under two hash seeds and compares.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import SEEDS

NEWSFLOW = str(Path(sys.executable).with_name("newsflow"))


def _enrich(hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "NEWSFLOW_LOG_LEVEL": "ERROR"}
    result = subprocess.run(
        [NEWSFLOW, "enrich", "--json", *map(str, sorted(SEEDS.glob("*.txt")))],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return result.stdout


def test_enrich_output_does_not_depend_on_the_hash_seed() -> None:
    """Workers and the in-process runner must agree to the byte on the same input."""
    assert _enrich("1") == _enrich("3")
