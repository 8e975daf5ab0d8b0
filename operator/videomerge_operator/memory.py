"""Giving freed memory back to the system after bursts (glibc keeps it otherwise).

Reading thousands of VideoMerges parses as many JSON bodies on the API threads; glibc keeps the freed heap
in per-thread arenas, so the RSS stays at the burst's peak long after. ``malloc_trim(0)`` returns free
pages of every arena. A no-op where glibc is absent.
"""

import ctypes
import ctypes.util
import gc
from typing import Final

_LIBC_NAME: Final = ctypes.util.find_library("c")


def release_free_memory() -> bool:
    """Collects garbage, then asks glibc to return free heap pages; True when glibc did."""
    gc.collect()
    if not _LIBC_NAME:
        return False
    try:
        trim = ctypes.CDLL(_LIBC_NAME).malloc_trim
    except (OSError, AttributeError):
        return False
    return bool(trim(0))
