"""The drop-folder watcher on a real temporary folder, with fakeredis receipts and a fake submit.

The pure decisions (which entries to take, where an outcome goes, claim names) are tested
directly; the claim and finish steps are tested with two watchers on one folder, because
"exactly once with several watchers" is the promise this module makes.
"""

from __future__ import annotations

import fcntl
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import fakeredis
import pytest
import redis

from services.ingest.intake import Intake
from services.ingest.watch import (
    MAX_NAME_BYTES,
    Decision,
    DropFolder,
    Phase,
    Signature,
    Verdict,
    candidates,
    claim_name,
    destination,
    failed_copy_of,
    judge,
    parse_claim,
    refusal_receipt,
    signature,
    stop_on_signals,
    watch_folder,
)
from shared.celery_app import Publisher, make_celery
from shared.receipts import read_status, record_status
from shared.settings import Settings

TTL = 3600
RECEIPT = "0123456789abcdef0123456789abcdef"
LATER = 1_000.0  # seconds after "now": every file made by a test has settled by then


@dataclass
class FakePipeline:
    """Stands in for submit_bytes and the three workers.

    It records each submission and its receipt's status, as submit_bytes does; with
    ``finish=True`` it also records the outcome at once: dead_letter (binary) for bytes holding
    a NUL, indexed otherwise.
    """

    client: fakeredis.FakeRedis
    finish: bool = True
    fail_next: int = 0
    calls: list[tuple[str, str, bytes | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(
        self, data: bytes | None, size: int, *, filename: str, receipt: str, origin_path: str
    ) -> None:
        with self.lock:
            if self.fail_next:
                self.fail_next -= 1
                raise ConnectionError("broker unreachable")
            self.calls.append((filename, receipt, data))
        record_status(self.client, TTL, receipt, "queued", filename=filename)
        if not self.finish:
            return
        if data is not None and b"\0" in data:
            record_status(
                self.client,
                TTL,
                receipt,
                "dead_letter",
                filename=filename,
                stage="ingest",
                reason="binary",
                error="NUL byte at offset 3",
            )
        else:
            record_status(
                self.client,
                TTL,
                receipt,
                "indexed",
                filename=filename,
                stage="index",
                doc_id="d" * 16,
            )

    def submitted(self) -> list[str]:
        return sorted(name for name, _, _ in self.calls)


@pytest.fixture
def client() -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis()


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    return folder


def _watcher(drop: Path, client: fakeredis.FakeRedis, pipeline: FakePipeline) -> DropFolder:
    folder = DropFolder(drop, client, pipeline, max_file_bytes=1024, settle_seconds=0.0)
    folder.prepare()
    return folder


def _names(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def _judge(path: Path, previous: Signature | None = None, now: float | None = None) -> Decision:
    when = time.time() + LATER if now is None else now
    return judge(path.name, os.lstat(path), previous, when, settle_seconds=2.0)


# ---- pure decisions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "verdict", "why"),
    [
        ("story.txt", Verdict.TAKE, "settled"),
        ("story.txt.part", Verdict.SKIP, "in_progress"),
        ("story.tmp", Verdict.SKIP, "in_progress"),
        (".story.txt", Verdict.SKIP, "hidden"),
    ],
)
def test_names_still_being_written_or_hidden_are_left_alone(
    drop: Path, name: str, verdict: Verdict, why: str
) -> None:
    """Scrapers write under .part/.tmp or hidden names and rename when done; taking those
    early would submit half a file."""
    (drop / name).write_text("text")
    assert _judge(drop / name) == Decision(verdict, why)


def test_a_recently_modified_file_waits_to_settle(drop: Path) -> None:
    """A writer that appends in place gives no name hint: a fresh mtime is the only sign."""
    (drop / "a.txt").write_text("text")
    assert _judge(drop / "a.txt", now=time.time()) == Decision(Verdict.WAIT, "settling")


def test_a_file_that_changed_since_the_last_scan_waits(drop: Path) -> None:
    """Growth seen between two scans means the writer is still at it, whatever the clock says."""
    path = drop / "a.txt"
    path.write_text("text")
    before = signature(os.lstat(path))
    with path.open("a") as handle:
        handle.write(" more")
    assert _judge(path, previous=before) == Decision(Verdict.WAIT, "growing")
    assert _judge(path, previous=signature(os.lstat(path))).verdict is Verdict.TAKE


def test_folders_are_skipped_and_links_and_fifos_refused(drop: Path, tmp_path: Path) -> None:
    """Only regular files directly in DIR are taken; a symlink could lead anywhere."""
    (drop / "sub").mkdir()
    (drop / "link.txt").symlink_to(tmp_path / "elsewhere.txt")
    os.mkfifo(drop / "pipe.txt")
    assert _judge(drop / "sub") == Decision(Verdict.SKIP, "folder")
    assert _judge(drop / "link.txt") == Decision(Verdict.REFUSE, "symlink")
    assert _judge(drop / "pipe.txt") == Decision(Verdict.REFUSE, "not_regular_file")


def test_names_that_are_not_plain_or_too_long_are_refused(drop: Path) -> None:
    """A name is joined to our folders later: it must be one component, and fit with the
    claim prefix (or the claiming rename would fail on every scan)."""
    st = os.lstat(drop)
    for name in ("..", "a/b", ""):
        assert judge(name, st, None, 0.0, 0.0) == Decision(Verdict.REFUSE, "unsafe_name")
    long_name = "x" * (MAX_NAME_BYTES + 1)
    (drop / long_name).write_text("text")
    assert _judge(drop / long_name) == Decision(Verdict.REFUSE, "name_too_long")


def test_final_states_map_to_done_or_failed() -> None:
    assert destination("indexed") == destination("duplicate") == "done"
    assert destination("dead_letter") == "failed"
    assert destination("queued") is None
    assert destination("parsed") is None


def test_claim_names_round_trip_and_strangers_are_ignored() -> None:
    """The name in .processing/ is the only record of a claim, so it must parse back exactly."""
    phases: tuple[Phase, ...] = ("claimed", "queued")
    for phase in phases:
        entry = claim_name(RECEIPT, phase, "a--b.txt")
        assert parse_claim(entry) == (RECEIPT, phase, "a--b.txt")
    assert parse_claim(f".{RECEIPT}.reason") is None
    assert parse_claim("notes.txt") is None
    assert parse_claim(f"{RECEIPT}.claimed--..") is None


def test_candidates_keep_the_extension() -> None:
    assert list(islice(candidates("report.txt"), 3)) == [
        "report.txt",
        "report-1.txt",
        "report-2.txt",
    ]
    assert list(islice(candidates("README"), 2)) == ["README", "README-1"]


# ---- claiming -------------------------------------------------------------------------------


def test_two_watchers_claim_one_file_once(drop: Path, client: fakeredis.FakeRedis) -> None:
    """The loser of the rename gets FileNotFoundError and moves on; nothing is sent twice."""
    pipeline = FakePipeline(client, finish=False)
    first, second = _watcher(drop, client, pipeline), _watcher(drop, client, pipeline)
    (drop / "a.txt").write_text("text")
    assert first.claim("a.txt") is True
    assert second.claim("a.txt") is False
    assert pipeline.submitted() == ["a.txt"]
    (receipt_entry,) = _names(drop / ".processing")
    claim = parse_claim(receipt_entry)
    assert claim is not None
    assert claim.phase == "queued"
    assert claim.receipt == pipeline.calls[0][1]


def test_concurrent_watchers_submit_every_file_exactly_once(
    drop: Path, client: fakeredis.FakeRedis
) -> None:
    """Two watchers racing over many files: each file is submitted once and finished once."""
    pipeline = FakePipeline(client)
    names = [f"{number:03}.txt" for number in range(60)]
    for name in names:
        (drop / name).write_text(name)
    watchers = [_watcher(drop, client, pipeline) for _ in range(2)]
    barrier = threading.Barrier(len(watchers))

    def run(watcher: DropFolder) -> None:
        barrier.wait()
        for _ in range(3):
            watcher.scan(now=time.time() + LATER)

    threads = [threading.Thread(target=run, args=(watcher,)) for watcher in watchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert pipeline.submitted() == names
    assert _names(drop / "done") == names
    assert _names(drop / ".processing") == []
    assert _names(drop) == [".processing", "done", "failed"]


def test_a_file_locked_by_another_claimer_is_not_taken(
    drop: Path, client: fakeredis.FakeRedis
) -> None:
    """The flock is held from before the rename: seeing it means a claim is under way."""
    pipeline = FakePipeline(client)
    (drop / "a.txt").write_text("text")
    with (drop / "a.txt").open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert _watcher(drop, client, pipeline).claim("a.txt") is False
    assert pipeline.calls == []
    assert (drop / "a.txt").exists()


# ---- finishing ------------------------------------------------------------------------------


def test_outcomes_go_to_done_and_failed_with_a_reason(
    drop: Path, client: fakeredis.FakeRedis
) -> None:
    """Operators look in failed/ and read why beside the file, without asking Redis."""
    pipeline = FakePipeline(client)
    (drop / "good.txt").write_text("a story")
    (drop / "bad.bin").write_bytes(b"PNG\0\0\0")
    report = _watcher(drop, client, pipeline).scan(now=time.time() + LATER)
    assert (report.claimed, report.done, report.failed, report.pending) == (2, 1, 1, 0)
    assert _names(drop / "done") == ["good.txt"]
    assert (drop / "done" / "good.txt").read_text() == "a story"
    assert _names(drop / "failed") == ["bad.bin", "bad.bin.reason"]
    note = (drop / "failed" / "bad.bin.reason").read_text()
    assert "reason: binary\n" in note
    assert "error: NUL byte at offset 3\n" in note
    receipts = {name: receipt for name, receipt, _ in pipeline.calls}
    assert f"receipt: {receipts['bad.bin']}\n" in note
    assert _names(drop / ".processing") == []


def test_a_scan_reports_each_file_it_finished_and_how(
    drop: Path, client: fakeredis.FakeRedis
) -> None:
    """`newsflow watch` shows a line per finished file: the scan must say which files it moved,
    where to, and their outcome as a person reads it, refusals included."""
    pipeline = FakePipeline(client)
    (drop / "done").mkdir()
    (drop / "done" / "good.txt").write_text("an earlier file of the same name")
    (drop / "good.txt").write_text("a story")
    (drop / "bad.bin").write_bytes(b"PNG\0\0\0")
    (drop / "link.txt").symlink_to("/etc/passwd")
    report = _watcher(drop, client, pipeline).scan(now=time.time() + LATER)
    receipts = {name: receipt for name, receipt, _ in pipeline.calls}
    said = {(f.name, f.outcome, f.detail, f.moved_to, f.doc_id) for f in report.finished}
    assert said == {
        ("good.txt", "done", "indexed", "done/good-1.txt", "d" * 16),
        ("bad.bin", "failed", "dead letter: binary", "failed/bad.bin", None),
        ("link.txt", "failed", "refused: symlink", "failed/link.txt", None),
    }
    by_name = {f.name: f for f in report.finished}
    assert by_name["good.txt"].receipt == receipts["good.txt"]
    assert _watcher(drop, client, pipeline).scan(now=time.time() + LATER).finished == []


def test_a_name_already_in_done_is_never_overwritten(
    drop: Path, client: fakeredis.FakeRedis
) -> None:
    """Scrapers reuse names (index.html, article.txt); every copy must survive."""
    pipeline = FakePipeline(client)
    (drop / "done").mkdir()
    (drop / "done" / "a.txt").write_text("first")
    (drop / "done" / "a-1.txt").write_text("second")
    (drop / "a.txt").write_text("third")
    _watcher(drop, client, pipeline).scan(now=time.time() + LATER)
    assert _names(drop / "done") == ["a-1.txt", "a-2.txt", "a.txt"]
    assert (drop / "done" / "a-2.txt").read_text() == "third"
    assert (drop / "done" / "a.txt").read_text() == "first"


def test_a_note_of_another_file_is_never_overwritten(
    drop: Path, client: fakeredis.FakeRedis
) -> None:
    """failed/x.reason may be some file's data or note: only a note naming our receipt is ours."""
    pipeline = FakePipeline(client)
    (drop / "failed").mkdir()
    (drop / "failed" / "x.bin.reason").write_text("someone else's data")
    (drop / "x.bin").write_bytes(b"\0")
    _watcher(drop, client, pipeline).scan(now=time.time() + LATER)
    assert (drop / "failed" / "x.bin.reason").read_text() == "someone else's data"
    assert _names(drop / "failed") == ["x-1.bin", "x-1.bin.reason", "x.bin.reason"]


# ---- replaying a failed file --------------------------------------------------------------


def _fail_once(drop: Path, client: fakeredis.FakeRedis, name: str, data: bytes) -> str:
    """Drop ``name``, let it fail (binary), and return its receipt."""
    pipeline = FakePipeline(client)
    (drop / name).write_bytes(data)
    _watcher(drop, client, pipeline).scan(now=time.time() + LATER)
    [(_, receipt, _)] = [call for call in pipeline.calls if call[0] == name]
    return receipt


def test_the_failed_copy_of_a_claim_is_found_by_its_receipt(
    drop: Path, client: fakeredis.FakeRedis
) -> None:
    """Two failures of one name: each receipt finds its own copy (a.bin and a-1.bin)."""
    first = _fail_once(drop, client, "a.bin", b"\0one")
    second = _fail_once(drop, client, "a.bin", b"\0two")
    assert _names(drop / "failed") == ["a-1.bin", "a-1.bin.reason", "a.bin", "a.bin.reason"]
    claimed = drop / ".processing"
    assert failed_copy_of(claimed / claim_name(first, "claimed", "a.bin"), first) == (
        drop / "failed" / "a.bin"
    )
    assert failed_copy_of(claimed / claim_name(second, "claimed", "a.bin"), second) == (
        drop / "failed" / "a-1.bin"
    )


def test_no_failed_copy_for_strangers(drop: Path, client: fakeredis.FakeRedis) -> None:
    receipt = _fail_once(drop, client, "a.bin", b"\0")
    processing = drop / ".processing"
    # submitted by path, not through a drop folder
    assert failed_copy_of(drop / "elsewhere" / "a.bin", receipt) is None
    # a claim of another receipt than the letter's
    assert failed_copy_of(processing / claim_name(RECEIPT, "claimed", "a.bin"), receipt) is None
    # the letter's receipt, but nothing of that name failed
    assert failed_copy_of(processing / claim_name(receipt, "claimed", "b.bin"), receipt) is None
    # the copy was taken away (deleted by an operator)
    (drop / "failed" / "a.bin").unlink()
    assert failed_copy_of(processing / claim_name(receipt, "claimed", "a.bin"), receipt) is None


def test_a_reclaimed_file_is_submitted_again_and_ends_in_done(
    drop: Path, client: fakeredis.FakeRedis
) -> None:
    """`dlq replay` of a watched file: back into .processing/ under its receipt, its old note
    gone, submitted, and then finished like any claim."""
    receipt = _fail_once(drop, client, "a.bin", b"\0broken")
    (drop / "failed" / "a.bin").write_bytes(b"fixed text")  # the operator repairs it
    replayer = FakePipeline(client)
    watcher = _watcher(drop, client, replayer)
    assert watcher.reclaim(drop / "failed" / "a.bin", receipt, TTL) is True
    assert replayer.calls == [("a.bin", receipt, b"fixed text")]
    assert _names(drop / "failed") == []
    assert _names(drop / ".processing") == [claim_name(receipt, "queued", "a.bin")]
    assert watcher.scan().done == 1
    assert _names(drop / "done") == ["a.bin"]
    assert read_status(client, receipt).state == "indexed"  # type: ignore[union-attr]


def test_a_reclaimed_file_that_fails_again_gets_a_fresh_note(
    drop: Path, client: fakeredis.FakeRedis
) -> None:
    receipt = _fail_once(drop, client, "a.bin", b"\0broken")
    watcher = _watcher(drop, client, FakePipeline(client))
    assert watcher.reclaim(drop / "failed" / "a.bin", receipt, TTL) is True
    assert watcher.scan().failed == 1
    assert _names(drop / "failed") == ["a.bin", "a.bin.reason"]
    assert f"receipt: {receipt}\n" in (drop / "failed" / "a.bin.reason").read_text()


def test_a_copy_stored_under_another_name_is_reclaimed_under_the_scrapers_name(
    drop: Path, client: fakeredis.FakeRedis
) -> None:
    """failed/a-1.bin is the second a.bin: replayed, it is a.bin again, in done/ too."""
    _fail_once(drop, client, "a.bin", b"\0first")
    receipt = _fail_once(drop, client, "a.bin", b"\0second")
    (drop / "failed" / "a-1.bin").write_bytes(b"fixed text")
    pipeline = FakePipeline(client)
    watcher = _watcher(drop, client, pipeline)
    assert watcher.reclaim(drop / "failed" / "a-1.bin", receipt, TTL, name="a.bin") is True
    assert pipeline.calls == [("a.bin", receipt, b"fixed text")]
    assert _names(drop / "failed") == ["a.bin", "a.bin.reason"]
    assert watcher.scan().done == 1
    assert _names(drop / "done") == ["a.bin"]


def test_a_file_is_reclaimed_once(drop: Path, client: fakeredis.FakeRedis) -> None:
    """Two replays of one letter at once: the second finds the file gone or locked."""
    receipt = _fail_once(drop, client, "a.bin", b"\0")
    pipeline = FakePipeline(client, finish=False)
    watcher = _watcher(drop, client, pipeline)
    assert watcher.reclaim(drop / "failed" / "a.bin", receipt, TTL) is True
    assert watcher.reclaim(drop / "failed" / "a.bin", receipt, TTL) is False
    assert len(pipeline.calls) == 1


def test_a_reclaim_killed_before_its_submit_is_finished_by_a_watcher(
    drop: Path, client: fakeredis.FakeRedis
) -> None:
    """The replayer dies after moving the file: an orphaned claim, resubmitted by the watcher."""
    receipt = _fail_once(drop, client, "a.bin", b"\0broken")
    (drop / "failed" / "a.bin").write_bytes(b"fixed text")
    broken = FakePipeline(client, fail_next=1)
    with pytest.raises(ConnectionError):
        _watcher(drop, client, broken).reclaim(drop / "failed" / "a.bin", receipt, TTL)
    assert _names(drop / ".processing") == [claim_name(receipt, "claimed", "a.bin")]
    watcher = _watcher(drop, client, pipeline := FakePipeline(client))
    watcher.scan()
    assert pipeline.calls == [("a.bin", receipt, b"fixed text")]
    assert watcher.scan().done == 1
    assert _names(drop / "done") == ["a.bin"]


def test_two_finishers_move_a_file_once(drop: Path, client: fakeredis.FakeRedis) -> None:
    """Both watchers see the final status; the second finds the file gone, not a second copy."""
    pipeline = FakePipeline(client)
    first, second = _watcher(drop, client, pipeline), _watcher(drop, client, pipeline)
    src = drop / ".processing" / claim_name(RECEIPT, "queued", "a.txt")
    src.write_text("text")
    assert first.finish(src, "a.txt", "done", RECEIPT) is True
    assert second.finish(src, "a.txt", "done", RECEIPT) is False
    assert _names(drop / "done") == ["a.txt"]


def test_a_finish_cut_short_after_its_note_completes_into_the_same_name(
    drop: Path, client: fakeredis.FakeRedis
) -> None:
    """A watcher killed between writing the note and the rename left failed/a.txt.reason; the
    next finisher must use that name, not leave a stray note and write a-1.txt."""
    record_status(client, TTL, RECEIPT, "dead_letter", stage="ingest", reason="empty", error="e")
    (drop / "failed").mkdir()
    (drop / "failed" / "a.txt.reason").write_text(f"reason: empty\nreceipt: {RECEIPT}\n")
    watcher = _watcher(drop, client, FakePipeline(client))
    (drop / ".processing" / claim_name(RECEIPT, "queued", "a.txt")).write_text("")
    assert watcher.scan().failed == 1
    assert _names(drop / "failed") == ["a.txt", "a.txt.reason"]
    assert "reason: empty\n" in (drop / "failed" / "a.txt.reason").read_text()


def test_a_symlink_is_moved_to_failed_as_a_link_and_never_read(
    drop: Path, client: fakeredis.FakeRedis, tmp_path: Path
) -> None:
    """A link out of the folder must not smuggle another file into the index."""
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    (drop / "news.txt").symlink_to(secret)
    pipeline = FakePipeline(client)
    report = _watcher(drop, client, pipeline).scan(now=time.time() + LATER)
    assert report.refused == 1
    assert pipeline.calls == []
    assert (drop / "failed" / "news.txt").is_symlink()
    note = (drop / "failed" / "news.txt.reason").read_text()
    assert "reason: symlink\n" in note
    assert str(secret) in note
    assert secret.read_text() == "password"
    assert _names(drop) == [".processing", "done", "failed"]


def test_a_refusal_cut_short_after_its_note_completes_into_the_same_name(
    drop: Path, client: fakeredis.FakeRedis, tmp_path: Path
) -> None:
    """A refused entry has no pipeline receipt; its note's receipt comes from the entry itself,
    so a retry after a crash recognises the note it wrote."""
    link = drop / "news.txt"
    link.symlink_to(tmp_path / "elsewhere")
    watcher = _watcher(drop, client, FakePipeline(client))
    note = f"reason: symlink\nreceipt: {refusal_receipt('news.txt', os.lstat(link))}\n"
    (drop / "failed" / "news.txt.reason").write_text(note)
    watcher.scan(now=time.time() + LATER)
    assert _names(drop / "failed") == ["news.txt", "news.txt.reason"]


def test_a_note_draft_left_by_a_killed_watcher_is_swept(
    drop: Path, client: fakeredis.FakeRedis
) -> None:
    """.processing/ must drain to empty; a draft outlives its writer only if the writer died."""
    watcher = _watcher(drop, client, FakePipeline(client))
    (drop / ".processing" / f".{RECEIPT}.reason").write_text("half a no")
    (drop / ".processing" / "someone-elses.txt").write_text("not ours")
    watcher.scan()
    assert _names(drop / ".processing") == ["someone-elses.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_is_refused(drop: Path, client: fakeredis.FakeRedis) -> None:
    """Otherwise it would fail to open on every scan, forever."""
    (drop / "a.txt").write_text("text")
    (drop / "a.txt").chmod(0)
    _watcher(drop, client, FakePipeline(client)).scan(now=time.time() + LATER)
    assert "reason: unreadable\n" in (drop / "failed" / "a.txt.reason").read_text()


# ---- recovery -------------------------------------------------------------------------------


def test_an_orphaned_claim_is_resubmitted_with_its_receipt(
    drop: Path, client: fakeredis.FakeRedis
) -> None:
    """A watcher killed between claim and submit leaves a claimed file nobody holds a lock on;
    the next scan sends it under the same receipt (idempotent downstream) and finishes it."""
    watcher = _watcher(drop, client, pipeline := FakePipeline(client))
    (drop / ".processing" / claim_name(RECEIPT, "claimed", "a.txt")).write_text("text")
    report = watcher.scan()
    assert pipeline.calls == [("a.txt", RECEIPT, b"text")]
    assert report.done == 0  # resubmitted this scan, finished by the next one
    assert _names(drop / ".processing") == [claim_name(RECEIPT, "queued", "a.txt")]
    assert watcher.scan().done == 1
    assert _names(drop / "done") == ["a.txt"]


def test_a_claim_still_held_by_a_live_claimer_is_left_alone(
    drop: Path, client: fakeredis.FakeRedis
) -> None:
    """Between its rename and its submit the claimer holds the lock: no double send."""
    pipeline = FakePipeline(client)
    path = drop / ".processing"
    watcher = _watcher(drop, client, pipeline)
    claimed = path / claim_name(RECEIPT, "claimed", "a.txt")
    claimed.write_text("text")
    with claimed.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert watcher.scan().pending == 1
    assert pipeline.calls == []


def test_a_claim_whose_send_is_proven_is_not_sent_again(
    drop: Path, client: fakeredis.FakeRedis
) -> None:
    """Killed after the send but before renaming to queued: a state past "queued" proves the
    message went out, so the file is only marked."""
    record_status(client, TTL, RECEIPT, "parsed", stage="ingest")
    pipeline = FakePipeline(client)
    watcher = _watcher(drop, client, pipeline)
    (drop / ".processing" / claim_name(RECEIPT, "claimed", "a.txt")).write_text("text")
    watcher.scan()
    assert pipeline.calls == []
    assert _names(drop / ".processing") == [claim_name(RECEIPT, "queued", "a.txt")]


def test_a_queued_claim_whose_receipt_vanished_is_resubmitted(
    drop: Path, client: fakeredis.FakeRedis
) -> None:
    """Receipts expire and Redis can be emptied; the file must not wait in .processing forever."""
    pipeline = FakePipeline(client)
    watcher = _watcher(drop, client, pipeline)
    (drop / ".processing" / claim_name(RECEIPT, "queued", "a.txt")).write_text("text")
    watcher.scan()
    assert [receipt for _, receipt, _ in pipeline.calls] == [RECEIPT]
    watcher.scan()
    assert _names(drop / "done") == ["a.txt"]


def test_a_failed_submit_is_retried_on_the_next_scan(
    drop: Path, client: fakeredis.FakeRedis
) -> None:
    """A broker blip must neither crash the watcher nor lose the file it had just claimed."""
    pipeline = FakePipeline(client, fail_next=1)
    (drop / "a.txt").write_text("text")
    watcher = _watcher(drop, client, pipeline)
    first = watcher.scan(now=time.time() + LATER)
    assert (first.claimed, first.pending) == (0, 1)
    watcher.scan(now=time.time() + LATER)
    watcher.scan(now=time.time() + LATER)
    assert pipeline.submitted() == ["a.txt"]
    assert _names(drop / "done") == ["a.txt"]
    status = read_status(client, pipeline.calls[0][1])
    assert status is not None
    assert status.state == "indexed"


# ---- the loop -------------------------------------------------------------------------------


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None, max_file_bytes=1024)


def _intake(client: fakeredis.FakeRedis, settings: Settings) -> Intake:
    """The watcher's intake; its publisher is never used, since the tests pass ``submit``."""
    return Intake(client, settings, Publisher(make_celery(settings)))


def test_once_takes_what_is_there_and_returns_when_all_are_finished(
    drop: Path, client: fakeredis.FakeRedis, settings: Settings
) -> None:
    """`newsflow watch --once` is the cron-style use: drain the folder, then exit."""
    pipeline = FakePipeline(client)
    (drop / "a.txt").write_text("a")
    (drop / "b.bin").write_bytes(b"\0")
    (drop / "c.txt.part").write_text("not yet")
    summary = watch_folder(
        drop,
        _intake(client, settings),
        interval=0.05,
        once=True,
        settle_seconds=0.1,
        submit=pipeline,
    )
    assert (summary.claimed, summary.done, summary.failed, summary.pending) == (2, 1, 1, 0)
    assert _names(drop) == [".processing", "c.txt.part", "done", "failed"]


def test_once_gives_up_after_its_timeout(
    drop: Path, client: fakeredis.FakeRedis, settings: Settings
) -> None:
    """A pipeline that never answers must not hang a cron job forever."""
    (drop / "a.txt").write_text("a")
    summary = watch_folder(
        drop,
        _intake(client, settings),
        interval=0.05,
        once=True,
        settle_seconds=0.0,
        once_timeout=0.3,
        submit=FakePipeline(client, finish=False),
    )
    assert (summary.claimed, summary.pending) == (1, 1)


def test_the_loop_stops_when_asked_and_picks_up_new_files(
    drop: Path, client: fakeredis.FakeRedis, settings: Settings
) -> None:
    """The service mode: files dropped while it runs are taken; `stop` ends it cleanly."""
    stop = threading.Event()
    pipeline = FakePipeline(client)
    thread = threading.Thread(
        target=watch_folder,
        args=(drop, _intake(client, settings)),
        kwargs={"interval": 0.05, "stop": stop, "settle_seconds": 0.1, "submit": pipeline},
    )
    thread.start()
    try:
        (drop / "late.txt.part").write_text("late")
        (drop / "late.txt.part").rename(drop / "late.txt")
        deadline = time.monotonic() + 10
        while not (drop / "done" / "late.txt").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert _names(drop / "done") == ["late.txt"]


def test_sigterm_sets_stop_and_handlers_are_restored() -> None:
    """SIGTERM must end the loop after its scan (exit 0), not kill it mid-rename."""
    before = signal.getsignal(signal.SIGTERM)
    stop = threading.Event()
    with stop_on_signals(stop) as received:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(5)
    assert received == ["SIGTERM"]
    assert signal.getsignal(signal.SIGTERM) is before


class _Flaky:
    """A Redis that refuses ``down`` pings, then answers."""

    def __init__(self, down: int) -> None:
        self.down = down

    def ping(self) -> bool:
        if self.down:
            self.down -= 1
            raise redis.ConnectionError("Connection refused")
        return True


def test_the_watcher_backs_off_while_redis_is_down_and_says_when_it_is_back() -> None:
    """One warning per back-off step, waits doubling to a cap, not a traceback per second."""
    from services.ingest.watch.loop import MAX_BACKOFF_SECONDS, Outage

    client = _Flaky(down=8)
    outage = Outage(interval=1.0)
    waits = []
    while not outage.redis_answers(client):  # type: ignore[arg-type]
        waits.append(outage.wait)
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, MAX_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS, 30.0]
    assert outage.wait == 1.0, "back to the normal interval once Redis answers"
    assert outage.since is None
