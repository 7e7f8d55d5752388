"""Metrics tell the truth under prefork: after a real run through three worker processes with
two children each, the scraped counters equal the true counts exactly, and promtool accepts them.

This is the test that catches the classic undercount, where only the child that happens to serve
the port is counted: the documents here are spread over six child processes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import Pipeline, start_pipeline, stop_pipeline
from tests.support import free_port

pytestmark = pytest.mark.integration

PORTS = {stage: free_port() for stage in ("ingest", "enrich", "index")}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        return str(reply.read().decode())


def _samples(text: str) -> Samples:
    values: Samples = defaultdict(float)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, frozenset(sample.labels.items()))] += sample.value
    return values


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="module")
def metered(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    running = start_pipeline(
        redis_url,
        tmp_path_factory.mktemp("metrics"),
        metrics_ports=PORTS,
    )
    yield running
    stop_pipeline(running)


def _input_files(folder: Path, seed_files: list[Path]) -> list[Path]:
    files = [shutil.copy(seed, folder / seed.name) for seed in seed_files]
    copy = folder / "copy_of_000.txt"
    copy.write_bytes(seed_files[0].read_bytes())
    binary = folder / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    empty = folder / "blank.txt"
    empty.write_bytes(b"\n   \n")
    malformed = folder / "malformed.txt"
    malformed.write_text(
        " date 2025-13-45 3.69 BYN\nВ Гомеле открыли технопарк\n\n"
        "Новый технопарк в Гомеле принял первых резидентов.\n",
        encoding="utf-8",
    )
    lines = [line for line in seed_files[0].read_text(encoding="utf-8").splitlines() if line]
    reprint = folder / "reprint_of_000.txt"  # one paragraph cut: a near-duplicate
    reprint.write_text("\n".join(lines[:3] + lines[4:]), encoding="utf-8")
    return [Path(f) for f in files] + [copy, binary, empty, malformed, reprint]


def test_scraped_counters_equal_the_true_counts(
    metered: Pipeline, seed_files: list[Path], tmp_path: Path
) -> None:
    """Every document processed by any prefork child is counted once, no more, no less."""
    files = _input_files(tmp_path, seed_files)
    outcomes = metered.submit_and_wait(*files)
    states = sorted(o["state"] for o in outcomes)
    assert states == sorted(["indexed"] * 7 + ["duplicate"] + ["dead_letter"] * 2), outcomes

    ingest = _samples(_scrape(PORTS["ingest"]))
    enrich = _samples(_scrape(PORTS["enrich"]))
    index = _samples(_scrape(PORTS["index"]))

    processed = "newsflow_documents_processed_total"
    assert _value(ingest, "newsflow_files_received_total", source="cli") == 10
    assert _value(ingest, "newsflow_received_bytes_total") == sum(f.stat().st_size for f in files)
    assert _value(ingest, processed, stage="ingest", outcome="parsed") == 8
    assert _value(ingest, processed, stage="ingest", outcome="dead_letter") == 2
    assert _value(ingest, "newsflow_dead_letters_total", stage="ingest", reason="binary") == 1
    assert _value(ingest, "newsflow_dead_letters_total", stage="ingest", reason="empty") == 1
    assert _value(ingest, "newsflow_header_parse_total", result="ok") == 4
    assert _value(ingest, "newsflow_header_parse_total", result="absent") == 3
    assert _value(ingest, "newsflow_header_parse_total", result="malformed") == 1
    assert _value(ingest, "newsflow_repairs_total", kind="paragraph_collapsed") == 5
    assert _value(ingest, "newsflow_repairs_total", kind="trailer_stripped") == 2
    assert _value(ingest, "newsflow_stage_duration_seconds_count", stage="ingest") == 10

    assert _value(enrich, processed, stage="enrich", outcome="enriched") == 7
    assert _value(enrich, processed, stage="enrich", outcome="duplicate") == 1
    assert _value(enrich, "newsflow_duplicates_total", kind="exact") == 1
    assert _value(enrich, "newsflow_duplicates_total", kind="near") == 1
    assert _value(enrich, "newsflow_documents_by_language_total", language="ru") == 6
    assert _value(enrich, "newsflow_documents_by_language_total", language="de") == 1

    assert _value(index, processed, stage="index", outcome="indexed") == 6
    assert _value(index, processed, stage="index", outcome="near_duplicate") == 1
    assert _value(index, "newsflow_end_to_end_latency_seconds_count") == 7
    for stage in PORTS:
        assert _value(index, "newsflow_queue_depth", queue=stage) == 0
    # Every message went through a batch (of one or more) in some child: the histogram's sum is
    # the messages, counted once under multiprocess mode.
    batches = "newsflow_batch_size_messages_sum"
    assert _value(ingest, batches, stage="ingest") == 10
    assert _value(enrich, batches, stage="enrich") == 8
    assert _value(index, batches, stage="index") == 7


def test_every_endpoint_passes_promtool(metered: Pipeline) -> None:
    """Names, types and help follow Prometheus's rules, checked by Prometheus's own tool."""
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must check the metrics with promtool (Debian package prometheus)")
        pytest.skip("promtool not installed (apt-get install prometheus)")
    for stage, port in PORTS.items():
        text = _scrape(port)
        result = subprocess.run(
            [promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, (stage, result.stdout, result.stderr)
