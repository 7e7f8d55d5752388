"""A newcomer's first outage: every command that meets an unreachable Redis or index prints one
line naming what, where and the setting to change, and exits 3, with no traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS
from tests.support import free_port

NEWSFLOW = str(Path(sys.executable).with_name("newsflow"))


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    return subprocess.run(
        [NEWSFLOW, *args],
        env={**clean, "NEWSFLOW_LOG_FORMAT": "json", **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize(
    "command",
    [["submit", str(SEEDS)], ["status", "0123"], ["dlq", "list"], ["dlq", "show", "0123"]],
    ids=" ".join,
)
def test_redis_down_is_one_line_and_exit_3(command: list[str]) -> None:
    closed = free_port()  # nothing listens there: a Redis that is down
    result = _run(*command, NEWSFLOW_REDIS_URL=f"redis://:s3cret@127.0.0.1:{closed}/0")
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"newsflow: cannot reach Redis at redis://:***@127.0.0.1:{closed}/0")
    assert "NEWSFLOW_REDIS_URL" in lines[0]
    assert "s3cret" not in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_postgresql_index_is_one_line_and_exit_3() -> None:
    closed = free_port()
    result = _run("search", "x", NEWSFLOW_INDEX_URL=f"postgresql://u:pw@127.0.0.1:{closed}/db")
    assert result.returncode == 3, result.stderr
    assert result.stderr.count("\n") == 1
    assert "cannot reach the index at postgresql://u:***@127.0.0.1" in result.stderr
    assert "NEWSFLOW_INDEX_URL" in result.stderr


@pytest.mark.parametrize("command", [["search", "x"], ["show", "abc"]], ids=" ".join)
def test_reading_a_missing_index_says_so_and_creates_nothing(
    command: list[str], tmp_path: Path
) -> None:
    missing = tmp_path / "not" / "there" / "index.db"
    result = _run(*command, NEWSFLOW_INDEX_URL=str(missing))
    assert result.returncode == 3
    assert f"no index at {missing}" in result.stderr
    assert not (tmp_path / "not").exists(), "a read-only command created the index's folders"


def test_debug_shows_the_traceback() -> None:
    closed = free_port()
    result = _run("--debug", "status", "x", NEWSFLOW_REDIS_URL=f"redis://127.0.0.1:{closed}/0")
    assert result.returncode != 0
    assert "Traceback" in result.stderr


def test_version() -> None:
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("newsflow ")


def test_a_worker_whose_metrics_port_is_taken_stops_at_start() -> None:
    """Never "ready" without metrics: every alert is blind to a worker that has none."""
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))  # noqa: S104  # the worker serves on every address too
        taken.listen()
        port = taken.getsockname()[1]
        result = _run("worker", "ingest", "--metrics-port", str(port))
    assert result.returncode == 2
    assert f"cannot serve metrics on port {port}" in result.stderr
    assert "NEWSFLOW_METRICS_PORT" in result.stderr
    assert " ready." not in result.stderr


def test_a_folder_with_no_files_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "skipped.part").write_text("still being written")
    for command in (["run", str(tmp_path)], ["enrich", str(tmp_path)]):
        result = _run(*command, NEWSFLOW_INDEX_URL=str(tmp_path / "index.db"))
        assert result.returncode == 2, result.stderr
        assert "no files to take" in result.stderr


def test_an_unknown_dead_letter_stage_is_a_usage_error() -> None:
    result = _run("dlq", "list", "--stage", "foo", NEWSFLOW_REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 2
    assert "unknown stage 'foo'" in result.stderr
