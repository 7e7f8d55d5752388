"""Intake: turning a file on disk into a ``RawFile`` message and putting it on the ingest queue.

Used by ``newsflow submit``, the drop-folder watcher and the in-process runner. A file over the
size limit is never read into memory: its message carries only the size, and the ingest worker
dead-letters it as ``too_large`` (so the refusal is visible, listed and replayable like any other).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import redis

from shared.blobs import put_blob
from shared.celery_app import Publisher, make_celery
from shared.messages import RawFile, Source
from shared.receipts import Ledger
from shared.redis_client import redis_client
from shared.settings import Settings

# Names scrapers use while a file is still being written; never take those.
IN_PROGRESS_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial")


@dataclass(frozen=True)
class Intake:
    """What a submitter needs: the state Redis (receipts, blobs), the settings and a publisher
    to the ingest queue. Built once per process by whoever submits (the command, the watcher,
    the API) from its own settings."""

    client: redis.Redis
    settings: Settings
    publisher: Publisher

    @classmethod
    def connect(cls, settings: Settings) -> Intake:
        return cls(redis_client(settings.redis_url), settings, Publisher(make_celery(settings)))

    @property
    def ledger(self) -> Ledger:
        return Ledger(self.client, self.settings)


def read_limited(path: Path, limit: int) -> tuple[bytes | None, int]:
    """The file's bytes and size, or (None, size) when it is over ``limit`` bytes.

    Reads at most ``limit + 1`` bytes, so a huge (or still growing) file costs no more memory
    than the limit itself.
    """
    size = path.stat().st_size
    if size > limit:
        return None, size
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    return (None, len(data)) if len(data) > limit else (data, len(data))


def new_receipt() -> str:
    return uuid.uuid4().hex


def raw_file_message(
    data: bytes | None,
    size: int,
    *,
    filename: str,
    source: Source,
    origin_path: str | None,
    receipt: str | None = None,
    blob_key: str | None = None,
    source_name: str | None = None,
) -> RawFile:
    return RawFile(
        source_name=source_name,
        receipt=receipt or new_receipt(),
        source=source,
        filename=filename,
        size=size,
        received_at=datetime.now(UTC),
        content_b64=None if data is None or blob_key else base64.b64encode(data).decode(),
        blob_key=blob_key,
        origin_path=origin_path,
    )


def submit_bytes(
    intake: Intake,
    data: bytes | None,
    size: int,
    *,
    filename: str,
    source: Source,
    origin_path: str | None = None,
    receipt: str | None = None,
    source_name: str | None = None,
) -> RawFile:
    """Queue one raw file for ingest; bytes over ``inline_max_bytes`` go by claim-check.

    The receipt is opened in the ledger, with this message as what drives it again, before the
    message is published: from then on the file cannot be lost, only late.
    """
    settings = intake.settings
    receipt = receipt or new_receipt()
    blob_key = None
    if data is not None and len(data) > settings.inline_max_bytes:
        blob_key = put_blob(intake.client, receipt, data, settings.blob_ttl_seconds)
    raw = raw_file_message(
        data,
        size,
        filename=filename,
        source=source,
        origin_path=origin_path,
        receipt=receipt,
        blob_key=blob_key,
        source_name=source_name,
    )
    payload = raw.model_dump(mode="json")
    intake.ledger.open(receipt, stage="ingest", payload=payload, filename=filename)
    intake.publisher.send("ingest", payload)
    return raw


def submit_path(
    intake: Intake,
    path: Path,
    *,
    source: Source = "cli",
    receipt: str | None = None,
    source_name: str | None = None,
) -> RawFile:
    data, size = read_limited(path, intake.settings.max_file_bytes)
    return submit_bytes(
        intake,
        data,
        size,
        filename=path.name,
        source=source,
        origin_path=str(path.resolve()),
        receipt=receipt,
        source_name=source_name,
    )


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files named directly, plus every regular file under named folders, sorted; folders skip
    hidden entries and files still being written."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    child
                    for child in path.rglob("*")
                    if child.is_file()
                    and not any(part.startswith(".") for part in child.relative_to(path).parts)
                    and not child.name.endswith(IN_PROGRESS_SUFFIXES)
                )
            )
        else:
            found.append(path)
    return found
