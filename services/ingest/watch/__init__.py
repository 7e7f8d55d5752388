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

This package never follows a symlink and never reads a path it did not open itself with
``O_NOFOLLOW``: a symlink (or FIFO, socket, device) in DIR is refused by moving the link itself
to failed/ with a reason naming its target, which keeps the drop folder empty and the refusal
visible. The locks need a local filesystem (``flock`` over NFS is not to be relied on).
"""

from __future__ import annotations

from services.ingest.watch.folder import (
    DropFolder,
    Finished,
    ScanReport,
    Submit,
    WatchSummary,
    failed_copy_of,
    pipeline_submit,
    read_fd,
    reclaim_failed_copy,
)
from services.ingest.watch.loop import (
    CannotMoveFiles,
    check_can_move_files,
    check_watched_folder,
    stop_on_signals,
    watch_folder,
)
from services.ingest.watch.rules import (
    DEFAULT_ONCE_TIMEOUT,
    DEFAULT_SETTLE_SECONDS,
    MAX_NAME_BYTES,
    PROCESSING,
    REASON_SUFFIX,
    Claim,
    Decision,
    Outcome,
    Phase,
    Signature,
    Verdict,
    candidates,
    claim_name,
    destination,
    is_plain_name,
    judge,
    parse_claim,
    reason_text,
    refusal_detail,
    refusal_receipt,
    signature,
)

__all__ = [
    "DEFAULT_ONCE_TIMEOUT",
    "DEFAULT_SETTLE_SECONDS",
    "MAX_NAME_BYTES",
    "PROCESSING",
    "REASON_SUFFIX",
    "CannotMoveFiles",
    "Claim",
    "Decision",
    "DropFolder",
    "Finished",
    "Outcome",
    "Phase",
    "ScanReport",
    "Signature",
    "Submit",
    "Verdict",
    "WatchSummary",
    "candidates",
    "check_can_move_files",
    "check_watched_folder",
    "claim_name",
    "destination",
    "failed_copy_of",
    "is_plain_name",
    "judge",
    "parse_claim",
    "pipeline_submit",
    "read_fd",
    "reason_text",
    "reclaim_failed_copy",
    "refusal_detail",
    "refusal_receipt",
    "signature",
    "stop_on_signals",
    "watch_folder",
]
