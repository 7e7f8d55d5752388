"""A message cannot make newsflow read a file outside the drop folders, nor touch a Redis key
outside its own claim-check: ``dlq replay``, the watcher, the blob store and the message model.

The audit that prompted these: a crafted ``too_large`` message with ``origin_path=/etc/passwd``
ended with /etc/passwd searchable, and a ``blob_key`` naming any key was read and deleted.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fakeredis
import pytest
from pydantic import ValidationError

from services.ingest.confine import RefusedPath, confined, open_confined
from services.ingest.intake import Intake
from services.ingest.replay import NotReplayable, replay
from services.ingest.watch import claim_name, reason_text, watch_folder
from shared.blobs import drop_blob, get_blob, keep_blob, put_blob
from shared.celery_app import Publisher, make_celery
from shared.deadletters import DeadLetterStore
from shared.messages import DeadLetter, RawFile
from shared.settings import Settings

RECEIPT = "0123456789abcdef0123456789abcdef"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
SECRET = b"root:x:0:0:secret line\n"


@pytest.fixture
def client() -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis()


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    return folder


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file no message may make newsflow read (stands for /etc/passwd)."""
    folder = tmp_path / "private"
    folder.mkdir()
    secret = folder / "passwd"
    secret.write_bytes(SECRET)
    return secret


class Submitted:
    """Stands in for ``submit_bytes`` where replay would queue a re-read file."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, intake: Any, data: bytes | None, size: int, **kw: Any) -> Any:
        self.calls.append({"data": data, "size": size, **kw})


@pytest.fixture
def submitted(monkeypatch: pytest.MonkeyPatch) -> Submitted:
    fake = Submitted()
    monkeypatch.setattr("services.ingest.replay.submit_bytes", fake)
    monkeypatch.setattr("services.ingest.watch.folder.submit_bytes", fake)
    return fake


def settings(*drop_dirs: Path) -> Settings:
    return Settings(_env_file=None, drop_dirs=list(drop_dirs), max_file_bytes=1024)


def intake(client: fakeredis.FakeRedis, chosen: Settings) -> Intake:
    """What replay and the watcher submit through; its publisher is never reached here, since
    the tests stand in for ``submit_bytes``."""
    return Intake(client, chosen, Publisher(make_celery(chosen)))


def too_large_letter(origin_path: str, **payload: Any) -> DeadLetter:
    raw = RawFile(
        receipt=RECEIPT,
        source="task",
        filename="passwd",
        size=5000,
        received_at=NOW,
        origin_path=origin_path,
    )
    return DeadLetter(
        stage="ingest",
        receipt=RECEIPT,
        reason="too_large",
        error="5000 bytes was over the submitter's limit",
        failed_at=NOW,
        task_name="ingest.receive",
        payload={**raw.model_dump(mode="json"), **payload},
    )


# ---- the path check ------------------------------------------------------------------------


def test_a_file_inside_a_drop_folder_is_opened(drop: Path) -> None:
    (drop / "failed").mkdir()
    (drop / "failed" / "a.txt").write_bytes(b"news")
    fd = open_confined(drop / "failed" / "a.txt", [drop.resolve()])
    try:
        assert os.read(fd, 100) == b"news"
    finally:
        os.close(fd)


def test_paths_outside_the_drop_folders_are_refused(drop: Path, outside: Path) -> None:
    """Outright, by ``..``, through a symlink planted in the drop folder, or through a
    symlinked sub-folder: the real path decides."""
    roots = [drop.resolve()]
    (drop / "link").symlink_to(outside)
    (drop / "sub").symlink_to(outside.parent)
    for path in (
        outside,
        drop / ".." / "private" / "passwd",
        drop / "link",
        drop / "sub" / "passwd",
    ):
        with pytest.raises(RefusedPath, match="outside NEWSFLOW_DROP_DIRS"):
            open_confined(path, roots)


def test_nothing_is_read_without_configured_drop_folders(drop: Path) -> None:
    (drop / "a.txt").write_bytes(b"news")
    with pytest.raises(RefusedPath, match="none configured"):
        open_confined(drop / "a.txt", [])


def test_only_regular_files_are_opened(drop: Path) -> None:
    (drop / "folder").mkdir()
    os.mkfifo(drop / "fifo")
    for path in (drop / "folder", drop / "fifo"):
        with pytest.raises(RefusedPath, match="not a regular file"):
            open_confined(path, [drop.resolve()])


def test_a_drop_folder_reached_through_a_symlink_counts_as_its_real_folder(
    drop: Path, tmp_path: Path
) -> None:
    """/srv/drop -> /mnt/disk/drop is common; the configured name may be the link."""
    link = tmp_path / "drop-link"
    link.symlink_to(drop)
    (drop / "a.txt").write_bytes(b"news")
    assert confined(link / "a.txt", [link.resolve()]) == (drop / "a.txt").resolve()


@pytest.mark.parametrize("value", ["relative/drop", "/", "/srv/drop,drop"])
def test_drop_dirs_must_be_absolute_and_not_the_root(value: str) -> None:
    with pytest.raises(ValidationError, match="drop_dirs"):
        Settings(_env_file=None, drop_dirs=value)


def test_drop_dirs_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSFLOW_DROP_DIRS", "/srv/drop, /srv/inbox")
    assert Settings(_env_file=None).drop_dirs == [Path("/srv/drop"), Path("/srv/inbox")]


# ---- dlq replay ----------------------------------------------------------------------------


def test_replay_refuses_a_message_naming_a_file_outside_the_drop_folders(
    client: fakeredis.FakeRedis, drop: Path, outside: Path, submitted: Submitted
) -> None:
    """The audit's attack: a crafted too_large message with origin_path=/etc/passwd."""
    store = DeadLetterStore(client)
    letter = too_large_letter(str(outside))
    store.add(letter)
    with pytest.raises(NotReplayable, match="outside NEWSFLOW_DROP_DIRS"):
        replay(letter, intake(client, settings(drop)))
    assert submitted.calls == []
    assert store.find(RECEIPT) is not None  # the letter is kept, not lost


def test_replay_refuses_a_symlink_in_the_drop_folder_to_a_file_outside(
    client: fakeredis.FakeRedis, drop: Path, outside: Path, submitted: Submitted
) -> None:
    (drop / "innocent.txt").symlink_to(outside)
    letter = too_large_letter(str(drop / "innocent.txt"))
    with pytest.raises(NotReplayable, match="outside NEWSFLOW_DROP_DIRS"):
        replay(letter, intake(client, settings(drop)))
    assert submitted.calls == []


def test_replay_rereads_a_file_inside_the_drop_folders(
    client: fakeredis.FakeRedis, drop: Path, submitted: Submitted
) -> None:
    (drop / "report.txt").write_bytes(b"fixed report")
    replay(too_large_letter(str(drop / "report.txt")), intake(client, settings(drop)))
    [call] = submitted.calls
    assert (call["data"], call["receipt"], call["source"]) == (b"fixed report", RECEIPT, "replay")


def test_a_submitted_file_outside_the_drop_folders_is_not_reread(
    client: fakeredis.FakeRedis, tmp_path: Path, drop: Path, submitted: Submitted
) -> None:
    """`newsflow submit ~/x.txt` records where it read the file, but a letter cannot prove it
    came from the operator's own submit: the operator resubmits, or allows that folder."""
    own = tmp_path / "mine.txt"
    own.write_bytes(b"text")
    letter = too_large_letter(str(own))
    with pytest.raises(NotReplayable, match="newsflow submit"):
        replay(letter, intake(client, settings(drop)))
    with pytest.raises(NotReplayable, match="none configured"):
        replay(letter, intake(client, settings()))
    assert submitted.calls == []
    replay(letter, intake(client, settings(drop, tmp_path)))  # the operator allowed that folder
    assert [call["data"] for call in submitted.calls] == [b"text"]


def test_replay_refuses_a_crafted_drop_folder_claim_outside_the_drop_folders(
    client: fakeredis.FakeRedis, drop: Path, tmp_path: Path, submitted: Submitted
) -> None:
    """A claim path names a folder whose failed/ copy replay would move and read: that folder
    must be a configured one too."""
    other = tmp_path / "home"
    (other / "failed").mkdir(parents=True)
    (other / "failed" / "notes.txt").write_bytes(SECRET)
    (other / "failed" / "notes.txt.reason").write_text(
        reason_text(name="notes.txt", receipt=RECEIPT, reason="too_large", error="", stage="")
    )
    claimed = other / ".processing" / claim_name(RECEIPT, "claimed", "notes.txt")
    with pytest.raises(NotReplayable, match="outside NEWSFLOW_DROP_DIRS"):
        replay(too_large_letter(str(claimed)), intake(client, settings(drop)))
    assert (other / "failed" / "notes.txt").read_bytes() == SECRET  # not moved, not read
    assert submitted.calls == []


def test_replay_of_a_watched_file_reclaims_its_failed_copy(
    client: fakeredis.FakeRedis, drop: Path, submitted: Submitted
) -> None:
    (drop / "failed").mkdir()
    (drop / "failed" / "r.txt").write_bytes(b"fixed")
    (drop / "failed" / "r.txt.reason").write_text(
        reason_text(name="r.txt", receipt=RECEIPT, reason="too_large", error="", stage="ingest")
    )
    claimed = drop / ".processing" / claim_name(RECEIPT, "claimed", "r.txt")
    replay(too_large_letter(str(claimed)), intake(client, settings(drop)))
    assert [call["data"] for call in submitted.calls] == [b"fixed"]
    assert not (drop / "failed" / "r.txt").exists()


def test_replay_refuses_a_letter_whose_blob_key_is_not_its_own(
    client: fakeredis.FakeRedis, drop: Path, submitted: Submitted
) -> None:
    client.set("newsflow:doc:victim", b"keep me")
    letter = too_large_letter(str(drop / "x.txt"), blob_key="newsflow:doc:victim")
    with pytest.raises(NotReplayable, match="blob_key"):
        replay(letter, intake(client, settings(drop)))
    assert client.get("newsflow:doc:victim") == b"keep me"
    assert client.ttl("newsflow:doc:victim") == -1


# ---- the watcher ---------------------------------------------------------------------------


def test_the_watcher_refuses_a_folder_outside_the_drop_folders(
    client: fakeredis.FakeRedis, drop: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(RefusedPath, match="not inside NEWSFLOW_DROP_DIRS"):
        watch_folder(elsewhere, intake(client, settings(drop)), once=True)
    assert not (elsewhere / ".processing").exists()  # refused before touching it
    summary = watch_folder(drop, intake(client, settings(drop)), once=True, settle_seconds=0.0)
    assert summary.pending == 0


# ---- claim-check keys ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["newsflow:receipt:r1", "newsflow:blob:r2", "newsflow:blob:r1:x", "session:1", ""]
)
def test_a_blob_key_must_be_the_messages_own(key: str) -> None:
    """Ingest reads and then deletes the key a message names: only its own blob qualifies."""
    with pytest.raises(ValidationError, match="blob_key must be 'newsflow:blob:r1'"):
        RawFile(receipt="r1", source="task", filename="a", size=1, received_at=NOW, blob_key=key)
    own = RawFile(
        receipt="r1",
        source="task",
        filename="a",
        size=1,
        received_at=NOW,
        blob_key="newsflow:blob:r1",
    )
    assert own.blob_key == "newsflow:blob:r1"


def test_blob_functions_touch_only_claim_check_keys(client: fakeredis.FakeRedis) -> None:
    client.set("newsflow:doc:abc", b"claim")
    with pytest.raises(ValueError, match="not a claim-check key"):
        get_blob(client, "newsflow:doc:abc")
    with pytest.raises(ValueError, match="not a claim-check key"):
        drop_blob(client, "newsflow:doc:abc")
    keep_blob(client, "newsflow:doc:abc", 60)  # from an unvalidated payload: left alone
    assert client.ttl("newsflow:doc:abc") == -1
    assert client.get("newsflow:doc:abc") == b"claim"


def test_a_kept_blob_lives_for_the_dead_letter_ttl_not_forever(
    client: fakeredis.FakeRedis,
) -> None:
    key = put_blob(client, "r1", b"bytes", ttl_seconds=10)
    keep_blob(client, key, 3600)
    assert 3500 < client.ttl(key) <= 3600
