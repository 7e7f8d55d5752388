"""The backbone end to end: seeds through three real worker processes over real Redis, with
Redis and then RabbitMQ (quorum queues) as the broker between the stages."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.integration.conftest import Pipeline

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pipeline(pipeline_on_each_broker: Pipeline) -> Pipeline:
    """Every test of this module runs on each broker."""
    return pipeline_on_each_broker


EXPECTED_LANGUAGES = {"000": "ru", "001": "de", "002": "ru", "003": "ru", "004": "ru"}


def _index_rows(path: Path) -> dict[str, dict[str, object]]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT document FROM documents").fetchall()
    docs = [json.loads(row[0]) for row in rows]
    return {doc["id"]: doc for doc in docs}


def _comparable(doc: dict[str, object]) -> dict[str, object]:
    """What must agree between runs: everything but the per-submission fields, and the story
    fields, which name a story after whichever of its documents came first (concurrent workers
    may take them in another order); ``_story_groups`` compares the grouping itself."""
    skip = {"receipt", "received_at", "source", "story_id", "story_similarity"}
    return {key: value for key, value in doc.items() if key not in skip}


def _story_groups(docs: dict[str, dict[str, object]]) -> set[frozenset[str]]:
    """Which documents share a story, whatever the stories are called."""
    groups: dict[object, set[str]] = {}
    for doc_id, doc in docs.items():
        groups.setdefault(doc["story_id"], set()).add(doc_id)
    return {frozenset(group) for group in groups.values()}


def test_seeds_are_indexed_with_their_languages(pipeline: Pipeline, seed_files: list[Path]) -> None:
    """The main job: five real files in, five searchable documents out, each in its language."""
    outcomes = pipeline.submit_and_wait(*seed_files)
    assert [o["state"] for o in outcomes] == ["indexed"] * 5, outcomes
    docs = _index_rows(pipeline.index_path)
    assert len(docs) == 5
    by_file = {doc["filename"][:3]: doc for doc in docs.values()}
    assert {name: doc["language"] for name, doc in by_file.items()} == EXPECTED_LANGUAGES
    assert by_file["000"]["published"] == "2025-10-11"
    assert by_file["000"]["header_rate"] == {"value": 3.69, "currency": "BYN"}
    money = {(m["amount"], m["currency"]) for m in by_file["004"]["money"]}
    assert money == {(1.5e9, "USD"), (2e9, "USD"), (1.6e12, "RUB")}
    assert [(m["amount"], m["currency"]) for m in by_file["003"]["money"]] == [(1.2e11, "RUB")]
    # The same person and country, named in Russian (000) and German (001), share their ids.
    ru_ids = {e["id"] for e in by_file["000"]["entities"]}
    de_ids = {e["id"] for e in by_file["001"]["entities"]}
    lazarevich = {e["id"] for e in by_file["000"]["entities"] if e["normal"] == "Надежда Лазаревич"}
    assert len(lazarevich) == 1
    assert lazarevich | {"BY"} <= ru_ids & de_ids
    assert pipeline.all_alive()


def test_pipeline_results_equal_the_in_process_run(
    pipeline: Pipeline, seed_files: list[Path], tmp_path: Path
) -> None:
    """`newsflow run` is the embedded default; it must not drift from what the workers produce."""
    pipeline.submit_and_wait(*seed_files)
    local_index = tmp_path / "local.db"
    result = pipeline.newsflow(
        "run", str(seed_files[0].parent), env={"NEWSFLOW_INDEX_URL": str(local_index)}
    )
    assert result.returncode == 0, result.stderr
    local_rows, worker_rows = _index_rows(local_index), _index_rows(pipeline.index_path)
    local = {k: _comparable(v) for k, v in local_rows.items()}
    workers = {k: _comparable(v) for k, v in worker_rows.items()}
    assert local == workers
    assert _story_groups(local_rows) == _story_groups(worker_rows)


def test_resubmitted_seeds_are_duplicates_and_not_indexed_again(
    pipeline: Pipeline, seed_files: list[Path]
) -> None:
    """Scrapers re-send files; a copy must be recognised and must not grow the index."""
    pipeline.submit_and_wait(*seed_files)
    before = len(_index_rows(pipeline.index_path))
    outcomes = pipeline.submit_and_wait(*seed_files)
    assert [o["state"] for o in outcomes] == ["duplicate"] * 5, outcomes
    assert all(o["duplicate_of"] == o["doc_id"] for o in outcomes)
    assert len(_index_rows(pipeline.index_path)) == before == 5


def test_each_stage_logs_one_canonical_json_line_per_document(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """Operators trace a document through the stages by its id in one JSON line per stage."""
    fresh = tmp_path / "fresh.txt"
    fresh.write_text(
        " date 2025-11-02 3,41 BYN\nНовый технопарк в Гродно\n\n"
        "В Гродно открылся новый технопарк для молодых компаний.\n",
        encoding="cp1251",
    )
    outcomes = pipeline.submit_and_wait(fresh)
    assert outcomes[0]["state"] == "indexed", outcomes
    receipt = outcomes[0]["receipt"]
    required = {
        "task_id",
        "doc_id",
        "stage",
        "receipt",
        "outcome",
        "duration_s",
        "timestamp",
        "level",
    }
    per_stage = {"ingest": {"size", "encoding", "header"}, "enrich": {"language"}, "index": set()}
    for stage, extra in per_stage.items():
        lines = [
            json.loads(line)
            for line in pipeline.log_text(stage).splitlines()
            if line.startswith("{")
        ]
        mine = [
            line
            for line in lines
            if line.get("event") == "message processed" and line.get("receipt") == receipt
        ]
        assert len(mine) == 1, (stage, mine)
        assert required | extra <= mine[0].keys(), (stage, mine[0])
        assert mine[0]["stage"] == stage
        assert mine[0]["doc_id"] == outcomes[0]["doc_id"]
        # Celery's own lines come out as JSON too, without the document text in them.
        celery_lines = [line for line in lines if line.get("logger", "").startswith("celery")]
        assert celery_lines
        assert all("content_b64" not in json.dumps(line) for line in celery_lines)


def test_near_duplicate_is_indexed_and_marked_with_its_cluster(
    pipeline: Pipeline, seed_files: list[Path], tmp_path: Path
) -> None:
    """A reprint with a paragraph cut and reflowed lines is kept, but marked as a near copy."""
    pipeline.submit_and_wait(seed_files[0])
    lines = seed_files[0].read_text(encoding="utf-8").splitlines()
    header, title, paragraphs = lines[0], lines[1], [line for line in lines[2:] if line.strip()]
    reprint = tmp_path / "reprint.txt"
    kept = paragraphs[:2] + paragraphs[3:]
    reprint.write_text(
        "\n".join([header, title, *("  ".join(p.split(" ")) for p in kept)]), encoding="utf-8"
    )
    [outcome] = pipeline.submit_and_wait(reprint)
    assert outcome["state"] == "indexed", outcome
    docs = _index_rows(pipeline.index_path)
    original = next(doc for doc in docs.values() if doc["filename"] == seed_files[0].name)
    copy = docs[outcome["doc_id"]]
    assert copy["near_duplicate_of"] == original["id"]
    assert copy["cluster_id"] == original["cluster_id"] == original["id"]
    assert 0.5 <= copy["similarity"] < 1.0
    # Unrelated articles on the same event (000 and 002, both about INNOPROM) stay apart.
    other = next(doc for doc in docs.values() if doc["filename"] == seed_files[2].name)
    assert other["near_duplicate_of"] is None
    assert other["cluster_id"] == other["id"]


def test_reports_of_one_event_share_a_story_across_languages(
    pipeline: Pipeline, seed_files: list[Path], tmp_path: Path
) -> None:
    """Seeds 000 (ru) and 001 (de) report one interview: one story through the three workers;
    002 (another event at the same fair) is not in it; a perturbed reprint of 000 joins it; and
    `newsflow stories` lists it with both languages."""
    pipeline.submit_and_wait(*seed_files)
    lines = seed_files[0].read_text(encoding="utf-8").splitlines()
    header, title, paragraphs = lines[0], lines[1], [line for line in lines[2:] if line.strip()]
    reprint = tmp_path / "reprint-story.txt"
    # Another headline, the last paragraph cut and a credit line added: a re-scrape by an
    # aggregator, not a byte copy.
    reprint.write_text(
        "\n".join([header, f"{title} (перепечатка)", *paragraphs[:-1], "Источник: БелТА."]),
        encoding="utf-8",
    )
    [outcome] = pipeline.submit_and_wait(reprint)
    assert outcome["state"] == "indexed", outcome
    docs = _index_rows(pipeline.index_path)
    by_file = {str(doc["filename"])[:3]: doc for doc in docs.values()}
    story = by_file["000"]["story_id"]
    assert story is not None
    assert by_file["001"]["story_id"] == story
    assert by_file["002"]["story_id"] != story
    assert docs[outcome["doc_id"]]["story_id"] == story
    listed = pipeline.newsflow(
        "stories", "--json", "--min-size", "2", env={"NEWSFLOW_INDEX_URL": str(pipeline.index_path)}
    )
    assert listed.returncode == 0, listed.stderr
    stories = {item["id"]: item for item in map(json.loads, listed.stdout.splitlines())}
    assert set(stories[story]["languages"]) == {"ru", "de"}
    assert stories[story]["size"] >= 3  # with the near-duplicate test's reprint when run together
