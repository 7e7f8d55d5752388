"""Which ping replies count as this host's worker of a stage."""

from __future__ import annotations

import pytest

from newsflow.health import answering, is_stage_node


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ("ingest-12@web-1", True),  # what `newsflow worker` names it
        ("ingest@web-1", True),  # `-n ingest@%h`
        ("ingest-12@web-2", False),  # another host's
        ("index-12@web-1", False),  # another stage's
        ("ingest-x@web-1", False),
        ("ingestion-1@web-1", False),
        ("ingest-12@web-1.example", False),
    ],
)
def test_a_node_is_this_hosts_worker_of_the_stage(node: str, expected: bool) -> None:
    assert is_stage_node(node, "ingest", "web-1") is expected


def test_answering_nodes_are_read_from_celery_ping_replies() -> None:
    replies = [{"b@h": {"ok": "pong"}}, {"a@h": {"ok": "pong"}}]
    assert answering(replies) == ["a@h", "b@h"]
