"""The watcher's loop: scan the folder every interval until stopped, submitting through the
pipeline; and the safety checks made before it starts."""

from __future__ import annotations

import os
import signal
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import redis
import structlog

from services.ingest.confine import RefusedPath, drop_roots, is_inside
from services.ingest.intake import Intake
from services.ingest.watch.folder import (
    DropFolder,
    ScanReport,
    Submit,
    WatchSummary,
    pipeline_submit,
)
from services.ingest.watch.rules import (
    DEFAULT_ONCE_TIMEOUT,
    DEFAULT_SETTLE_SECONDS,
    PROCESSING,
)
from shared.settings import Settings

log = structlog.get_logger("services.ingest.watch")


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


class CannotMoveFiles(Exception):
    """The watcher may not rename files in the drop folder (or one of its subfolders)."""


def check_can_move_files(directory: Path) -> None:
    """Moving a file out of DIR and into its subfolders needs write access to each folder (not
    to the file). In a container the process's uid is not the host user's, and a bind-mounted
    folder keeps the host's owner: say so at start, naming both, rather than fail on every file
    forever."""
    folders = [directory, *(directory / name for name in (PROCESSING, "done", "failed"))]
    effective = os.access in os.supports_effective_ids
    for folder in folders:
        try:
            st = os.stat(folder)
        except FileNotFoundError:
            continue  # created by this watcher, as its own
        if os.access(folder, os.W_OK | os.X_OK, effective_ids=effective):
            continue
        msg = (
            f"cannot move files in {folder}: it belongs to uid {st.st_uid} (gid {st.st_gid}, "
            f"{stat.filemode(st.st_mode)}) and this process runs as uid {os.geteuid()} "
            f"(gid {os.getegid()}); run the watcher as the folder's owner (docker compose: "
            f"NEWSFLOW_UID={st.st_uid} and NEWSFLOW_GID={st.st_gid} in .env) or let it write there"
        )
        raise CannotMoveFiles(msg)


# The longest wait between two looks at a Redis that is down.
MAX_BACKOFF_SECONDS = 30.0


class Outage:
    """Redis down: wait longer and longer between looks (doubling up to MAX_BACKOFF_SECONDS),
    one warning per step rather than a traceback per scan, and one line when it is back."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self.wait = interval
        self.since: float | None = None

    def redis_answers(self, client: redis.Redis) -> bool:
        try:
            client.ping()
        except (redis.ConnectionError, redis.TimeoutError) as error:
            if self.since is None:
                self.since = time.monotonic()
                self.wait = self._interval
            else:
                self.wait = min(self.wait * 2, MAX_BACKOFF_SECONDS)
            log.warning("watch.redis_unreachable", error=str(error)[:200], retry_in=self.wait)
            return False
        if self.since is not None:
            log.warning("watch.redis_back", after_s=round(time.monotonic() - self.since, 1))
            self.since = None
            self.wait = self._interval
        return True


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
    on_scan: Callable[[ScanReport], None] | None = None,
) -> WatchSummary:
    """Scan ``directory`` every ``interval`` seconds until ``stop`` is set or a signal arrives.

    With ``once``, take what is there (waiting for files still settling) and return when every
    claim in ``.processing/`` has an outcome, or after ``once_timeout`` seconds; the summary's
    ``pending`` says how many were still without one. ``on_scan`` sees each scan's report
    (what it claimed and finished), e.g. to show progress.
    """
    check_watched_folder(directory, intake.settings)
    check_can_move_files(directory)
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
    outage = Outage(interval)
    with stop_on_signals(stop) as received:
        while True:
            if not outage.redis_answers(intake.client):
                if stop.wait(outage.wait):
                    break
                continue
            report = folder.scan()
            summary.add(report)
            if on_scan is not None:
                on_scan(report)
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
