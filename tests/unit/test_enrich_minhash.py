"""The numpy MinHash in ``neardup`` against datasketch's, which computed every stored signature.

Signatures in Redis outlive the code that made them: versions before the numpy one called
datasketch's ``MinHash`` (scheme "affine32", ``sha1_hash32``, ``SEED``). If the two ever differed
on some input, a reprint signed now would not meet its original signed then, silently. datasketch
is a development dependency for this comparison only; the enrich worker no longer installs it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash
from datasketch.hashfunc import sha1_hash32

from services.enrich import neardup
from services.enrich.neardup import shingles

REPO = Path(__file__).resolve().parents[2]
# Real articles in five languages (bench/data/news) and the seeds: the texts the worker signs.
TEXTS = sorted((REPO / "bench" / "data" / "news").glob("*/*.txt")) + sorted(
    (REPO / "seeds").glob("*.txt")
)


def datasketch_values(shingle_set: set[str]) -> bytes:
    """The signature as the datasketch-based versions of ``neardup`` computed it."""
    minhash = MinHash(
        num_perm=neardup.NUM_PERM, seed=neardup.SEED, hashfunc=sha1_hash32, scheme=neardup.SCHEME
    )
    minhash.update_batch([s.encode("utf-8", "surrogatepass") for s in shingle_set])
    values: np.ndarray = minhash.hashvalues
    return values.astype("<u4").tobytes()


def test_the_permutations_are_datasketchs() -> None:
    """Same seed, same draw order: every (a, b) pair as datasketch draws it."""
    a, b = neardup._permutations()
    reference = MinHash(num_perm=neardup.NUM_PERM, seed=neardup.SEED, scheme=neardup.SCHEME)
    assert a.dtype == b.dtype == np.uint32
    assert np.array_equal(a, reference.permutations[0])
    assert np.array_equal(b, reference.permutations[1])


def test_every_real_article_and_each_of_its_paragraphs_signs_as_with_datasketch() -> None:
    """Over 700 texts in ru/be/uk/de/en: whole articles, and every paragraph (the short
    texts, where a single shingle's hash decides a permutation's minimum)."""
    assert len(TEXTS) >= 100
    compared = 0
    for path in TEXTS:
        text = path.read_text(encoding="utf-8")
        for part in [text, *text.split("\n")]:
            shingle_set = shingles(part)
            if not shingle_set:
                continue
            assert neardup.signature_values(shingle_set) == datasketch_values(shingle_set), path
            compared += 1
    assert compared >= 700


def test_a_long_body_signs_as_one_unbatched_datasketch_minhash() -> None:
    """Shingles are hashed in batches of ``_BATCH`` (one array for a 5 MB body would be ~0.25
    GB); a MinHash is a minimum, so batching must not change the signature."""
    body = " ".join(f"слово{i}" for i in range(30_000))
    shingle_set = shingles(body)
    assert len(shingle_set) > 3 * neardup._BATCH
    assert neardup.signature_values(shingle_set) == datasketch_values(shingle_set)


@pytest.mark.parametrize(
    "text",
    [
        "один два три",  # a single shingle
        "курс 3,2456 на 24.08.2010 ёлка ЁЖ Straße ΣΊΣΥΦΟΣ 中文 字 😀 emoji",
        "lone \ud800 surrogate in a shingle, as a broken decoder may leave",
    ],
)
def test_odd_inputs_sign_as_with_datasketch(text: str) -> None:
    """Non-BMP characters, case folding and a lone surrogate (encoded with surrogatepass)."""
    shingle_set = shingles(text)
    assert shingle_set
    assert neardup.signature_values(shingle_set) == datasketch_values(shingle_set)
