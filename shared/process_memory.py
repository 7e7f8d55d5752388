"""Keeping a prefork worker's memory shared and its freed memory returned, through glibc's
``malloc_trim`` and ``mallopt`` and the kernel's ``madvise``.

A worker that loads its models in the parent before the fork wants two things of the C heap:

- the loaders' freed memory handed back before the fork (``release_free_memory``): a child's new
  objects would otherwise land in those free holes of the parent's pages and copy each page;
- large temporaries (the tagger's matrices, tens of MB a batch) given back when freed
  (``return_large_blocks``). glibc serves a block above its mmap threshold with its own mapping
  and unmaps it on free, but it raises that threshold to the size of each such block freed, up
  to 32 MB, so after the first batch the matrices come from the heap, and the heap keeps their
  pages for good: ~45 MB more in each child after a thousand documents.

- the pages of a file read once while loading (lingua's library holds its models compressed
  inside it) handed back (``page_out_file``): they are clean copies of the file, so the kernel
  reads them again if they are ever needed, but until it needs the memory it leaves them mapped,
  and they count to the worker (~12 MB of lingua's in the parent alone).

Each is a no-op where the C library (glibc) or the kernel (Linux 5.4+) lacks the call.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache
from pathlib import Path

# mallopt's parameter number for the mmap threshold (malloc.h: M_MMAP_THRESHOLD).
_M_MMAP_THRESHOLD = -3
# glibc's own starting threshold; setting it explicitly keeps it there.
LARGE_BLOCK_BYTES = 128 * 1024
# madvise's advice number for "reclaim these pages now" (Linux 5.4+, linux/mman.h).
_MADV_PAGEOUT = 21


@cache
def _libc() -> ctypes.CDLL | None:
    path = ctypes.util.find_library("c")
    return ctypes.CDLL(path) if path else None


def release_free_memory() -> bool:
    """Give the C heap's free pages back to the system, those inside the heap as well as at its
    top. False where there is no ``malloc_trim``."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is None:
        return False
    trim(0)
    return True


def return_large_blocks(threshold: int = LARGE_BLOCK_BYTES) -> bool:
    """Serve every block of ``threshold`` bytes or more with its own mapping, returned on free,
    for the life of the process and of the children it forks. False where there is no
    ``mallopt`` or it refuses."""
    mallopt = getattr(_libc(), "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold))


def page_out_file(path: str | None = None) -> int:
    """Ask the kernel to reclaim this process's pages of every read-only mapping of the file at
    ``path`` (a shared library's code and constant data), or of every file when ``path`` is
    None; the bytes of mappings it took. Pages that something still reads come back from the
    file at their next touch (the kernel leaves alone a page another process maps too)."""
    madvise = getattr(_libc(), "madvise", None)
    if madvise is None:
        return 0
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    taken = 0
    for line in Path("/proc/self/maps").read_text(encoding="utf-8").splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) < 6 or "w" in fields[1] or not fields[5].startswith("/"):
            continue
        if path is not None and fields[5] != path:
            continue
        start, end = (int(address, 16) for address in fields[0].split("-"))
        if madvise(start, end - start, _MADV_PAGEOUT) == 0:
            taken += end - start
    return taken
