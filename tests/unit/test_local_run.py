"""`newsflow run`, the in-process runner: its exact-duplicate claims live in a file of enrich's
own beside the index, not in the index."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from newsflow.local import local_claims_path
from shared.settings import Settings
from tests.conftest import SEEDS

NEWSFLOW = str(Path(sys.executable).with_name("newsflow"))


@pytest.mark.parametrize(
    ("index_url", "claims_setting", "expected"),
    [
        ("./newsflow.db", "", "./newsflow.db-claims"),
        ("sqlite:////srv/index/news.db", "", "/srv/index/news.db-claims"),
        ("postgresql://u@db:5432/news", "", "newsflow-claims.db"),
        (":memory:", "", ":memory:"),
        ("./newsflow.db", "/var/lib/newsflow/claims.db", "/var/lib/newsflow/claims.db"),
    ],
)
def test_the_claims_file_sits_beside_a_sqlite_index_unless_set(
    index_url: str, claims_setting: str, expected: str
) -> None:
    """Beside the index, so `rm newsflow.db*` forgets claims and documents together."""
    settings = Settings(index_url=index_url, local_claims_path=claims_setting)
    assert local_claims_path(settings) == expected


def _run(index: Path) -> str:
    result = subprocess.run(
        [NEWSFLOW, "run", "--summary", str(SEEDS)],
        env={**os.environ, "NEWSFLOW_INDEX_URL": str(index), "NEWSFLOW_LOG_LEVEL": "ERROR",
             "NEWSFLOW_LOCAL_CLAIMS_PATH": "", "COLUMNS": "200"},
        capture_output=True, text=True, timeout=180, check=True,
    )  # fmt: skip
    return result.stdout


def test_a_second_run_finds_the_first_runs_claims_and_a_fresh_index_starts_afresh(
    tmp_path: Path,
) -> None:
    """The README's promise: run twice and the second run reports every seed a duplicate. The
    claims are not in the index any more, and removing the index files forgets them too."""
    index = tmp_path / "newsflow.db"
    assert "5 indexed" in _run(index)
    assert "0 indexed (0 of them near-duplicates), 5 duplicate" in _run(index)
    assert (tmp_path / "newsflow.db-claims").is_file()
    with closing(sqlite3.connect(index)) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    assert "claims" not in tables
    for path in tmp_path.glob("newsflow.db*"):
        path.unlink()
    assert "5 indexed" in _run(index)


def _search(index: Path, *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [NEWSFLOW, "search", "--json", "--all-duplicates", "--limit", "100", *args],
        env={**os.environ, "NEWSFLOW_INDEX_URL": str(index), "NEWSFLOW_LOG_LEVEL": "ERROR"},
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def test_a_persons_name_in_any_language_finds_every_seed_naming_her(tmp_path: Path) -> None:
    """Seeds 000 (ru) and 001 (de) name Nadezhda Lazarevich («Лазаревич», «Lasarewitsch»):
    her Russian, German and Belarusian spellings, in any case, find exactly the seeds whose
    entities carry her id, and the facet labels her in English with that id."""
    index = tmp_path / "newsflow.db"
    _run(index)
    by_id = _search(index, "--entity", "per:ndsd-lsrvc")
    naming_her = {hit["id"] for hit in by_id["hits"]}
    assert len(naming_her) == 2
    for name in ("Лазаревич", "Lasarewitsch", "Лазарэвіч", "ЛАЗАРЭВІЧ", "lazarevich"):
        assert {hit["id"] for hit in _search(index, "--entity", name)["hits"]} == naming_her
    facets = _search(index, "--entity", "Лазарэвіч", "--type", "PER", "--facets")["facets"]
    assert [(f["value"], f["label"]) for f in facets["entities"]["PER"]] == [
        ("per:ndsd-lsrvc", "Nadezhda Lazarevich")
    ]
