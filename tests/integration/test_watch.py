"""The drop folder end to end: two real `newsflow watch` processes sharing one folder, in front of
three real worker processes over real Redis.

Uses Redis database 12, its own, because ``start_pipeline`` empties the database it is given.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import NEWSFLOW, Pipeline, start_pipeline, stop_pipeline

pytestmark = pytest.mark.integration

BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)
FRESH = (
    "Drop folder opens\n\n"
    "The city library opened a new reading room on Monday, with four hundred seats and long "
    "opening hours for students preparing for their winter examinations.\n\n"
    "Visitors praised the quiet rooms and the bright lamps above every desk."
)
WAIT_SECONDS = 40.0


@pytest.fixture(scope="module")
def pipeline(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    running = start_pipeline(redis_url, tmp_path_factory.mktemp("watch"))
    yield running
    stop_pipeline(running)


def _files(folder: Path) -> list[str]:
    return sorted(os.listdir(folder)) if folder.exists() else []


def _wait_until(
    condition: Callable[[], bool],
    what: str,
    *,
    alive: list[subprocess.Popen[bytes]],
    logs: list[Path],
) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        if any(process.poll() is not None for process in alive):
            break
        time.sleep(0.2)
    tails = "\n".join(log.read_text(errors="replace")[-2000:] for log in logs)
    pytest.fail(f"timed out waiting for {what}\n{tails}")


def _records(log: Path) -> list[dict[str, object]]:
    lines = log.read_text(errors="replace").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def _files_per_event(logs: list[Path], event: str) -> Counter[str]:
    """How often each file appears in ``event`` lines across the watchers' JSON logs."""
    return Counter(
        str(record["file"])
        for log in logs
        for record in _records(log)
        if record.get("event") == event
    )


def _index_count(pipeline: Pipeline) -> int:
    with sqlite3.connect(pipeline.index_path) as db:
        return int(db.execute("SELECT count(*) FROM documents").fetchone()[0])


def test_two_watchers_move_every_file_to_done_or_failed_exactly_once(
    pipeline: Pipeline, seed_files: list[Path], tmp_path: Path
) -> None:
    """Files dropped before the watchers start, and while they run, each end up in done/ or
    failed/ once, with two watchers racing for them; the watchers survive it and stop on
    SIGTERM with exit code 0."""
    drop = tmp_path / "drop"
    drop.mkdir()
    for seed in seed_files:
        shutil.copy(seed, drop / seed.name)
    (drop / "image.bin").write_bytes(BINARY)

    logs = [tmp_path / f"watch{number}.log" for number in (1, 2)]
    watchers: list[subprocess.Popen[bytes]] = []
    for log in logs:
        with log.open("wb") as out:
            watchers.append(
                subprocess.Popen(
                    [NEWSFLOW, "watch", str(drop), "--interval", "0.2", "--summary-every", "1"],
                    env=pipeline.env,
                    cwd=pipeline.workdir,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        seeds = sorted(seed.name for seed in seed_files)
        _wait_until(
            lambda: (
                _files(drop / "done") == seeds
                and _files(drop / "failed") == ["image.bin", "image.bin.reason"]
            ),
            "the files dropped before start",
            alive=watchers,
            logs=logs,
        )
        assert "reason: binary\n" in (drop / "failed" / "image.bin.reason").read_text()

        (drop / "fresh.txt.part").write_text(FRESH, encoding="utf-8")
        time.sleep(0.5)  # a scan or two sees the .part name and must leave it alone
        assert (drop / "fresh.txt.part").exists()
        (drop / "fresh.txt.part").rename(drop / "fresh.txt")
        shutil.copy(seed_files[0], drop / seed_files[0].name)  # same name, same text
        copy_name = seed_files[0].name.replace(".txt", "-1.txt")
        expected_done = sorted([*seeds, "fresh.txt", copy_name])
        _wait_until(
            lambda: _files(drop / "done") == expected_done,
            "the files dropped while running",
            alive=watchers,
            logs=logs,
        )

        assert (drop / "done" / "fresh.txt").read_text(encoding="utf-8") == FRESH
        assert _files(drop / "failed") == ["image.bin", "image.bin.reason"]
        assert _files(drop / ".processing") == []
        assert _files(drop) == [".processing", "done", "failed"]
        assert _index_count(pipeline) == 6  # the copy was a duplicate: not indexed again
        every_file = [*seeds, "image.bin", "fresh.txt"]
        twice = [seed_files[0].name]  # dropped twice, claimed twice: two different files
        for event in ("watch.claimed", "watch.finished"):
            seen = _files_per_event(logs, event)
            assert sorted(seen.elements()) == sorted([*every_file, *twice]), event
        assert all(process.poll() is None for process in watchers)
    finally:
        for process in watchers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = [process.wait(timeout=15) for process in watchers]
    assert codes == [0, 0]
    for log in logs:
        stopped = [r for r in _records(log) if r.get("event") == "watch.stopped"]
        assert [r["signal"] for r in stopped] == ["SIGTERM"]
    # Off a terminal the periodic summary is a log event. The first batch's windows closed
    # while the second batch settled (2 s), so they count at least the first batch's files.
    summaries = [r for log in logs for r in _records(log) if r.get("event") == "watch.summary"]
    assert sum(int(str(r["done"])) for r in summaries) >= len(seed_files)
    assert sum(int(str(r["failed"])) for r in summaries) >= 1


def test_once_drains_the_folder_and_recovers_an_orphaned_claim(
    pipeline: Pipeline, seed_files: list[Path], tmp_path: Path
) -> None:
    """`watch --once` (cron use) returns after every file has an outcome, including one a
    killed watcher had claimed but never submitted; it exits 1 because one went to failed/
    (as `submit --wait` does for a dead letter), so a cron job can tell."""
    drop = tmp_path / "drop"
    (drop / ".processing").mkdir(parents=True)
    shutil.copy(seed_files[1], drop / "one.txt")
    (drop / "bad.bin").write_bytes(BINARY)
    orphan = "0123456789abcdef0123456789abcdef.claimed--orphan.txt"
    shutil.copy(seed_files[2], drop / ".processing" / orphan)

    result = pipeline.newsflow(
        "watch", str(drop), "--once", "--interval", "0.2", "--progress", timeout=90
    )

    assert result.returncode == 1, result.stderr[-3000:]
    # --progress: a line per finished file as it happens, then the totals.
    lines = result.stdout.splitlines()
    assert sorted(line.split()[:2][0] + " " + line.split()[1] for line in lines[:-1]) == [
        "done one.txt",
        "done orphan.txt",
        "failed bad.bin",
    ]
    assert any(line.startswith("failed  bad.bin  dead letter: binary  [") for line in lines)
    # Indexed, or a duplicate when the module's first test indexed the seeds already.
    one = re.compile(r"done    one\.txt  (indexed as|duplicate of) [0-9a-f]{12,}  \[[0-9a-f]{12}\]")
    assert any(one.fullmatch(line) for line in lines), lines
    assert lines[-1] == "stopped: 2 done, 1 failed, 0 refused; 0 still waiting for an outcome"
    assert "1 file(s) went to failed/" in result.stderr
    assert _files(drop / "done") == ["one.txt", "orphan.txt"]
    assert _files(drop / "failed") == ["bad.bin", "bad.bin.reason"]
    assert _files(drop / ".processing") == []
    assert "watch.resubmitted" in result.stderr


def test_once_exits_1_when_a_file_was_refused(pipeline: Pipeline, tmp_path: Path) -> None:
    """A refused file (here a symlink) is in failed/ as surely as a dead letter: a cron job
    must be told, not get exit 0."""
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "link.txt").symlink_to("/etc/hostname")
    result = pipeline.newsflow("watch", str(drop), "--once", "--settle", "0", "--progress")
    assert result.returncode == 1, result.stderr[-3000:]
    assert "1 file(s) went to failed/" in result.stderr
    assert result.stdout.splitlines()[0].startswith("failed  link.txt  refused: symlink  [")
    assert _files(drop / "failed") == ["link.txt", "link.txt.reason"]


def test_a_watched_file_refused_as_too_large_is_replayed_from_failed(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """`dlq replay` of a watched file whose bytes were never sent: it is re-read from its copy
    in failed/ (once the operator has fixed it) and, like any claim, ends in done/."""
    drop = tmp_path / "drop"
    drop.mkdir()
    limit = {"NEWSFLOW_MAX_FILE_BYTES": "4096", "NEWSFLOW_DROP_DIRS": str(drop)}
    (drop / "report.txt").write_text("Report\n\n" + "A line of the report. " * 400)

    first = pipeline.newsflow("watch", str(drop), "--once", "--interval", "0.2", env=limit)
    assert first.returncode == 1, first.stderr[-3000:]  # one file went to failed/
    assert _files(drop / "failed") == ["report.txt", "report.txt.reason"]
    note = (drop / "failed" / "report.txt.reason").read_text()
    assert "reason: too_large\n" in note
    [receipt] = [line.split(": ", 1)[1] for line in note.splitlines() if line.startswith("receipt")]

    (drop / "failed" / "report.txt").write_text("Report\n\n" + FRESH.split("\n\n", 1)[1])
    replayed = pipeline.newsflow("dlq", "replay", receipt, env=limit)
    assert replayed.returncode == 0, replayed.stderr[-3000:]
    assert _files(drop / "failed") == []
    assert receipt not in pipeline.newsflow("dlq", "list", "--json").stdout

    second = pipeline.newsflow("watch", str(drop), "--once", "--interval", "0.2", env=limit)
    assert second.returncode == 0, second.stderr[-3000:]
    assert _files(drop / "done") == ["report.txt"]
    assert _files(drop / "failed") == []
    assert _files(drop / ".processing") == []
    status = json.loads(pipeline.newsflow("status", receipt).stdout)
    assert status["state"] == "indexed", status


# Two uids no account on this machine has: the drop folder's owner (the host user, as compose
# bind-mounts ./drop) and a scraper that wrote a file into it.
OWNER, SCRAPER, STRANGER = 54321, 54322, 54323


def _as_uid(uid: int) -> list[str]:
    """Run a command as ``uid`` (and gid), no other groups, as compose's ``user:`` does. The
    tests run as root from a virtualenv under /root (mode 0700), which no other uid may read:
    CAP_DAC_READ_SEARCH lets the process read and traverse any path, and nothing more, so
    whether it may *move* files (write to a folder) is decided by the uid alone."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs as root with util-linux's setpriv")
        pytest.skip("needs root and setpriv to run the watcher as another uid")
    caps = "+dac_read_search"
    return [
        "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
        f"--inh-caps={caps}", f"--ambient-caps={caps}",
    ]  # fmt: skip


def test_the_watcher_run_as_the_folders_owner_moves_files_another_uid_wrote(
    pipeline: Pipeline, seed_files: list[Path]
) -> None:
    """The compose watcher runs as NEWSFLOW_UID:NEWSFLOW_GID: set to the owner of the host's
    ./drop, it moves the files scrapers (another uid) wrote there; run as any other uid it
    stops at start with one line saying which uid to use, instead of failing on every file."""
    drop = Path(tempfile.mkdtemp(prefix="newsflow-drop-"))  # pytest's tmp is root's only
    try:
        os.chown(drop, OWNER, OWNER)
        drop.chmod(0o755)
        written = drop / "scraped.txt"
        shutil.copy(seed_files[3], written)
        os.chown(written, SCRAPER, SCRAPER)
        written.chmod(0o644)
        command = [NEWSFLOW, "watch", str(drop), "--once", "--interval", "0.2", "--settle", "0"]
        # As in compose: the watched folder is the configured drop folder.
        env = {**pipeline.env, "HOME": str(drop), "NEWSFLOW_DROP_DIRS": str(drop)}

        refused = subprocess.run(
            [*_as_uid(STRANGER), *command],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr == (
            f"newsflow watch: cannot move files in {drop}: it belongs to uid {OWNER} "
            f"(gid {OWNER}, drwxr-xr-x) and this process runs as uid {STRANGER} "
            f"(gid {STRANGER}); run the watcher as the folder's owner (docker compose: "
            f"NEWSFLOW_UID={OWNER} and NEWSFLOW_GID={OWNER} in .env) or let it write there\n"
        )
        assert _files(drop) == ["scraped.txt"]

        moved = subprocess.run(
            [*_as_uid(OWNER), *command],
            env=env, capture_output=True, text=True, timeout=90, check=False,
        )  # fmt: skip
        assert moved.returncode == 0, moved.stderr[-3000:]
        assert _files(drop / "done") == ["scraped.txt"]
        assert _files(drop) == [".processing", "done", "failed"]
        # The file keeps its writer; the folders the watcher made are the owner's.
        assert (drop / "done" / "scraped.txt").stat().st_uid == SCRAPER
        assert (drop / "done").stat().st_uid == OWNER
    finally:
        shutil.rmtree(drop, ignore_errors=True)
