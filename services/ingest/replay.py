"""Replaying dead letters: put the original payload back on its stage's queue.

The letter is taken out before its message is queued (a fast worker may dead-letter the
retry under the same receipt, and that new letter must survive) and put back if queueing
fails, so a failed replay loses nothing. An ingest letter whose bytes were never sent
(``too_large``) or whose claim-checked blob has expired is re-read from the path it was
submitted from, when that file still exists, or, for a file that came through a drop folder,
from its copy in that folder's failed/.

A letter's ``origin_path`` is whatever its message said, so a file is re-read only inside the
folders listed in ``NEWSFLOW_DROP_DIRS`` (see ``services.ingest.confine``). A file sent with
``newsflow submit`` from elsewhere is not re-read: the operator submits it again, or lists its
folder in ``NEWSFLOW_DROP_DIRS`` to allow replays from there.
"""

from __future__ import annotations

import os
from pathlib import Path

import redis
from pydantic import ValidationError

from services.ingest.confine import RefusedPath, drop_roots, open_confined
from services.ingest.intake import Intake, submit_bytes
from services.ingest.watch import read_fd, reclaim_failed_copy
from shared.blobs import get_blob
from shared.deadletters import DeadLetterStore
from shared.messages import DeadLetter, RawFile
from shared.stages import TASK_NAMES, Stage

_RESUBMIT = (
    "submit the file again with `newsflow submit`, or add its folder to NEWSFLOW_DROP_DIRS "
    "to allow replays from there"
)


class NotReplayable(Exception):
    """The letter holds no task message that could be sent again."""


def _needs_reread(raw: RawFile, client: redis.Redis) -> bool:
    if raw.content_b64 is not None:
        return False
    return raw.blob_key is None or get_blob(client, raw.blob_key) is None


def _reread(raw: RawFile, receipt: str, intake: Intake) -> None:
    """Submit the file again from where it is now: the path it was sent from, or, for a file
    that came through a drop folder, its copy in that folder's failed/ (which the watcher then
    tends like a new claim, so it ends in done/ or failed/ again)."""
    gone = NotReplayable("its bytes were never stored and the original file is gone")
    if not raw.origin_path:
        raise gone
    origin = Path(raw.origin_path)
    settings = intake.settings
    roots = drop_roots(settings)
    try:
        fd = open_confined(origin, roots)
    except FileNotFoundError:
        fd = None
    except (RefusedPath, OSError) as error:
        raise NotReplayable(f"{error}; {_RESUBMIT}") from None
    if fd is not None:
        try:
            data, size = read_fd(fd, settings.max_file_bytes)
        finally:
            os.close(fd)
        submit_bytes(
            intake,
            data,
            size,
            filename=origin.name,
            source="replay",
            origin_path=str(origin),
            receipt=receipt,
        )
        return
    try:
        reclaimed = reclaim_failed_copy(origin, receipt, intake)
    except RefusedPath as error:
        raise NotReplayable(f"{error}; {_RESUBMIT}") from None
    if not reclaimed:
        raise gone


def replay(letter: DeadLetter, intake: Intake) -> None:
    store = DeadLetterStore.for_settings(intake.client, intake.settings)
    store.remove(letter)
    try:
        _requeue(letter, intake)
    except BaseException:
        store.add(letter)
        raise


def _requeue(letter: DeadLetter, intake: Intake) -> None:
    stage = _stage_of(letter)
    if letter.stage == "ingest" and letter.reason != "invalid_message":
        try:
            raw = RawFile.model_validate(letter.payload)
        except ValidationError as error:
            raise NotReplayable(f"its payload is not a valid RawFile: {error}") from None
        if _needs_reread(raw, intake.client):
            _reread(raw, letter.receipt, intake)
            return
    intake.ledger.open(
        letter.receipt,
        stage=stage,
        payload=letter.payload,
        filename=str(letter.payload.get("filename", "")) or None,
    )
    intake.publisher.send(stage, letter.payload)


def _stage_of(letter: DeadLetter) -> Stage:
    for stage, name in TASK_NAMES.items():
        if letter.stage == stage and letter.task_name == name:
            return stage
    raise NotReplayable(f"not a task message ({letter.reason}); inspect it with dlq show")
