"""Near-duplicate detection: MinHash over word shingles, LSH bands claimed first-member-wins.

A near-duplicate (a reprint with a paragraph cut, reflowed, a headline changed) is marked, never
dropped: it is still indexed, with ``near_duplicate_of``, ``similarity`` and ``cluster_id``.
Exact copies (same id) are ``dedupe``'s job; here the same id arriving again is a redelivery and
must get the very answer it got the first time.

How it works, per document:

1. The text (title and body: a re-flowed copy may move the line that ends the title) is
   normalised (NFKC, then ``shared.names.fold``: casefold, ``ё`` -> ``е``, no stress marks;
   punctuation and any run of whitespace become one separator) and cut into word 3-shingles.
   Texts with fewer than ``MIN_SHINGLES`` shingles are skipped: on a stub one changed word
   swings the estimate by more than the margin the threshold leaves, and stubs ("Фото: БелТА")
   collide with each other by boilerplate.
2. A MinHash of ``NUM_PERM`` permutations (fixed seed, fixed scheme and hash function, so every
   process computes byte-identical signatures) is split into ``BANDS`` bands of ``ROWS`` rows.
   The signature also records how many shingles the text has (to turn the Jaccard estimate into
   containment) and its numbers: the ``MAX_NUMBERS`` smallest hashes of the distinct numbers it
   holds (amounts, rates, dates, years).
3. The store, in one atomic step, looks each band up, takes the band for this document where no
   one holds it yet, keeps the others' holders as candidates, verifies each candidate on its
   stored signature (``verify``), records its own signature and verdict, and returns the
   verdict. Because that step is atomic (one Lua script in Redis, one lock in memory), two
   near-identical documents processed at the same moment on two workers are ordered: the second
   sees the first and cannot also become "first".

A candidate is a near-duplicate when the texts' numbers agree (at least ``NUMBERS_AGREE`` of the
smaller set's numbers are in the other: two daily rate reports from one template differ in their
date and rates, and are two reports) and either the estimated Jaccard is at least ``THRESHOLD``
or one text is contained in the other (estimated containment at least ``CONTAINED``, with a
Jaccard of at least ``MIN_CONTAINED_JACCARD``: a copy with one of two or three paragraphs cut
keeps all of its shingles in the original but may be less than half of it).

The verdict: ``near_duplicate_of`` is the earliest-claimed verified candidate, ``similarity`` the
estimated Jaccard with it, ``cluster_id`` that candidate's cluster id. A document with no
near-duplicate starts its own cluster: ``cluster_id`` is its own id (never None), so the index can
group on ``cluster_id`` alone. A skipped (too short) document gets no near-duplicate fields at all.

This module must never drop or rewrite a document, and must never compare signatures made with
different parameters: every key carries ``VERSION``, which is bumped whenever anything that
changes a signature or a verdict changes (normalisation, shingle size, seed, permutations,
bands, what a signature records, the rules of ``verify``).
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt
import redis

from shared.names import fold

# 3: shingles folded by ``shared.names.fold``, which also drops stress marks (a stressed copy of
# a text shingled «респу», «блика»); signatures of texts without them are unchanged.
VERSION = "3"

SHINGLE_WORDS: Final = 3
"""Word 3-shingles: on the seeds, unrelated articles on the same event share 0 of them (2-shingles
already share set phrases such as "промышленной выставки"), and a cut paragraph costs only the two
shingles that straddled it, as with any k."""

MIN_SHINGLES: Final = 20
"""Distinct shingles below which a text is skipped: 20 is a text of about 22 words."""
BANDS: Final = 64
ROWS: Final = 2
NUM_PERM: Final = BANDS * ROWS
"""128 permutations in 64 bands of 2 rows: a pair becomes a candidate with probability
1 - (1 - J^2)^64, which is 0.98 at J = 0.25 (the least a contained copy may have), 0.9998 at
0.5, and 0.006 at J = 0.01 (unrelated news articles on the real-news benchmark's dev half share
at most 0.07). The verification on stored signatures, not the bands, decides; the bands only
have to miss nothing a verdict could accept while keeping at most 64 candidates per document.
(32 bands of 4 rows found a pair at J = 0.4 only 56 % of the time.)"""
THRESHOLD: Final = 0.5
"""Estimated Jaccard at which a candidate is a near-duplicate outright (numbers permitting). The
seed copy with one paragraph of four cut measures 0.66; unrelated articles, 0.00-0.07."""
CONTAINED: Final = Fraction(4, 5)
"""Estimated containment (shared shingles over the smaller text's) that makes a near-duplicate
below ``THRESHOLD``. On the real-news benchmark's dev half, copies with one paragraph cut and
re-flowed measure 0.93-1.00 (the shingles that straddled the cut are lost) and distinct articles
at most 0.15."""
MIN_CONTAINED_JACCARD: Final = 0.25
"""Jaccard a contained copy still needs: it keeps at least about a quarter of the original. A
brief that is one paragraph of a long article is not that article. On the benchmark's dev half
the copies with one paragraph cut that are long enough to sign measure 0.26 or more (the lowest:
an article of one or two paragraphs that loses the longer, keeping its headline)."""
NUMBERS_AGREE: Final = Fraction(4, 5)
"""Share of the smaller text's numbers the other must also hold. A copy's numbers are a subset
of the original's; two daily rate reports from one template share their words but not their
date or rates, and must stay two documents."""
MAX_NUMBERS: Final = 64
"""Number hashes a signature keeps: the smallest ones (a bottom-k sample, so two texts' samples
compare on one hash range), all of them in a news article, a sample of a long rate table."""

SEED: Final = 20251011
SCHEME: Final = "affine32"
"""The MinHash is datasketch's (2.x) ``MinHash(num_perm=NUM_PERM, seed=SEED,
hashfunc=sha1_hash32, scheme="affine32")``, computed here in numpy (``signature_values``) so the
worker needs neither datasketch nor the scipy it imports (~45 MB per process). Signatures stored
by the datasketch-based versions stay valid: a unit test compares the two on many texts."""

MIN_EQUAL: Final = math.ceil(THRESHOLD * NUM_PERM)
MIN_EQUAL_CONTAINED: Final = math.ceil(MIN_CONTAINED_JACCARD * NUM_PERM)
"""The thresholds as counts of equal permutations, and the ratios as integer fractions: both
stores compare integers, so the Lua script and Python agree exactly at the boundary."""

KEY_PREFIX: Final = "newsflow:nd:"
_SIGNATURE_BYTES: Final = NUM_PERM * 4
_SIZE_BYTES: Final = 4
_NUMBERS_AT: Final = _SIGNATURE_BYTES + _SIZE_BYTES
_BAND_BYTES: Final = ROWS * 4
_U32_MAX: Final = 2**32 - 1
_WORD = re.compile(r"\w+")
# A run of digits with the marks that join them: «3,2456», «24.08.2010», «2011», «14:35», «2:1».
# One character class, so the scan is as fast as the word scan (an alternation of possessive
# groups took longer than finding every word). ``_numbers`` splits a run at colons, trims the
# marks at its ends and leaves clock times out.
_NUMBER = re.compile(r"\d[\d.,:]*")
# A clock time: an «updated at 14:35» line changes with every re-scrape of one article, and a
# time is when the text was written, not what it reports.
_CLOCK = re.compile(r"\d{1,2}(?::\d\d){1,2}")
_BATCH: Final = 4096


@dataclass(frozen=True, slots=True)
class Signature:
    """A text's MinHash and what verification needs besides it. ``values`` are ``NUM_PERM``
    little-endian uint32; ``size`` the text's distinct shingles; ``numbers`` the sorted
    big-endian uint32 hashes of up to ``MAX_NUMBERS`` of its numbers; ``bands`` one 8-byte digest
    per band (what is claimed). ``stored`` is what the store keeps and ``verify`` reads."""

    values: bytes
    size: int
    numbers: bytes
    bands: tuple[bytes, ...]

    @classmethod
    def from_values(cls, values: bytes, *, size: int, numbers: bytes = b"") -> Signature:
        if len(values) != _SIGNATURE_BYTES:
            raise ValueError(f"a signature is {_SIGNATURE_BYTES} bytes, got {len(values)}")
        if len(numbers) % 4 or len(numbers) > MAX_NUMBERS * 4:
            raise ValueError(f"numbers are at most {MAX_NUMBERS} 4-byte hashes")
        return cls(
            values=values, size=min(size, _U32_MAX), numbers=numbers, bands=band_digests(values)
        )

    @property
    def stored(self) -> bytes:
        return self.values + self.size.to_bytes(_SIZE_BYTES, "big") + self.numbers


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
    """The text's words, so that case, punctuation and reflowed whitespace do not matter."""
    return _words(unicodedata.normalize("NFKC", body))


def _words(nfkc: str) -> list[str]:
    return _WORD.findall(fold(nfkc))


def shingles(body: str) -> set[str]:
    return _shingles(normalise(body))


def _shingles(words: list[str]) -> set[str]:
    return {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def numbers(body: str) -> bytes:
    """The hashes of the text's distinct numbers, the ``MAX_NUMBERS`` smallest, sorted, as
    big-endian uint32 (what the Lua script reads). A decimal comma and point hash alike, so a
    copy that changed «3,2456» to «3.2456» keeps its numbers; clock times are not numbers."""
    return _numbers(unicodedata.normalize("NFKC", body))


def _numbers(nfkc: str) -> bytes:
    found: set[str] = set()
    for match in _NUMBER.findall(nfkc):
        run = match.rstrip(".,:")
        if not _CLOCK.fullmatch(run):
            found.update(part.strip(".,").replace(",", ".") for part in run.split(":"))
    found.discard("")
    hashes = {
        int.from_bytes(hashlib.blake2b(number.encode(), digest_size=4).digest()) for number in found
    }
    return b"".join(h.to_bytes(4, "big") for h in heapq.nsmallest(MAX_NUMBERS, hashes))


def jaccard(a: set[str], b: set[str]) -> float:
    """True Jaccard of two shingle sets: for measuring and tests, the store only estimates."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def containment(a: set[str], b: set[str]) -> float:
    """True containment of the smaller shingle set in the other: for measuring and tests."""
    smaller = min(len(a), len(b))
    return len(a & b) / smaller if smaller else 0.0


# The 32-bit MurmurHash3 finalizer: datasketch's "affine32" scheme mixes each input hash with it
# once before the permutations, so that weak input hashes do not bias them.
_FMIX32: Final = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))


@cache
def _permutations() -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]:
    """The ``NUM_PERM`` affine permutations ``h -> a * h + b mod 2^32``, drawn as datasketch's
    ``MinHash._init_permutations`` draws them for "affine32": from ``RandomState(SEED)``, first
    every ``a`` (made odd, so each map is a bijection), then every ``b``. The legacy
    ``RandomState`` stream is frozen by numpy's compatibility policy, so every process and numpy
    version draws the same ones. Drawn once per process."""
    generator = np.random.RandomState(SEED)
    half = generator.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32)
    a: npt.NDArray[np.uint32] = half * np.uint32(2) + np.uint32(1)
    b: npt.NDArray[np.uint32] = generator.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def _hashes32(items: Sequence[bytes]) -> npt.NDArray[np.uint32]:
    """datasketch's ``sha1_hash32`` of each item (the first 4 bytes of its SHA-1, little-endian),
    then the finalizer; all arithmetic wraps modulo 2^32, as in uint32."""
    digests = (hashlib.sha1(item, usedforsecurity=False).digest()[:4] for item in items)
    hv = np.frombuffer(b"".join(digests), "<u4")
    shift1, multiplier1, shift2, multiplier2 = _FMIX32
    hv = hv ^ (hv >> shift1)
    hv = hv * multiplier1
    hv = hv ^ (hv >> shift2)
    hv = hv * multiplier2
    mixed: npt.NDArray[np.uint32] = hv ^ (hv >> shift1)
    return mixed


def signature_values(shingle_set: set[str]) -> bytes:
    """The MinHash of a shingle set: per permutation, the least permuted hash of any shingle."""
    a, b = _permutations()
    values = np.full(NUM_PERM, _U32_MAX, dtype=np.uint32)
    # A MinHash is a minimum per permutation, so neither the order of the shingles (no sort:
    # it was a quarter of the time on long bodies) nor batching changes it. Batches bound the
    # memory: one shingles x permutations array per batch (2 MB), not ~0.25 GB for a 5 MB body
    # in one go. The body is not cut or sampled: that would change long bodies' signatures
    # (and so need a new VERSION, forgetting every stored one), and all of a 5 MB body takes ~1 s.
    shingle_list = list(shingle_set)
    for first in range(0, len(shingle_list), _BATCH):
        hv = _hashes32(
            # surrogatepass: a lone surrogate that slipped through decoding must not crash.
            [s.encode("utf-8", "surrogatepass") for s in shingle_list[first : first + _BATCH]]
        )
        np.minimum(values, (hv[:, np.newaxis] * a + b).min(axis=0), out=values)
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


def signature(text: str) -> Signature | None:
    """The text's signature, or None when it has fewer than ``MIN_SHINGLES`` shingles."""
    nfkc = unicodedata.normalize("NFKC", text)
    shingle_set = _shingles(_words(nfkc))
    if len(shingle_set) < MIN_SHINGLES:
        return None
    return Signature.from_values(
        signature_values(shingle_set), size=len(shingle_set), numbers=_numbers(nfkc)
    )


def equal_count(a: bytes, b: bytes) -> int:
    """Permutations on which two signatures' values agree: the estimated Jaccard times
    ``NUM_PERM``."""
    if len(a) < _SIGNATURE_BYTES or len(b) < _SIGNATURE_BYTES:
        return 0
    return int(
        np.count_nonzero(
            np.frombuffer(a[:_SIGNATURE_BYTES], "<u4") == np.frombuffer(b[:_SIGNATURE_BYTES], "<u4")
        )
    )


def numbers_agree(a: bytes, b: bytes) -> bool:
    """Whether two stored number samples agree: at least ``NUMBERS_AGREE`` of the smaller one's
    numbers are in the other. Only hashes up to the lower of the two full samples' largest are
    compared (each sample holds every number of its text below that), so a copy of a long rate
    table agrees with its original. A text without numbers agrees with any."""
    x, y = _hashes(a), _hashes(b)
    limit = min(
        x[-1] if len(x) == MAX_NUMBERS else _U32_MAX, y[-1] if len(y) == MAX_NUMBERS else _U32_MAX
    )
    x_in = {h for h in x if h <= limit}
    y_in = {h for h in y if h <= limit}
    smaller = min(len(x_in), len(y_in))
    return (
        smaller == 0
        or NUMBERS_AGREE.denominator * len(x_in & y_in) >= NUMBERS_AGREE.numerator * smaller
    )


def _hashes(stored: bytes) -> list[int]:
    return [
        int.from_bytes(stored[at : at + 4], "big") for at in range(_NUMBERS_AT, len(stored) - 3, 4)
    ]


def verify(a: bytes, b: bytes) -> int | None:
    """The equal-permutation count when two stored signatures are near-duplicates (the module
    docstring gives the rule), else None. The Lua script's ``verify`` is this, line for line."""
    if len(a) < _NUMBERS_AT or len(b) < _NUMBERS_AT:
        return None
    equal = equal_count(a, b)
    if equal < MIN_EQUAL_CONTAINED or not numbers_agree(a, b):
        return None
    if equal >= MIN_EQUAL:
        return equal
    # Shared shingles estimated from the Jaccard estimate e/n and the two sizes:
    # |A and B| = J (|A| + |B|) / (1 + J) = e (|A| + |B|) / (n + e); over the smaller size.
    size_a = int.from_bytes(a[_SIGNATURE_BYTES:_NUMBERS_AT], "big")
    size_b = int.from_bytes(b[_SIGNATURE_BYTES:_NUMBERS_AT], "big")
    if CONTAINED.denominator * equal * (size_a + size_b) >= CONTAINED.numerator * min(
        size_a, size_b
    ) * (NUM_PERM + equal):
        return equal
    return None


def similarity(equal: int) -> float:
    return round(equal / NUM_PERM, 3)


def find_near_duplicate(
    doc_id: str, text: str, store: NearDuplicateStore
) -> NearDuplicateResult | None:
    """The document's place among near-duplicates, or None when its text is too short to say.
    ``text`` is the title and body together (``ParsedDocument.text``)."""
    sig = signature(text)
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
# ARGV: doc id, stored signature, MIN_EQUAL, NUM_PERM, record key prefix, MIN_EQUAL_CONTAINED,
# CONTAINED and NUMBERS_AGREE as numerator and denominator, MAX_NUMBERS, then one field per band.
# Candidates' records are read by keys built inside the script, so this needs a single Redis
# server, not Redis Cluster. Nothing here may be evicted: run Redis with ``noeviction``.
_CLAIM_LUA: Final = """
local doc_id, sig = ARGV[1], ARGV[2]
local min_equal, num_perm, prefix = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local min_equal_contained = tonumber(ARGV[6])
local contained_num, contained_den = tonumber(ARGV[7]), tonumber(ARGV[8])
local agree_num, agree_den = tonumber(ARGV[9]), tonumber(ARGV[10])
local max_numbers = tonumber(ARGV[11])
local sig_bytes = num_perm * 4

-- A record is one string: "<seq> <equal> <#cluster> <#near> " .. cluster .. near .. signature.
-- Not a hash: the signature would force a hash out of its compact encoding, which measured
-- 1072 bytes per record against about 640 for the string.
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
  local field = ARGV[i + 9]  -- 11 arguments before the fields, which start with KEYS[3]
  local holder = redis.call('HGET', KEYS[i], field)
  if not holder then
    redis.call('HSET', KEYS[i], field, doc_id)
  elseif holder ~= doc_id and not seen[holder] then
    seen[holder] = true
    candidates[#candidates + 1] = holder
  end
end

-- What follows is neardup.verify, line for line (doubles hold these integers exactly).
local function u32(s, i)
  local b1, b2, b3, b4 = string.byte(s, i, i + 3)
  return ((b1 * 256 + b2) * 256 + b3) * 256 + b4
end

local function equal_count(a, b)
  local equal = 0
  for i = 1, sig_bytes, 4 do
    if string.sub(a, i, i + 3) == string.sub(b, i, i + 3) then equal = equal + 1 end
  end
  return equal
end

local function hashes(s)
  local list = {}
  for i = sig_bytes + 5, #s - 3, 4 do list[#list + 1] = u32(s, i) end
  return list
end

local function numbers_agree(a, b)
  local x, y = hashes(a), hashes(b)
  local limit = 4294967295
  if #x == max_numbers and x[#x] < limit then limit = x[#x] end
  if #y == max_numbers and y[#y] < limit then limit = y[#y] end
  local nx, ny = 0, 0
  for _, h in ipairs(x) do if h <= limit then nx = nx + 1 end end
  for _, h in ipairs(y) do if h <= limit then ny = ny + 1 end end
  local i, j, common = 1, 1, 0
  while i <= nx and j <= ny do
    if x[i] == y[j] then
      common, i, j = common + 1, i + 1, j + 1
    elseif x[i] < y[j] then
      i = i + 1
    else
      j = j + 1
    end
  end
  local smaller = math.min(nx, ny)
  return smaller == 0 or agree_den * common >= agree_num * smaller
end

local function verify(a, b)
  if #a < sig_bytes + 4 or #b < sig_bytes + 4 then return -1 end
  local equal = equal_count(a, b)
  if equal < min_equal_contained or not numbers_agree(a, b) then return -1 end
  if equal >= min_equal then return equal end
  local size_a, size_b = u32(a, sig_bytes + 1), u32(b, sig_bytes + 1)
  if contained_den * equal * (size_a + size_b)
     >= contained_num * math.min(size_a, size_b) * (num_perm + equal) then
    return equal
  end
  return -1
end

local near, near_equal, near_seq, cluster = '', -1, nil, doc_id
for _, candidate in ipairs(candidates) do
  local record = redis.call('GET', prefix .. candidate)
  if record then
    local seq, _, candidate_cluster, _, candidate_sig = read(record)
    local equal = verify(sig, candidate_sig)
    if equal >= 0 and (near_seq == nil or seq < near_seq) then
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
        signature.stored,
        str(MIN_EQUAL),
        str(NUM_PERM),
        _doc_key(""),
        str(MIN_EQUAL_CONTAINED),
        str(CONTAINED.numerator),
        str(CONTAINED.denominator),
        str(NUMBERS_AGREE.numerator),
        str(NUMBERS_AGREE.denominator),
        str(MAX_NUMBERS),
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
    signature: bytes  # Signature.stored
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
            stored = signature.stored
            for candidate in candidates:
                other = self._records[candidate]
                equal = verify(stored, other.signature)
                if equal is not None and (not near or other.seq < near_seq):
                    near, near_equal, near_seq = candidate, equal, other.seq
                    cluster = other.result.cluster_id
            result = _result(near, near_equal, cluster)
            self._records[doc_id] = _Record(stored, len(self._records) + 1, result)
            return result
