"""An exact string -> number lookup kept in three flat buffers instead of a dict of str objects.

Why: the enrich worker loads its vocabularies in the prefork parent so that the children share
them copy-on-write. A dict of a quarter of a million ``str`` keys and ``int`` values is half a
million Python objects, ~30 MB, and every lookup writes the reference count of the value it
returns, so each child slowly copies the pages it reads. Here the strings sit in one ``bytes``
blob (UTF-8, end to end), their hashes, values and an open-addressing slot table in numpy
arrays: ~25 bytes a string, and nothing a lookup writes, so the pages stay shared.

A lookup hashes the word with Python's own ``hash`` (the table is built in the process that
uses it, or in its parent before the fork, so the hash key is the same), probes the slots from
there as a dict does and compares the stored bytes with the word's, so the answer is exactly
the dict's: a hash shared by two strings only costs one more comparison.

Pure: no I/O.
"""

from __future__ import annotations

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
        encoded = [string.encode(_ENCODING, _ERRORS) for string in latest]
        values = np.fromiter(latest.values(), dtype=np.int64, count=len(latest))
        self._values: npt.NDArray[np.int32] = values.astype(np.int32)
        if not np.array_equal(self._values, values):
            raise ValueError("values must fit in 32 bits")
        self._hashes: npt.NDArray[np.int64] = np.fromiter(
            map(hash, latest), dtype=np.int64, count=len(latest)
        )
        self._starts: npt.NDArray[np.int64] = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(item) for item in encoded], out=self._starts[1:])
        self._blob = b"".join(encoded)
        # Open addressing, as a dict does: at least twice as many slots as strings, each the
        # index of a string or -1; a string sits in the first free slot from its hash on.
        size = 1 << max(3, (2 * len(encoded)).bit_length())
        self._mask = size - 1
        self._slots: npt.NDArray[np.int32] = np.full(size, -1, dtype=np.int32)
        slots = self._slots.data
        for index, key in enumerate(self._hashes.tolist()):
            slot = key & self._mask
            while slots[slot] >= 0:
                slot = (slot + 1) & self._mask
            slots[slot] = index
        # Views that index as plain Python ints (a numpy scalar costs far more per lookup), over
        # the same memory.
        self._slot_view = slots
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
        return arrays + self._slots.nbytes + len(self._blob)

    def __contains__(self, string: str) -> bool:
        return self.get(string) is not None

    def get(self, string: str, default: int | None = None) -> int | None:
        """The value of ``string``, or ``default`` if the table does not hold it."""
        key = hash(string)
        slots, hashes, mask = self._slot_view, self._hash_view, self._mask
        slot = key & mask
        encoded: bytes | None = None
        while (index := slots[slot]) >= 0:
            if hashes[index] == key:
                if encoded is None:
                    encoded = string.encode(_ENCODING, _ERRORS)
                starts = self._start_view
                if self._blob[starts[index] : starts[index + 1]] == encoded:
                    value: int = self._value_view[index]
                    return value
            slot = (slot + 1) & mask
        return default

    def get_many(self, strings: Sequence[str], default: int) -> npt.NDArray[np.int64]:
        """The value of each string, ``default`` for those not held."""
        get = self.get
        return np.array([get(string, default) for string in strings], dtype=np.int64)


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
