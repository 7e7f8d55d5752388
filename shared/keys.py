"""Every Redis key newsflow writes, in one place so that none collide and all can be found."""

from __future__ import annotations

PREFIX = "newsflow"


def receipt_key(receipt: str) -> str:
    return f"{PREFIX}:receipt:{receipt}"


def blob_key(receipt: str) -> str:
    return f"{PREFIX}:blob:{receipt}"


def dead_letter_key(stage: str) -> str:
    return f"{PREFIX}:dlq:{stage}"


def document_claim_key(doc_id: str) -> str:
    return f"{PREFIX}:doc:{doc_id}"


def pending_key() -> str:
    """Sorted set of receipts not yet terminal, scored by the time they are due a re-drive."""
    return f"{PREFIX}:pending"


def redrive_key(receipt: str) -> str:
    """The message that starts a receipt again, kept until the receipt is terminal."""
    return f"{PREFIX}:redrive:{receipt}"


def deliveries_key(task_id: str, retries: int) -> str:
    """How often one delivery of a task (an id and its retry number) has been started."""
    return f"{PREFIX}:deliveries:{task_id}:{retries}"
