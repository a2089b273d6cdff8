"""Handing freed memory back to the system between the steps of a big job (ingest, deviations, exports).

glibc's heap (numpy, Python objects) and Arrow's pool each keep the memory their frees leave, and each reuses only
its own: what one keeps adds to the process's high-water mark while the other allocates. A step that has built its
result and dropped its temporaries calls :func:`release_freed_memory` so that the next step starts from what is
really held (issue 17: peak memory of each step).
"""

from __future__ import annotations

import ctypes
import functools
import sys
from collections.abc import Callable

__all__ = ["release_freed_memory"]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim`` (Linux with glibc only; None elsewhere)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # musl, or no libc.so.6
        return None


def release_freed_memory() -> None:
    """Hand memory that earlier steps freed back to the system: glibc and Arrow's pool keep it otherwise.

    Each allocator reuses only its own free memory (numpy and Python use glibc's heap, Arrow its pool), so
    what one keeps adds to the high-water mark while the other allocates; this costs well under 1 ms.
    """
    import pyarrow as pa  # imported by then (this module is imported by commands that never load data)

    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
