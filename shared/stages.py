"""Stage names, their queues and task names: the only thing one stage knows about the next."""

from __future__ import annotations

from typing import Final, Literal

Stage = Literal["ingest", "enrich", "index"]
STAGES: Final[tuple[Stage, ...]] = ("ingest", "enrich", "index")

# One queue per stage, named after it, so each worker pool can be scaled on its own.
TASK_NAMES: Final[dict[Stage, str]] = {
    "ingest": "ingest.receive",
    "enrich": "enrich.document",
    "index": "index.document",
}
