"""``newsflow reindex`` through the real workers: stale documents are re-enriched in place.

The seeds are indexed through the three workers first. Then: nothing is stale, so nothing is sent;
after some stored documents are given an older enricher version, exactly those are re-enriched,
come back with the running versions, are never reported as duplicates of themselves, and the
index holds as many documents as before. Redis database 6, flushed here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from services.enrich.stage import ENRICHER_VERSIONS
from services.index.backend import open_backend
from shared.messages import EnrichedDocument
from tests.integration.conftest import Pipeline, start_pipeline, stop_pipeline

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def indexed(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory, seed_files: list[Path]
) -> Iterator[tuple[Pipeline, dict[str, str]]]:
    """The workers, and the seeds indexed through them: doc id -> the receipt that owns it."""
    url = redis_url
    pipeline = start_pipeline(url, tmp_path_factory.mktemp("reindex"))
    try:
        outcomes = pipeline.submit_and_wait(*seed_files)
        assert [outcome["state"] for outcome in outcomes] == ["indexed"] * len(seed_files)
        yield pipeline, {outcome["doc_id"]: outcome["receipt"] for outcome in outcomes}
    finally:
        stop_pipeline(pipeline)
        redis.Redis.from_url(url).flushdb()


def run_reindex(pipeline: Pipeline, *args: str) -> dict[str, Any]:
    result = pipeline.newsflow("reindex", "--json", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def stored(pipeline: Pipeline) -> dict[str, EnrichedDocument]:
    with open_backend(str(pipeline.index_path)) as backend:
        return {doc.id: doc for doc in backend.stale({"": "every document"})}


def test_nothing_stale_sends_nothing(indexed: tuple[Pipeline, dict[str, str]]) -> None:
    pipeline, owners = indexed
    report = run_reindex(pipeline, "--stale-only")
    assert (report["documents"], report["sent"], report["stale_by_enricher"]) == (
        len(owners),
        0,
        {},
    )
    # Without --json it says the same in a sentence (rich would wrap it on a narrow terminal).
    said = pipeline.newsflow("reindex", "--stale-only", env={"COLUMNS": "300"})
    assert said.returncode == 0, said.stderr
    assert said.stdout.strip() == (
        f"{len(owners)} documents in the index, none enriched by an older version: sent none."
    )


def test_stale_documents_are_re_enriched_in_place(
    indexed: tuple[Pipeline, dict[str, str]],
) -> None:
    """Only the outdated documents go back; they return current, under their own receipt."""
    pipeline, owners = indexed
    before = stored(pipeline)
    outdated = sorted(before)[:2]
    with open_backend(str(pipeline.index_path)) as backend:
        old = {**ENRICHER_VERSIONS, "language": "0"}
        backend.upsert(before[outdated[0]].model_copy(update={"enrichers": old}))
        # As if `newsflow run` had re-stored this one under another receipt: Redis's claim still
        # names the first receipt, and re-enriching under the stored one would be a "duplicate".
        missing = {name: v for name, v in ENRICHER_VERSIONS.items() if name != "language"}
        backend.upsert(
            before[outdated[1]].model_copy(update={"enrichers": missing, "receipt": "run-1"})
        )

    report = run_reindex(pipeline, "--stale-only", "--wait", "--timeout", "120")

    assert report["sent"] == 2
    assert report["stale_by_enricher"] == {"language": 2}
    assert report["outcomes"] == {"indexed": 2}
    after = stored(pipeline)
    assert len(after) == len(before)
    for doc_id in outdated:
        assert after[doc_id].enrichers == ENRICHER_VERSIONS
        assert after[doc_id].receipt == owners[doc_id]
        assert after[doc_id].duplicate_of is None
    for doc_id in set(before) - set(outdated):
        assert after[doc_id] == before[doc_id]
    assert run_reindex(pipeline, "--stale-only")["sent"] == 0


def test_reindex_without_stale_only_re_enriches_everything(
    indexed: tuple[Pipeline, dict[str, str]],
) -> None:
    pipeline, owners = indexed
    report = run_reindex(pipeline, "--wait", "--timeout", "120")
    assert report["sent"] == len(owners)
    assert report["outcomes"] == {"indexed": len(owners)}
    after = stored(pipeline)
    assert set(after) == set(owners)
    status = pipeline.newsflow("status", *owners.values()).stdout.splitlines()
    assert {json.loads(line)["state"] for line in status} == {"indexed"}


def test_a_new_stories_version_re_assigns_and_the_old_story_ids_resolve(
    indexed: tuple[Pipeline, dict[str, str]],
) -> None:
    """Documents whose story came from another stories version go back through enrich, get the
    running version's story, and the id users saw before still finds them (search, story)."""
    pipeline, _ = indexed
    before = stored(pipeline)
    by_file = {doc.filename[:3]: doc for doc in before.values()}
    interview = [by_file["000"].id, by_file["001"].id]
    assert before[interview[0]].story_id == before[interview[1]].story_id is not None
    with open_backend(str(pipeline.index_path)) as backend:
        for doc_id in interview:
            backend.upsert(
                before[doc_id].model_copy(
                    update={
                        "enrichers": {**ENRICHER_VERSIONS, "stories": "0"},
                        "story_id": "s-seen-under-version-0",
                    }
                )
            )

    report = run_reindex(pipeline, "--stale-only", "--wait", "--timeout", "120")

    assert report["stale_by_enricher"] == {"stories": 2}
    after = stored(pipeline)
    current = before[interview[0]].story_id
    assert current is not None
    assert {after[doc_id].story_id for doc_id in interview} == {current}
    assert all(after[doc_id].enrichers == ENRICHER_VERSIONS for doc_id in interview)
    with open_backend(str(pipeline.index_path)) as backend:
        assert backend.resolve_story("s-seen-under-version-0") == current
        story = backend.story("s-seen-under-version-0")
    assert story is not None
    assert {doc.id for doc in story.documents} == set(interview)
    found = pipeline.newsflow("search", "--story", "s-seen-under-version-0", "--json")
    assert found.returncode == 0, found.stderr
    assert {hit["id"] for hit in json.loads(found.stdout)["hits"]} == set(interview)
