"""The three real workers with the PostgreSQL index: the seeds are found by stemmed words, by an
entity id shared across languages, and by currency."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Pipeline, start_pipeline, stop_pipeline

pytestmark = pytest.mark.integration


@pytest.fixture
def postgres_pipeline(
    redis_url: str, fresh_postgres_url: str, tmp_path: Path
) -> Iterator[Pipeline]:
    running = start_pipeline(redis_url, tmp_path, {"NEWSFLOW_INDEX_URL": fresh_postgres_url})
    yield running
    stop_pipeline(running)


def _search(pipeline: Pipeline, *args: str) -> dict[str, Any]:
    result = pipeline.newsflow("search", *args, "--json")
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def _files(pipeline: Pipeline, found: dict[str, Any]) -> set[str]:
    names = set()
    for hit in found["hits"]:
        shown = pipeline.newsflow("show", hit["id"])
        names.add(json.loads(shown.stdout)["filename"][:3])
    return names


def test_seeds_through_the_workers_are_searchable_in_postgres(
    postgres_pipeline: Pipeline, seed_files: list[Path]
) -> None:
    """A real deployment's path: workers write PostgreSQL, people search it."""
    outcomes = postgres_pipeline.submit_and_wait(*seed_files)
    assert [o["state"] for o in outcomes] == ["indexed"] * 5, outcomes

    stemmed = _search(postgres_pipeline, "технопарков")
    assert {"000", "003"} <= _files(postgres_pipeline, stemmed)
    german = _search(postgres_pipeline, "Technologieparks")
    assert _files(postgres_pipeline, german) == {"001"}

    belarus = _search(postgres_pipeline, "", "--entity", "BY", "--facets", "--limit", "10")
    assert _files(postgres_pipeline, belarus) == {"000", "001", "002", "003", "004"}
    languages = {f["value"]: f["count"] for f in belarus["facets"]["language"]}
    assert languages == {"ru": 4, "de": 1}

    lazarevich = next(
        e["id"]
        for hit in belarus["hits"]
        for e in hit["entities"]
        if e["normal"] == "Надежда Лазаревич"
    )
    assert _files(postgres_pipeline, _search(postgres_pipeline, "", "--entity", lazarevich)) == {
        "000",
        "001",
    }
    assert _files(postgres_pipeline, _search(postgres_pipeline, "", "--currency", "USD")) == {"004"}
    # The header line's rate, whose base is not written.
    assert _files(postgres_pipeline, _search(postgres_pipeline, "", "--rate", "/BYN")) == {
        "000",
        "002",
    }
    assert postgres_pipeline.all_alive()
