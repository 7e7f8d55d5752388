"""Which local files newsflow reads on a message's word: only those inside the drop folders.

A message's ``origin_path`` is not to be trusted: whoever can put a message on the ingest queue
(any Celery producer, anyone who can write to Redis) chooses it, and ``dlq replay`` re-reads a
file from it. So a file is read only when its real path (every symlink resolved) lies inside
one of the folders the operator listed in ``NEWSFLOW_DROP_DIRS``, and the check is made again on
the file actually opened, so a symlink swapped in between the check and the open cannot lead
outside. With no folder configured, nothing is read on a message's word.

This module never decides what to do with a file; it only says whether it may be opened.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from shared.settings import Settings

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class RefusedPath(Exception):
    """A path newsflow will not read for a message: outside the drop folders, or not a file."""


def drop_roots(settings: Settings) -> tuple[Path, ...]:
    """The configured drop folders, resolved (a folder may itself be reached by a symlink)."""
    return tuple(folder.resolve() for folder in settings.drop_dirs)


def is_inside(path: Path, roots: Sequence[Path]) -> bool:
    """``path`` (already resolved) is one of ``roots`` or lies under one."""
    return any(path == root or path.is_relative_to(root) for root in roots)


def _describe(roots: Sequence[Path]) -> str:
    return ", ".join(map(str, roots)) if roots else "none configured"


def confined(path: Path, roots: Sequence[Path]) -> Path:
    """The real path of ``path`` if it lies inside ``roots``; ``RefusedPath`` if not,
    ``FileNotFoundError`` if it does not exist."""
    real = path.resolve(strict=True)
    if not is_inside(real, roots):
        msg = f"{path} is outside NEWSFLOW_DROP_DIRS ({_describe(roots)})"
        raise RefusedPath(msg)
    return real


def opened_path(fd: int) -> Path | None:
    """Where the file behind ``fd`` really is (Linux ``/proc``); None where that is unknown."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        return None


def open_confined(path: Path, roots: Sequence[Path]) -> int:
    """A read-only fd of the regular file ``path``, which must lie inside ``roots``.

    The caller owns (and closes) the fd. The path is resolved and checked, opened without
    following a final symlink, and the opened file is checked again: by its ``/proc`` path
    where there is one, else by being the same inode as the checked path.
    """
    real = confined(path, roots)
    fd = os.open(real, _OPEN_FLAGS)
    try:
        st = os.fstat(fd)
        where = opened_path(fd)
        if where is None:
            same = os.stat(real, follow_symlinks=False)
            where = real if (same.st_dev, same.st_ino) == (st.st_dev, st.st_ino) else None
        if where is None or not is_inside(where, roots):
            msg = f"{path} moved outside NEWSFLOW_DROP_DIRS ({_describe(roots)}) while opened"
            raise RefusedPath(msg)
        if not stat.S_ISREG(st.st_mode):
            msg = f"{path} is not a regular file"
            raise RefusedPath(msg)
    except BaseException:
        os.close(fd)
        raise
    return fd
