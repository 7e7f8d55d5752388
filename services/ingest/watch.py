"""The drop folder: ``newsflow watch DIR`` submits each file scrapers put in DIR, exactly once.

A file travels ``DIR/name`` -> ``DIR/.processing/<receipt>.claimed--name`` (claimed) ->
``DIR/.processing/<receipt>.queued--name`` (submitted) -> ``DIR/done/name`` or
``DIR/failed/name`` (+ ``name.reason``) once its receipt reaches a final state. Several watchers
may share one folder and any of them may be killed at any moment; every file still ends in
done/ or failed/ exactly once, because:

* Claiming is ``rename(2)`` of ``DIR/name``, atomic on one filesystem: one claimer wins, the
  other gets ``FileNotFoundError``.
* From before that rename until the submission is recorded in the name (``queued``), the
  claimer holds an ``flock`` on the file. The kernel drops it when the process dies, so a
  ``claimed`` file whose lock can be taken is an orphan; whoever takes the lock resubmits it
  under the same receipt (downstream is idempotent per receipt). No grace-period guessing.
* Finishing chooses a free name and renames into it while holding one folder-wide ``flock`` (on
  ``.processing/``): no two watchers interleave "is this name free?" with "take it", so no
  finished file overwrites another, and the second finisher of one file finds it gone. The
  ``.reason`` note is written first and names its receipt, so a finisher killed between note
  and rename is completed later into the same name.

This module never follows a symlink and never reads a path it did not open itself with
``O_NOFOLLOW``: a symlink (or FIFO, socket, device) in DIR is refused by moving the link itself
to failed/ with a reason naming its target, which keeps the drop folder empty and the refusal
visible. The locks need a local filesystem (``flock`` over NFS is not to be relied on).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import signal
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Literal, NamedTuple, Protocol

import redis
import structlog

from services.ingest.confine import RefusedPath, confined, drop_roots, is_inside, opened_path
from services.ingest.intake import IN_PROGRESS_SUFFIXES, Intake, new_receipt, submit_bytes
from shared.receipts import read_status, record_status
from shared.settings import Settings

log = structlog.get_logger(__name__)

PROCESSING = ".processing"
REASON_SUFFIX = ".reason"
DEFAULT_SETTLE_SECONDS = 2.0
DEFAULT_ONCE_TIMEOUT = 300.0
# 255 is NAME_MAX on Linux filesystems; the claim prefix (receipt, phase, "--") must still fit.
MAX_NAME_BYTES = 255 - len(f"{'0' * 32}.claimed--")

Phase = Literal["claimed", "queued"]
Outcome = Literal["done", "failed"]
_CLAIM = re.compile(r"(?P<receipt>[0-9a-f]{32})\.(?P<phase>claimed|queued)--(?P<name>.+)", re.S)
_DRAFT = re.compile(r"\.[0-9a-f]{32}\.reason")
# O_NONBLOCK: opening a FIFO that slipped past the checks must not hang the watcher.
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class Verdict(Enum):
    TAKE = "take"  # settled regular file: claim and submit it
    WAIT = "wait"  # may still be written: look again next scan
    SKIP = "skip"  # not ours to touch (our folders, hidden or in-progress names)
    REFUSE = "refuse"  # never submitted: moved to failed/ with a reason


class Decision(NamedTuple):
    verdict: Verdict
    why: str


class Signature(NamedTuple):
    """What must stay the same between two scans for a file to count as no longer growing."""

    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int


class Claim(NamedTuple):
    receipt: str
    phase: Phase
    name: str


class Submit(Protocol):
    """Queues one file's bytes (None when over the size limit) under ``receipt``."""

    def __call__(
        self, data: bytes | None, size: int, *, filename: str, receipt: str, origin_path: str
    ) -> None: ...


# ---- pure decisions -------------------------------------------------------------------------


def signature(st: os.stat_result) -> Signature:
    return Signature(st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def is_plain_name(name: str) -> bool:
    """A single path component: nothing that could point outside the folder it is joined to."""
    return name not in ("", ".", "..") and "/" not in name and "\0" not in name


def judge(  # noqa: PLR0911  # a decision table: one early return per rule reads best
    name: str, st: os.stat_result, previous: Signature | None, now: float, settle_seconds: float
) -> Decision:
    """What to do with the entry ``name`` of the drop folder, given its ``lstat``.

    ``previous`` is its signature at the last scan (None if not seen then). A file is settled
    when it did not change since then and neither its content (mtime) nor its inode (ctime:
    covers ``cp -p`` and renames, which keep an old mtime) changed for ``settle_seconds``.
    """
    if not is_plain_name(name):
        return Decision(Verdict.REFUSE, "unsafe_name")
    if name.startswith("."):
        return Decision(Verdict.SKIP, "hidden")
    if name.endswith(IN_PROGRESS_SUFFIXES):
        return Decision(Verdict.SKIP, "in_progress")
    if stat.S_ISDIR(st.st_mode):
        return Decision(Verdict.SKIP, "folder")
    if stat.S_ISLNK(st.st_mode):
        return Decision(Verdict.REFUSE, "symlink")
    if not stat.S_ISREG(st.st_mode):
        return Decision(Verdict.REFUSE, "not_regular_file")
    if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        return Decision(Verdict.REFUSE, "name_too_long")
    if previous is not None and previous != signature(st):
        return Decision(Verdict.WAIT, "growing")
    if now - max(st.st_mtime, st.st_ctime) < settle_seconds:
        return Decision(Verdict.WAIT, "settling")
    return Decision(Verdict.TAKE, "settled")


def destination(state: str) -> Outcome | None:
    """Where a file goes for its receipt's state; None while the outcome is not known yet."""
    if state in ("indexed", "duplicate"):
        return "done"
    if state == "dead_letter":
        return "failed"
    return None


def claim_name(receipt: str, phase: Phase, name: str) -> str:
    return f"{receipt}.{phase}--{name}"


def parse_claim(entry: str) -> Claim | None:
    """The claim encoded in a ``.processing/`` entry name; None for anything else."""
    match = _CLAIM.fullmatch(entry)
    if match is None or not is_plain_name(match["name"]):
        return None
    phase: Phase = "claimed" if match["phase"] == "claimed" else "queued"
    return Claim(match["receipt"], phase, match["name"])


def candidates(name: str) -> Iterator[str]:
    """``name``, then ``stem-1.ext``, ``stem-2.ext``, ...: names to try in done/ or failed/."""
    yield name
    dot = name.rfind(".")
    stem, ext = (name[:dot], name[dot:]) if dot > 0 else (name, "")
    number = 1
    while True:
        yield f"{stem}-{number}{ext}"
        number += 1


def refusal_receipt(name: str, st: os.stat_result) -> str:
    """A receipt for a refused entry, the same on every attempt: a watcher killed between note
    and rename is then completed into the same name instead of leaving a stray note."""
    return hashlib.sha256(
        f"{st.st_dev}:{st.st_ino}:{name}".encode(errors="surrogateescape")
    ).hexdigest()[:32]


def refusal_detail(why: str, link_target: str | None) -> str:
    """The error line of a refused entry's ``.reason`` note."""
    if link_target is not None:
        return f"symlink to {link_target!r}, never followed"
    return {
        "not_regular_file": "not a regular file (FIFO, socket or device)",
        "unreadable": "the watcher may not read it",
        "name_too_long": f"name longer than {MAX_NAME_BYTES} bytes",
        "unsafe_name": "not a plain file name",
    }.get(why, why)


def reason_text(*, name: str, receipt: str, reason: str, error: str, stage: str) -> str:
    """The ``.reason`` note. Plain ``key: value`` lines so ``grep`` and people can read it; the
    receipt line is also how a finisher recognises a note it wrote itself before a crash."""
    one_line = " ".join(error.split())
    return (
        f"reason: {reason}\nerror: {one_line}\nstage: {stage}\nfile: {name}\nreceipt: {receipt}\n"
    )


# ---- file-system steps ----------------------------------------------------------------------


def read_fd(fd: int, limit: int) -> tuple[bytes | None, int]:
    """The bytes and size of an open file, or (None, size) over ``limit`` (never read then)."""
    size = os.fstat(fd).st_size
    if size > limit:
        return None, size
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = os.pread(fd, min(1 << 20, limit + 1 - total), total)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return (None, total) if total > limit else (b"".join(chunks), total)


def _same_file(path: Path, st: os.stat_result) -> bool:
    try:
        now = os.lstat(path)
    except FileNotFoundError:
        return False
    return (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino)


def _open_locked(path: Path) -> int | None:
    """An fd of ``path`` holding its exclusive ``flock``, or None when the file is gone, is
    locked by a live process, or was replaced while we opened it."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and _same_file(path, st):
            return fd
    except BlockingIOError:
        pass
    except BaseException:
        os.close(fd)
        raise
    os.close(fd)
    return None


def failed_copy_of(claimed_path: Path, receipt: str) -> Path | None:
    """Where a watcher put the file it had claimed as ``claimed_path`` (the ``origin_path`` its
    ingest message carries) after ``receipt`` failed: the ``DIR/failed/`` entry whose
    ``.reason`` note names the receipt. None when ``claimed_path`` is no drop-folder claim or
    the copy is gone."""
    claim = parse_claim(claimed_path.name)
    if claimed_path.parent.name != PROCESSING or claim is None or claim.receipt != receipt:
        return None
    failed = claimed_path.parent.parent / "failed"
    # finish() took the first candidate that was free or carried this receipt's note, so the
    # search may stop at the first candidate that has neither a file nor a note.
    for candidate in candidates(claim.name):
        target, note = failed / candidate, failed / (candidate + REASON_SUFFIX)
        if not os.path.lexists(target) and not os.path.lexists(note):
            return None
        if _note_names(note, receipt):
            return target if target.is_file() and not target.is_symlink() else None
    raise AssertionError("candidates() never ends")  # pragma: no cover


def _note_names(note: Path, receipt: str) -> bool:
    """Whether the file at ``note`` is a ``.reason`` note written for ``receipt``."""
    try:
        fd = os.open(note, _OPEN_FLAGS)
    except OSError:
        return False
    try:
        return f"\nreceipt: {receipt}\n".encode() in os.pread(fd, 8192, 0)
    finally:
        os.close(fd)


@dataclass
class ScanReport:
    claimed: int = 0
    refused: int = 0
    done: int = 0
    failed: int = 0
    waiting: int = 0  # files in DIR not settled yet
    pending: int = 0  # claims in .processing/ without an outcome, after the scan

    @property
    def idle(self) -> bool:
        return self.waiting == 0 and self.pending == 0


@dataclass
class WatchSummary:
    claimed: int = 0
    refused: int = 0
    done: int = 0
    failed: int = 0
    pending: int = 0  # claims still without an outcome when the watcher stopped
    scans: int = 0

    def add(self, report: ScanReport) -> None:
        self.claimed += report.claimed
        self.refused += report.refused
        self.done += report.done
        self.failed += report.failed
        self.pending = report.pending
        self.scans += 1


@dataclass
class DropFolder:
    """One watcher's view of a drop folder. Its only memory is the last scan's signatures; every
    other fact lives in the folder itself (and in the receipts), so a restart loses nothing."""

    root: Path
    client: redis.Redis
    submit: Submit
    max_file_bytes: int
    settle_seconds: float = DEFAULT_SETTLE_SECONDS
    _seen: dict[str, Signature] = field(default_factory=dict, repr=False)

    @property
    def processing(self) -> Path:
        return self.root / PROCESSING

    def outcome_dir(self, outcome: Outcome) -> Path:
        return self.root / outcome

    def prepare(self) -> None:
        """Create the three folders; refuse to work through a symlinked one (it could send files
        anywhere) or one that is not a folder."""
        for path in (self.processing, self.outcome_dir("done"), self.outcome_dir("failed")):
            with suppress(FileExistsError):
                path.mkdir()
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                raise NotADirectoryError(f"{path} must be a real folder, not a link or a file")

    def scan(self, now: float | None = None) -> ScanReport:
        """One pass: claim what settled in DIR, then finish or recover what is in .processing/."""
        report = ScanReport()
        self._intake(time.time() if now is None else now, report)
        self._tend(report)
        return report

    # -- intake --

    def _intake(self, now: float, report: ScanReport) -> None:
        seen: dict[str, Signature] = {}
        with os.scandir(self.root) as entries:
            listed = [(entry.name, entry) for entry in entries]
        for name, entry in sorted(listed, key=lambda item: item[0]):
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # taken by another watcher since the listing
            decision = judge(name, st, self._seen.get(name), now, self.settle_seconds)
            seen[name] = signature(st)
            if decision.verdict is Verdict.WAIT:
                report.waiting += 1
            elif decision.verdict is Verdict.TAKE:
                report.claimed += self._guarded(name, partial(self.claim, name))
            elif decision.verdict is Verdict.REFUSE:
                report.refused += self._guarded(name, partial(self.refuse, name, decision.why))
        self._seen = seen

    def _guarded(self, name: str, action: Callable[[], bool]) -> int:
        """Run one file's step; a failure is logged and retried next scan, never fatal."""
        try:
            return int(action())
        # The watcher must outlive anything one file (or a Redis blip) can throw at it; the file
        # stays where it is and the next scan tries again.
        except Exception:
            log.exception("watch.file_error", file=name)
            return 0

    def claim(self, name: str) -> bool:
        """Take ``DIR/name`` (True) or find it taken by another watcher (False), then submit it."""
        path = self.root / name
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except OSError as error:
            return self._cannot_open(name, error)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False  # another watcher is claiming it right now
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or not _same_file(path, st):
                return False
            receipt = new_receipt()
            claimed = self.processing / claim_name(receipt, "claimed", name)
            try:
                os.rename(path, claimed)
            except FileNotFoundError:
                return False  # lost the race: the other watcher renamed it first
            log.info("watch.claimed", file=name, receipt=receipt, size=st.st_size)
            self._submit(fd, claimed, Claim(receipt, "claimed", name), resubmit=False)
            return True
        finally:
            os.close(fd)  # releases the flock

    def _cannot_open(self, name: str, error: OSError) -> bool:
        if isinstance(error, FileNotFoundError) or error.errno == errno.ELOOP:
            return False  # taken, or became a symlink since the listing (refused next scan)
        if error.errno in (errno.EACCES, errno.EPERM):
            return self.refuse(name, "unreadable")
        raise error

    def _submit(self, fd: int, path: Path, claim: Claim, *, resubmit: bool) -> None:
        """Submit the locked file ``fd`` and record that in its name (``queued``).

        The bytes come from the fd we locked and checked, never from re-opening a path.
        """
        data, size = read_fd(fd, self.max_file_bytes)
        self.submit(data, size, filename=claim.name, receipt=claim.receipt, origin_path=str(path))
        if resubmit:
            log.warning(
                "watch.resubmitted", file=claim.name, receipt=claim.receipt, was=claim.phase
            )
        if claim.phase == "claimed":
            os.rename(path, self.processing / claim_name(claim.receipt, "queued", claim.name))

    def refuse(self, name: str, why: str) -> bool:
        """Move ``DIR/name`` to failed/ unread, as it is (a symlink moves as the link itself)."""
        path = self.root / name
        try:
            receipt = refusal_receipt(name, os.lstat(path))
            detail = refusal_detail(why, os.readlink(path) if why == "symlink" else None)
        except FileNotFoundError:
            return False  # another watcher refused it first
        moved = self.finish(path, name, "failed", receipt, reason=why, error=detail, stage="watch")
        if moved:
            log.warning("watch.refused", file=name, reason=why, error=detail)
        return moved

    def reclaim(
        self, failed_copy: Path, receipt: str, receipt_ttl_seconds: int, name: str | None = None
    ) -> bool:
        """Put a file from failed/ back through the pipeline under its old receipt (``dlq
        replay`` of a watched file): it becomes a claim in ``.processing/`` again, is submitted
        and, like any claim, ends in done/ or failed/ once. False if another replay took it.
        ``name`` is the name the scraper gave it, when failed/ had to store it as another
        («a-1.txt»); the document and its next place in done/ or failed/ keep that name.

        The same protocol as a first claim: the file is locked before it moves into
        ``.processing/`` and until its submission is recorded, so a replay killed half way
        leaves an orphaned claim that a watcher resubmits. Its receipt still holds the old
        final state, which to a watcher would prove the send, so it is set back to ``queued``
        right after the move (a replay killed between the two leaves the file to go back to
        failed/, where it can be replayed again).
        """
        fd = _open_locked(failed_copy)
        if fd is None:
            return False
        try:
            where = opened_path(fd)
            if where is not None and not is_inside(where, [self.outcome_dir("failed").resolve()]):
                msg = f"{failed_copy} is not in {self.outcome_dir('failed')}"
                raise RefusedPath(msg)
            claim = Claim(receipt, "claimed", name or failed_copy.name)
            claimed = self.processing / claim_name(receipt, "claimed", claim.name)
            with self._finish_lock():
                try:
                    os.rename(failed_copy, claimed)
                except FileNotFoundError:
                    return False
                with suppress(FileNotFoundError):
                    os.unlink(failed_copy.with_name(failed_copy.name + REASON_SUFFIX))
            record_status(self.client, receipt_ttl_seconds, receipt, "queued", filename=claim.name)
            log.info("watch.reclaimed", file=claim.name, receipt=receipt)
            self._submit(fd, claimed, claim, resubmit=False)
            return True
        finally:
            os.close(fd)

    # -- outcomes --

    def _tend(self, report: ScanReport) -> None:
        self._sweep_notes()
        for claim in self._claims():
            try:
                outcome = self._tend_one(claim)
            except Exception:  # same reason as in _guarded: next scan retries
                log.exception("watch.file_error", file=claim.name, receipt=claim.receipt)
                continue
            if outcome == "done":
                report.done += 1
            elif outcome == "failed":
                report.failed += 1
        report.pending = len(self._claims())

    def _sweep_notes(self) -> None:
        """Delete note drafts left by a watcher killed while writing one. Drafts only exist
        while their writer holds the finish lock, so any found under the lock are stale."""
        with os.scandir(self.processing) as entries:
            if not any(_DRAFT.fullmatch(entry.name) for entry in entries):
                return
        with self._finish_lock(), os.scandir(self.processing) as entries:
            for entry in entries:
                if _DRAFT.fullmatch(entry.name):
                    with suppress(FileNotFoundError):
                        os.unlink(entry.path)

    def _claims(self) -> list[Claim]:
        with os.scandir(self.processing) as entries:
            found = [parse_claim(entry.name) for entry in entries]
        return sorted(claim for claim in found if claim is not None)

    def _tend_one(self, claim: Claim) -> Outcome | None:
        """Finish ``claim`` if its outcome is known (returns where it went); else recover it if
        it is orphaned; else leave it pending (None)."""
        path = self.processing / claim_name(claim.receipt, claim.phase, claim.name)
        status = read_status(self.client, claim.receipt) if claim.phase == "queued" else None
        if status is None:
            # Unsent (claimed), or sent but its receipt expired or Redis was emptied.
            self._recover(path, claim)
            return None
        outcome = destination(status.state)
        if outcome is None:
            return None
        moved = self.finish(
            path,
            claim.name,
            outcome,
            claim.receipt,
            reason=(status.reason or "unknown") if outcome == "failed" else None,
            error=status.error or "",
            stage=status.stage or "",
        )
        return outcome if moved else None

    def _recover(self, path: Path, claim: Claim) -> None:
        fd = _open_locked(path)
        if fd is None:
            return  # its claimer is alive and busy with it, or it moved on
        try:
            status = read_status(self.client, claim.receipt)
            # "queued" is written just before the message is sent, so it does not prove the send
            # happened; any later state does. Sending twice is harmless: same receipt.
            if status is None or status.state == "queued":
                self._submit(fd, path, claim, resubmit=True)
            elif claim.phase == "claimed":
                os.rename(path, self.processing / claim_name(claim.receipt, "queued", claim.name))
        finally:
            os.close(fd)

    @contextmanager
    def _finish_lock(self) -> Iterator[None]:
        fd = os.open(self.processing, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def finish(
        self,
        src: Path,
        name: str,
        outcome: Outcome,
        receipt: str,
        *,
        reason: str | None = None,
        error: str = "",
        stage: str = "",
    ) -> bool:
        """Move ``src`` to ``outcome``/ under ``name`` (or the first free ``stem-N.ext``), with a
        ``.reason`` note when ``reason`` is given. False when another watcher already did."""
        folder = self.outcome_dir(outcome)
        with self._finish_lock():
            if not os.path.lexists(src):
                return False
            for candidate in candidates(name):
                target = folder / candidate
                if os.path.lexists(target):
                    continue
                if reason is not None:
                    note = folder / (candidate + REASON_SUFFIX)
                    if os.path.lexists(note) and not _note_names(note, receipt):
                        continue
                    self._write_note(
                        note,
                        receipt,
                        reason_text(
                            name=name, receipt=receipt, reason=reason, error=error, stage=stage
                        ),
                    )
                os.rename(src, target)
                log.info(
                    "watch.finished",
                    file=name,
                    receipt=receipt,
                    outcome=outcome,
                    path=str(target),
                    reason=reason,
                )
                return True
        raise AssertionError("candidates() never ends")  # pragma: no cover

    def _write_note(self, note: Path, receipt: str, text: str) -> None:
        """Write the note whole or not at all: a reader never sees half of it."""
        temporary = self.processing / f".{receipt}{REASON_SUFFIX}"  # matches _DRAFT
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, note)


def reclaim_failed_copy(claimed_path: Path, receipt: str, intake: Intake) -> bool:
    """``dlq replay`` of a file that came through a drop folder and whose bytes were never sent:
    its copy in that folder's failed/ goes through the pipeline again (see ``reclaim``).
    ``claimed_path`` is the ``origin_path`` of its ingest message. False when there is no such
    copy, or another replay took it first; ``RefusedPath`` when the folder it names is not
    inside ``NEWSFLOW_DROP_DIRS`` (a message says where, so a message may not choose)."""
    claim = parse_claim(claimed_path.name)
    if claimed_path.parent.name != PROCESSING or claim is None:
        return False
    settings = intake.settings
    roots = drop_roots(settings)
    try:
        root = confined(claimed_path.parent.parent, roots)
    except FileNotFoundError:
        return False
    failed_copy = failed_copy_of(root / PROCESSING / claimed_path.name, receipt)
    if failed_copy is None:
        return False
    folder = DropFolder(
        root, intake.client, pipeline_submit(intake, source="replay"), settings.max_file_bytes
    )
    folder.prepare()  # refuses a failed/ or .processing/ that is a symlink out of the folder
    return folder.reclaim(failed_copy, receipt, settings.receipt_ttl_seconds, name=claim.name)


# ---- the loop -------------------------------------------------------------------------------


def pipeline_submit(intake: Intake, source: Literal["watch", "replay"] = "watch") -> Submit:
    """The real submission: put the file on the ingest queue under the watcher's receipt."""

    def submit(
        data: bytes | None, size: int, *, filename: str, receipt: str, origin_path: str
    ) -> None:
        # submit_bytes, not submit_path: the claimed file's name carries the receipt prefix,
        # and the document must keep the name the scraper gave it.
        submit_bytes(
            intake,
            data,
            size,
            filename=filename,
            source=source,
            origin_path=origin_path,
            receipt=receipt,
        )

    return submit


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[list[str]]:
    """While inside, SIGTERM and SIGINT set ``stop`` (the scan in progress completes and the
    watcher returns normally, so the process exits 0). A second signal acts as it did before
    (e.g. Ctrl-C raises KeyboardInterrupt), for when a scan hangs. Does nothing off the main
    thread, where Python cannot install handlers; such callers pass their own ``stop``."""
    received: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    signals = (signal.SIGTERM, signal.SIGINT)
    previous = {signum: signal.getsignal(signum) for signum in signals}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signal.Signals(signum).name)  # logged by the loop: no I/O in a handler
        stop.set()
        restore()

    for signum in signals:
        signal.signal(signum, on_signal)
    try:
        yield received
    finally:
        restore()


def check_watched_folder(directory: Path, settings: Settings) -> None:
    """A watcher runs only in a configured drop folder, when any is configured: its failed
    files must be ones ``dlq replay`` may re-read. With none configured it runs where told, and
    says that replays of its too-large files will be refused."""
    roots = drop_roots(settings)
    if not roots:
        log.warning(
            "watch.folder_not_configured",
            directory=str(directory),
            detail="NEWSFLOW_DROP_DIRS is empty: dlq replay will not re-read this folder's files",
        )
    elif not is_inside(directory.resolve(), roots):
        msg = (
            f"{directory} is not inside NEWSFLOW_DROP_DIRS ({', '.join(map(str, roots))}); "
            "add it there, or watch a folder that is"
        )
        raise RefusedPath(msg)


def watch_folder(
    directory: Path,
    intake: Intake,
    *,
    interval: float = 1.0,
    once: bool = False,
    stop: threading.Event | None = None,
    settle_seconds: float = DEFAULT_SETTLE_SECONDS,
    once_timeout: float = DEFAULT_ONCE_TIMEOUT,
    submit: Submit | None = None,
) -> WatchSummary:
    """Scan ``directory`` every ``interval`` seconds until ``stop`` is set or a signal arrives.

    With ``once``, take what is there (waiting for files still settling) and return when every
    claim in ``.processing/`` has an outcome, or after ``once_timeout`` seconds; the summary's
    ``pending`` says how many were still without one.
    """
    check_watched_folder(directory, intake.settings)
    folder = DropFolder(
        directory,
        intake.client,
        submit or pipeline_submit(intake),
        max_file_bytes=intake.settings.max_file_bytes,
        settle_seconds=settle_seconds,
    )
    folder.prepare()
    stop = stop or threading.Event()
    summary = WatchSummary()
    deadline = time.monotonic() + once_timeout
    log.info("watch.started", directory=str(directory), interval=interval, once=once)
    with stop_on_signals(stop) as received:
        while True:
            report = folder.scan()
            summary.add(report)
            if once and report.idle:
                break
            if once and time.monotonic() >= deadline:
                log.warning(
                    "watch.once_timed_out",
                    pending=report.pending,
                    waiting=report.waiting,
                    timeout=once_timeout,
                )
                break
            if stop.wait(interval):
                break
    log.info(
        "watch.stopped",
        signal=received[0] if received else None,
        claimed=summary.claimed,
        done=summary.done,
        failed=summary.failed,
        refused=summary.refused,
        pending=summary.pending,
    )
    return summary
