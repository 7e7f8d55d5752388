"""The drop folder's protocol on disk: claim, submit, tend and finish each file exactly once
(see the package docstring for why it holds when watchers share a folder or die)."""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal, Protocol

import redis
import structlog

from services.ingest.confine import RefusedPath, confined, drop_roots, is_inside, opened_path
from services.ingest.intake import Intake, new_receipt, submit_bytes
from services.ingest.watch.rules import (
    _DRAFT,
    _OPEN_FLAGS,
    DEFAULT_SETTLE_SECONDS,
    PROCESSING,
    REASON_SUFFIX,
    Claim,
    Outcome,
    Signature,
    Verdict,
    candidates,
    claim_name,
    destination,
    judge,
    parse_claim,
    reason_text,
    refusal_detail,
    refusal_receipt,
    signature,
)
from shared.receipts import read_status, record_status

log = structlog.get_logger("services.ingest.watch")


class Submit(Protocol):
    """Queues one file's bytes (None when over the size limit) under ``receipt``."""

    def __call__(
        self, data: bytes | None, size: int, *, filename: str, receipt: str, origin_path: str
    ) -> None: ...


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


@dataclass(frozen=True)
class Finished:
    """A file this watcher moved to done/ or failed/, and why, as a person reads it
    (``indexed``, ``near-duplicate of X (0.82)``, ``dead letter: binary``, ``refused: symlink``)."""

    name: str
    outcome: Outcome
    receipt: str
    detail: str
    doc_id: str | None = None
    moved_to: str = ""  # its path under the watched folder: done/a.txt, failed/a-1.txt


@dataclass
class ScanReport:
    claimed: int = 0
    refused: int = 0
    done: int = 0
    failed: int = 0
    waiting: int = 0  # files in DIR not settled yet
    pending: int = 0  # claims in .processing/ without an outcome, after the scan
    finished: list[Finished] = field(default_factory=list)  # in the order they were moved

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
    # What finish() moved since the scan began; handed to that scan's report.
    _finished: list[Finished] = field(default_factory=list, repr=False)

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
        self._finished.clear()  # moves made outside a scan (a replay's) are not this scan's
        self._intake(time.time() if now is None else now, report)
        self._tend(report)
        report.finished = list(self._finished)
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
        moved = self.finish(
            path,
            name,
            "failed",
            receipt,
            reason=why,
            error=detail,
            stage="watch",
            detail=f"refused: {why}",
        )
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
            detail=status.outcome(),
            doc_id=status.doc_id,
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
        detail: str | None = None,
        doc_id: str | None = None,
    ) -> bool:
        """Move ``src`` to ``outcome``/ under ``name`` (or the first free ``stem-N.ext``), with a
        ``.reason`` note when ``reason`` is given. False when another watcher already did.
        ``detail`` and ``doc_id`` are what the scan's report says of it."""
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
                said = detail or (f"dead letter: {reason}" if reason else outcome)
                self._finished.append(
                    Finished(name, outcome, receipt, said, doc_id, f"{outcome}/{candidate}")
                )
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
