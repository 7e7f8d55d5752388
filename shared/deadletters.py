"""Dead letters: messages a stage could not process, kept in Redis per stage for listing and replay.

One hash per stage (``newsflow:dlq:<stage>``), field = the submission's receipt, value = the
``DeadLetter`` JSON with the reason, the error text, the time and the original payload. Keying by
receipt makes dead-lettering idempotent: a redelivered message that fails again overwrites its
own letter instead of adding a second one.
"""

from __future__ import annotations

import redis

from shared.keys import dead_letter_key
from shared.messages import DeadLetter
from shared.stages import STAGES


class DeadLetterStore:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def add(self, letter: DeadLetter) -> None:
        self._redis.hset(dead_letter_key(letter.stage), letter.receipt, letter.model_dump_json())

    def list(self, stage: str | None = None) -> list[DeadLetter]:
        letters = [
            DeadLetter.model_validate_json(raw)
            for name in ([stage] if stage else STAGES)
            for raw in self._redis.hvals(dead_letter_key(name))
        ]
        return sorted(letters, key=lambda letter: letter.failed_at)

    def find(self, receipt: str) -> DeadLetter | None:
        """The letter for a receipt (or a unique prefix of one), whatever its stage."""
        matches = [letter for letter in self.list() if letter.receipt.startswith(receipt)]
        exact = [letter for letter in matches if letter.receipt == receipt]
        if exact:
            return exact[0]
        return matches[0] if len(matches) == 1 else None

    def remove(self, letter: DeadLetter) -> bool:
        return bool(self._redis.hdel(dead_letter_key(letter.stage), letter.receipt))

    def count(self) -> int:
        return sum(int(self._redis.hlen(dead_letter_key(stage))) for stage in STAGES)
