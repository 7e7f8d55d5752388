"""Every Redis key newsflow writes, in one place so that none collide and all can be found."""

from __future__ import annotations

PREFIX = "newsflow"


def receipt_key(receipt: str) -> str:
    return f"{PREFIX}:receipt:{receipt}"


BLOB_PREFIX = f"{PREFIX}:blob:"


def blob_key(receipt: str) -> str:
    return f"{BLOB_PREFIX}{receipt}"


def dead_letter_key(stage: str) -> str:
    return f"{PREFIX}:dlq:{stage}"


# The dead-letter store's bookkeeping; not under "dlq:", where a stage's name (e.g. "index")
# would collide with it.
def dead_letter_order_key() -> str:
    return f"{PREFIX}:dlq-meta:order"


def dead_letter_sizes_key() -> str:
    return f"{PREFIX}:dlq-meta:sizes"


def dead_letter_bytes_key() -> str:
    return f"{PREFIX}:dlq-meta:bytes"


def document_claim_key(doc_id: str) -> str:
    return f"{PREFIX}:doc:{doc_id}"


def pending_key() -> str:
    """Sorted set of receipts not yet terminal, scored by the time of their last change."""
    return f"{PREFIX}:pending"


def redrive_key(receipt: str) -> str:
    """The message that starts a receipt again, kept until the receipt is terminal."""
    return f"{PREFIX}:redrive:{receipt}"


def deliveries_key(task_id: str, retries: int) -> str:
    """How often one delivery of a task (an id and its retry number) has been started."""
    return f"{PREFIX}:deliveries:{task_id}:{retries}"


def batch_starts_key(task_id: str, retries: int) -> str:
    """How often one delivery of a task has been started inside a batch of several."""
    return f"{PREFIX}:batch-starts:{task_id}:{retries}"


def admission_key(queue: str) -> str:
    """Room reserved in a queue by API requests that are publishing (see services/api)."""
    return f"{PREFIX}:admission:{queue}"
