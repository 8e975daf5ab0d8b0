"""Giving freed heap back to the system (glibc keeps it otherwise).

Parsing thousands of VideoMerges (a relist in the API, a burst in the operator) frees most of what it
allocated, but glibc keeps the freed space in its arenas while kept objects sit between, so the RSS stays at
the peak long after. ``malloc_trim(0)`` returns the free pages of every arena. A no-op where glibc is absent.
"""

import ctypes
import ctypes.util
from collections.abc import Callable
from typing import Final


def _load_malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


_MALLOC_TRIM: Final = _load_malloc_trim()


def release_free_memory() -> bool:
    """Asks glibc to return free heap pages to the system; True when it returned some."""
    return _MALLOC_TRIM is not None and bool(_MALLOC_TRIM(0))
