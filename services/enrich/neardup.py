"""Near-duplicate detection: MinHash over word shingles, LSH bands claimed first-member-wins.

A near-duplicate (a reprint with a paragraph cut, reflowed, a headline changed) is marked, never
dropped: it is still indexed, with ``near_duplicate_of``, ``similarity`` and ``cluster_id``.
Exact copies (same id) are ``dedupe``'s job; here the same id arriving again is a redelivery and
must get the very answer it got the first time.

How it works, per document:

1. The body is normalised (NFKC, casefold, ``ё`` -> ``е``, punctuation and any run of whitespace
   become one separator) and cut into word 3-shingles. Bodies with fewer than ``MIN_SHINGLES``
   shingles are skipped: on a stub one changed word swings the estimate by more than the margin
   the threshold leaves, and stubs ("Фото: БелТА") collide with each other by boilerplate.
2. A MinHash of ``NUM_PERM`` permutations (fixed seed, fixed scheme and hash function, so every
   process computes byte-identical signatures) is split into ``BANDS`` bands of ``ROWS`` rows.
3. The store, in one atomic step, looks each band up, takes the band for this document where no
   one holds it yet, keeps the others' holders as candidates, verifies each candidate on its
   stored signature (estimated Jaccard >= ``THRESHOLD``), records its own signature and verdict,
   and returns the verdict. Because that step is atomic (one Lua script in Redis, one lock in
   memory), two near-identical documents processed at the same moment on two workers are
   ordered: the second sees the first and cannot also become "first".

The verdict: ``near_duplicate_of`` is the earliest-claimed verified candidate, ``similarity`` the
estimated Jaccard with it, ``cluster_id`` that candidate's cluster id. A document with no
near-duplicate starts its own cluster: ``cluster_id`` is its own id (never None), so the index can
group on ``cluster_id`` alone. A skipped (too short) document gets no near-duplicate fields at all.

This module must never drop or rewrite a document, and must never compare signatures made with
different parameters: every key carries ``VERSION``, which is bumped whenever anything that
changes a signature changes (normalisation, shingle size, seed, permutations, bands).
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt
import redis

# datasketch ships no type hints; MinHash is only used inside ``signature_values``, which
# returns a typed numpy array, so the untyped surface stops there.
from datasketch import MinHash  # type: ignore[import-untyped]  # ships no type hints
from datasketch.hashfunc import sha1_hash32  # type: ignore[import-untyped]  # ships no type hints

VERSION = "1"

SHINGLE_WORDS: Final = 3
"""Word 3-shingles: on the seeds, unrelated articles on the same event share 0 of them (2-shingles
already share set phrases such as "промышленной выставки"), and a cut paragraph costs only the two
shingles that straddled it, as with any k."""

MIN_SHINGLES: Final = 20
"""Distinct shingles below which a body is skipped: 20 is a body of about 22 words."""
BANDS: Final = 32
ROWS: Final = 4
NUM_PERM: Final = BANDS * ROWS
"""128 permutations in 32 bands of 4 rows: a pair becomes a candidate with probability
1 - (1 - J^4)^32, which is 0.87 at J = 0.5, 0.999 at 0.66 and 0.003 at 0.1. The verification on
stored signatures, not the bands, decides; the bands only have to miss nothing above the
threshold while keeping at most 32 candidates per document."""
THRESHOLD: Final = 0.5
"""Estimated Jaccard a candidate must reach. The weakest copy we must find (one paragraph of four
cut, the longest one) measures 0.66 true Jaccard; unrelated same-topic articles measure 0.00.
With 128 permutations the estimate's standard deviation at 0.66 is 0.04, so 0.5 sits nearly
four of them below the copy and far above anything unrelated."""

SEED: Final = 20251011
SCHEME: Final = "affine32"
"""Pinned, with the hash function, rather than left to datasketch's defaults: a default that
changes with a datasketch release would silently make new signatures incomparable to stored ones."""

MIN_EQUAL: Final = math.ceil(THRESHOLD * NUM_PERM)
"""The threshold as a count of equal permutations: both stores compare integers, so the Lua
script and Python agree exactly at the boundary."""

KEY_PREFIX: Final = "newsflow:nd:"
_SIGNATURE_BYTES: Final = NUM_PERM * 4
_BAND_BYTES: Final = ROWS * 4
_WORD = re.compile(r"\w+")
_BATCH: Final = 4096


@dataclass(frozen=True, slots=True)
class Signature:
    """A document's MinHash: ``values`` are ``NUM_PERM`` little-endian uint32 (what is stored);
    ``bands`` are one 8-byte digest per band (what is claimed)."""

    values: bytes
    bands: tuple[bytes, ...]

    @classmethod
    def from_values(cls, values: bytes) -> Signature:
        if len(values) != _SIGNATURE_BYTES:
            raise ValueError(f"a signature is {_SIGNATURE_BYTES} bytes, got {len(values)}")
        return cls(values=values, bands=band_digests(values))


@dataclass(frozen=True, slots=True)
class NearDuplicateResult:
    """What enrich writes into ``EnrichedDocument``; ``near_duplicate_of`` and ``similarity``
    are None for the first document of a cluster."""

    near_duplicate_of: str | None
    similarity: float | None
    cluster_id: str


class NearDuplicateStore(Protocol):
    def claim(self, doc_id: str, signature: Signature) -> NearDuplicateResult:
        """Atomically: return the verdict already recorded for ``doc_id`` if there is one;
        otherwise claim the free bands, verify the holders of the others on their stored
        signatures, record and return the verdict."""


def normalise(body: str) -> list[str]:
    """The body's words, so that case, punctuation and reflowed whitespace do not matter."""
    return _WORD.findall(unicodedata.normalize("NFKC", body).casefold().replace("ё", "е"))


def shingles(body: str) -> set[str]:
    words = normalise(body)
    return {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    """True Jaccard of two shingle sets: for measuring and tests, the store only estimates."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


@cache
def _permutations() -> npt.NDArray[np.uint32]:
    """Drawn once per process; every process draws the same ones from ``SEED``."""
    template = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=sha1_hash32, scheme=SCHEME)
    permutations: npt.NDArray[np.uint32] = template.permutations
    return permutations


def signature_values(shingle_set: set[str]) -> bytes:
    minhash = MinHash(
        num_perm=NUM_PERM,
        seed=SEED,
        hashfunc=sha1_hash32,
        permutations=_permutations(),
        scheme=SCHEME,
    )
    # A MinHash is a minimum per permutation, so neither the order of the shingles (no sort:
    # it was a quarter of the time on long bodies) nor batching changes it. Batches bound the
    # memory: datasketch holds a shingles x permutations array per call, ~0.5 GB for a 5 MB body
    # in one call. The body is not cut or sampled: that would change long bodies' signatures
    # (and so need a new VERSION, forgetting every stored one), and all of a 5 MB body takes ~1 s.
    shingle_list = list(shingle_set)
    for first in range(0, len(shingle_list), _BATCH):
        minhash.update_batch(
            # surrogatepass: a lone surrogate that slipped through decoding must not crash.
            [s.encode("utf-8", "surrogatepass") for s in shingle_list[first : first + _BATCH]]
        )
    values: npt.NDArray[np.uint32] = minhash.hashvalues
    return values.astype("<u4").tobytes()


def band_digests(values: bytes) -> tuple[bytes, ...]:
    """One digest per band. The band's index is hashed in so that equal rows in different
    bands (different permutations) do not meet."""
    return tuple(
        hashlib.blake2b(
            bytes([band]) + values[band * _BAND_BYTES : (band + 1) * _BAND_BYTES], digest_size=8
        ).digest()
        for band in range(BANDS)
    )


def signature(body: str) -> Signature | None:
    """The body's signature, or None when it has fewer than ``MIN_SHINGLES`` shingles."""
    shingle_set = shingles(body)
    if len(shingle_set) < MIN_SHINGLES:
        return None
    return Signature.from_values(signature_values(shingle_set))


def equal_count(a: bytes, b: bytes) -> int:
    """Permutations on which two signatures agree: the estimated Jaccard times ``NUM_PERM``."""
    if len(a) != len(b):
        return 0
    return int(np.count_nonzero(np.frombuffer(a, "<u4") == np.frombuffer(b, "<u4")))


def similarity(equal: int) -> float:
    return round(equal / NUM_PERM, 3)


def find_near_duplicate(
    doc_id: str, body: str, store: NearDuplicateStore
) -> NearDuplicateResult | None:
    """The document's place among near-duplicates, or None when its body is too short to say."""
    sig = signature(body)
    return None if sig is None else store.claim(doc_id, sig)


def _doc_key(doc_id: str) -> str:
    return f"{KEY_PREFIX}{VERSION}:doc:{doc_id}"


_SEQUENCE_KEY: Final = f"{KEY_PREFIX}{VERSION}:seq"


def band_location(digest: bytes) -> tuple[str, bytes]:
    """The Redis bucket key and field that hold a band's first member.

    Band entries are fields of 65 536 bucket hashes (the digest's first two bytes), not one key
    each: a key costs Redis ~100 bytes of overhead, a field of a small (listpack-encoded) hash
    ~25. Buckets stay within the listpack limit (128 fields) up to ~2.5×10^5 documents; beyond,
    Redis converts the fuller buckets to hashtables, which work the same at ~3x the memory.
    """
    return f"{KEY_PREFIX}{VERSION}:lsh:{digest[:2].hex()}", digest[2:]


# KEYS: the document's record, the sequence counter, then one bucket per band.
# ARGV: doc id, signature, MIN_EQUAL, NUM_PERM, record key prefix, then one field per band.
# Candidates' records are read by keys built inside the script, so this needs a single Redis
# server, not Redis Cluster. Nothing here may be evicted: run Redis with ``noeviction``.
_CLAIM_LUA: Final = """
local doc_id, sig = ARGV[1], ARGV[2]
local min_equal, num_perm, prefix = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]

-- A record is one string: "<seq> <equal> <#cluster> <#near> " .. cluster .. near .. signature.
-- Not a hash: the 512-byte signature would force a hash out of its compact encoding, which
-- measured 1072 bytes per record against about 640 for the string.
local function read(record)
  local seq, equal, cluster_len, near_len, at =
    string.match(record, '^(%d+) (%-?%d+) (%d+) (%d+) ()')
  local near_at = at + tonumber(cluster_len)
  local sig_at = near_at + tonumber(near_len)
  return tonumber(seq), tonumber(equal), string.sub(record, at, near_at - 1),
         string.sub(record, near_at, sig_at - 1), string.sub(record, sig_at)
end

local own = redis.call('GET', KEYS[1])
if own then
  local _, equal, cluster, near = read(own)
  return {near, equal, cluster}
end

local candidates, seen = {}, {}
for i = 3, #KEYS do
  local field = ARGV[i + 3]
  local holder = redis.call('HGET', KEYS[i], field)
  if not holder then
    redis.call('HSET', KEYS[i], field, doc_id)
  elseif holder ~= doc_id and not seen[holder] then
    seen[holder] = true
    candidates[#candidates + 1] = holder
  end
end

local function equal_count(a, b)
  if #a ~= #b then return 0 end
  local equal = 0
  for i = 1, num_perm * 4, 4 do
    if string.sub(a, i, i + 3) == string.sub(b, i, i + 3) then equal = equal + 1 end
  end
  return equal
end

local near, near_equal, near_seq, cluster = '', -1, nil, doc_id
for _, candidate in ipairs(candidates) do
  local record = redis.call('GET', prefix .. candidate)
  if record then
    local seq, _, candidate_cluster, _, candidate_sig = read(record)
    local equal = equal_count(sig, candidate_sig)
    if equal >= min_equal and (near_seq == nil or seq < near_seq) then
      near, near_equal, near_seq, cluster = candidate, equal, seq, candidate_cluster
    end
  end
end

local seq = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], seq .. ' ' .. near_equal .. ' ' .. #cluster .. ' ' .. #near .. ' '
           .. cluster .. near .. sig)
return {near, near_equal, cluster}
"""


def _result(near: str, equal: int, cluster_id: str) -> NearDuplicateResult:
    if not near:
        return NearDuplicateResult(near_duplicate_of=None, similarity=None, cluster_id=cluster_id)
    return NearDuplicateResult(
        near_duplicate_of=near, similarity=similarity(equal), cluster_id=cluster_id
    )


class RedisNearDuplicates:
    """Bands and signatures shared by every enrich worker. No TTL, like exact-duplicate claims:
    forgetting a document would let its later copies start new clusters."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client
        self._script = client.register_script(_CLAIM_LUA)

    def claim(self, doc_id: str, signature: Signature) -> NearDuplicateResult:
        keys, args = _script_arguments(doc_id, signature)
        return _parse_reply(self._script(keys=keys, args=args))

    def claim_many(self, claims: Sequence[tuple[str, Signature]]) -> list[NearDuplicateResult]:
        """``claim`` for each, in order, in one round trip (a backfill, the bench's fill). Each
        script is still atomic on its own, so the verdicts are those of claiming one by one."""
        pipeline = self._redis.pipeline(transaction=False)
        for doc_id, signature in claims:
            keys, args = _script_arguments(doc_id, signature)
            self._script(keys=keys, args=args, client=pipeline)
        return [_parse_reply(reply) for reply in pipeline.execute()]


def _script_arguments(doc_id: str, signature: Signature) -> tuple[list[str], list[str | bytes]]:
    locations = [band_location(digest) for digest in signature.bands]
    keys = [_doc_key(doc_id), _SEQUENCE_KEY, *(key for key, _ in locations)]
    args: list[str | bytes] = [
        doc_id,
        signature.values,
        str(MIN_EQUAL),
        str(NUM_PERM),
        _doc_key(""),
        *(field for _, field in locations),
    ]
    return keys, args


def _parse_reply(reply: list[bytes | str | int]) -> NearDuplicateResult:
    near, equal, cluster = reply
    return _result(_text(near), int(equal), _text(cluster))


def _text(value: bytes | str | int) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(slots=True)
class _Record:
    signature: bytes
    seq: int
    result: NearDuplicateResult


class MemoryNearDuplicates:
    """Near-duplicates within one in-process run (``newsflow enrich``/``run``): the same steps
    as the Lua script, under one lock."""

    def __init__(self) -> None:
        self._holders: dict[bytes, str] = {}
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def claim(self, doc_id: str, signature: Signature) -> NearDuplicateResult:
        with self._lock:
            if (record := self._records.get(doc_id)) is not None:
                return record.result
            candidates: dict[str, None] = {}
            for digest in signature.bands:
                holder = self._holders.setdefault(digest, doc_id)
                if holder != doc_id:
                    candidates[holder] = None
            near, near_equal, near_seq, cluster = "", -1, -1, doc_id
            for candidate in candidates:
                other = self._records[candidate]
                equal = equal_count(signature.values, other.signature)
                if equal >= MIN_EQUAL and (not near or other.seq < near_seq):
                    near, near_equal, near_seq = candidate, equal, other.seq
                    cluster = other.result.cluster_id
            result = _result(near, near_equal, cluster)
            self._records[doc_id] = _Record(signature.values, len(self._records) + 1, result)
            return result
