"""An exact string -> number lookup kept in three flat buffers instead of a dict of str objects.

Why: the enrich worker loads its vocabularies in the prefork parent so that the children share
them copy-on-write. A dict of a quarter of a million ``str`` keys and ``int`` values is half a
million Python objects, ~30 MB, and every lookup writes the reference count of the value it
returns, so each child slowly copies the pages it reads. Here the strings sit in one ``bytes``
blob (UTF-8, end to end), their hashes in a sorted int64 array and their values in an int32
array: a few bytes a string, and nothing a lookup writes, so the pages stay shared.

A lookup hashes the word with Python's own ``hash`` (the table is built in the process that
uses it, or in its parent before the fork, so the hash key is the same), finds the hash by
binary search and compares the stored bytes with the word's, so the answer is exactly the
dict's: a hash shared by two strings only costs one more comparison.

Pure: no I/O.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

_ENCODING = "utf-8"
# A lone surrogate (from a badly decoded file) has no UTF-8 form; this keeps it comparable.
_ERRORS = "surrogatepass"


class StringTable:
    """``{string: value}`` for a fixed set of strings, read-only once built."""

    def __init__(self, items: Iterable[tuple[str, int]]) -> None:
        """Later pairs of an equal string win, as in a dict built from the same pairs."""
        latest = dict(items)  # the dict's own rule for repeated keys, then dropped
        strings = list(latest)
        hashes = np.fromiter(map(hash, strings), dtype=np.int64, count=len(strings))
        order = np.argsort(hashes, kind="stable")
        encoded = [strings[i].encode(_ENCODING, _ERRORS) for i in order.tolist()]
        values = np.fromiter(latest.values(), dtype=np.int64, count=len(strings))
        self._hashes: npt.NDArray[np.int64] = hashes[order]
        self._values: npt.NDArray[np.int32] = values[order].astype(np.int32)
        if len(values) and not np.array_equal(self._values, values[order]):
            raise ValueError("values must fit in 32 bits")
        self._starts: npt.NDArray[np.int64] = np.zeros(len(strings) + 1, dtype=np.int64)
        np.cumsum([len(item) for item in encoded], out=self._starts[1:])
        self._blob = b"".join(encoded)
        # Views that index as plain Python ints (a numpy scalar costs far more per lookup), over
        # the same memory.
        self._hash_view = self._hashes.data
        self._start_view = self._starts.data
        self._value_view = self._values.data

    @classmethod
    def of_list(cls, strings: Iterable[str]) -> StringTable:
        """Each string -> its position in ``strings`` (the last one, if it repeats)."""
        return cls((string, position) for position, string in enumerate(strings))

    def __len__(self) -> int:
        return len(self._values)

    @property
    def nbytes(self) -> int:
        """The memory the table holds, in bytes."""
        arrays = self._hashes.nbytes + self._values.nbytes + self._starts.nbytes
        return arrays + len(self._blob)

    def __contains__(self, string: str) -> bool:
        return self.get(string) is not None

    def get(self, string: str, default: int | None = None) -> int | None:
        """The value of ``string``, or ``default`` if the table does not hold it."""
        key = hash(string)
        hashes = self._hash_view
        position = bisect_left(hashes, key)
        return self._confirmed(string, key, position, default)

    def get_many(self, strings: Sequence[str], default: int) -> npt.NDArray[np.int64]:
        """The value of each string (``default`` for those not held), with the binary searches
        done by numpy for all of them at once."""
        values = np.full(len(strings), default, dtype=np.int64)
        if not len(self) or not strings:
            return values
        keys = np.fromiter(map(hash, strings), dtype=np.int64, count=len(strings))
        positions = np.minimum(np.searchsorted(self._hashes, keys), len(self) - 1)
        (hits,) = np.nonzero(self._hashes[positions] == keys)
        at = positions[hits]
        starts, ends = self._starts[at].tolist(), self._starts[at + 1].tolist()
        blob = self._blob
        same = np.array(
            [
                blob[start:end] == strings[hit].encode(_ENCODING, _ERRORS)
                for hit, start, end in zip(hits.tolist(), starts, ends, strict=True)
            ],
            dtype=bool,
        )
        values[hits[same]] = self._values[at[same]]
        # Another string with the same hash: look at the rest of the entries that share it.
        for hit, position in zip(hits[~same].tolist(), at[~same].tolist(), strict=True):
            found = self._confirmed(strings[hit], int(keys[hit]), position + 1, default)
            values[hit] = default if found is None else found
        return values

    def _confirmed(self, string: str, key: int, position: int, default: int | None) -> int | None:
        """The value of ``string`` whose hash ``key`` sorts at ``position``, after checking the
        stored bytes (every entry with that hash, if several share it)."""
        hashes, starts = self._hash_view, self._start_view
        size = len(hashes)
        encoded: bytes | None = None
        while position < size and hashes[position] == key:
            if encoded is None:
                encoded = string.encode(_ENCODING, _ERRORS)
            if self._blob[starts[position] : starts[position + 1]] == encoded:
                value: int = self._value_view[position]
                return value
            position += 1
        return default


class StringList:
    """A fixed list of strings in one UTF-8 blob: ``strings[i]`` is decoded when asked for."""

    def __init__(self, strings: Iterable[str]) -> None:
        encoded = [string.encode(_ENCODING, _ERRORS) for string in strings]
        self._starts: npt.NDArray[np.int64] = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(item) for item in encoded], out=self._starts[1:])
        self._start_view = self._starts.data
        self._blob = b"".join(encoded)

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < len(self):
            raise IndexError(index)
        starts = self._start_view
        return self._blob[starts[index] : starts[index + 1]].decode(_ENCODING, _ERRORS)

    @property
    def nbytes(self) -> int:
        return self._starts.nbytes + len(self._blob)
