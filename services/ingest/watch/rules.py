"""The drop folder's rules: pure decisions on names, states and what to do with a file.

Nothing here touches the file system or Redis, so every rule is tested directly.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterator
from enum import Enum
from typing import Literal, NamedTuple

from services.ingest.intake import IN_PROGRESS_SUFFIXES

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
