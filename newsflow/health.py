"""``newsflow health STAGE``: does this host's worker of STAGE answer? For container
healthchecks, which must ask the worker itself, not whether its process exists.

The worker is asked over the broker (Celery's remote-control ``ping``), the way it receives its
work: a worker whose process lives but whose consumer is stuck, or who lost the broker, does
not answer. Its node is told by name: ``STAGE-PID@HOST`` (what ``newsflow worker`` names it) or
``STAGE@HOST``, on this host, unless ``--node`` names it.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterable

from shared.celery_app import make_celery
from shared.settings import Settings


def is_stage_node(node: str, stage: str, host: str) -> bool:
    """``ingest-12@host`` or ``ingest@host`` for stage ``ingest`` on ``host``; not
    ``ingest-x@host``, ``index-3@host`` or ``ingest-12@another``."""
    return re.fullmatch(rf"{re.escape(stage)}(-\d+)?@{re.escape(host)}", node) is not None


def answering(replies: Iterable[dict[str, object]]) -> list[str]:
    """The node names in Celery's ping replies (``[{node: {"ok": "pong"}}, ...]``)."""
    return sorted(node for reply in replies for node in reply)


def ping_stage(
    settings: Settings, stage: str, *, node: str | None = None, timeout: float = 1.0
) -> list[str]:
    """The nodes of ``stage`` on this host (or ``node``) that answered a ping within
    ``timeout`` seconds; empty when none did."""
    app = make_celery(settings)
    try:
        # A named node: done at its answer. Otherwise every worker may answer within timeout.
        replies = app.control.ping(
            destination=[node] if node else None, timeout=timeout, limit=1 if node else None
        )
    finally:
        app.close()
    host = socket.gethostname()
    found = answering(replies or [])
    if node:
        return [name for name in found if name == node]
    return [name for name in found if is_stage_node(name, stage, host)]
