"""Freed heap goes back to the system: the API's relists and the operator's resyncs rely on it for their RSS."""

from pathlib import Path

import pytest

from videomerge_contract.memory import release_free_memory

pytestmark = pytest.mark.unit


def _rss_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096


def test_freed_heap_between_kept_objects_is_returned_to_the_system():
    # blocks above pymalloc's 512-byte limit come from glibc: ≈ 100 MB of them
    held = [bytes(2000) + i.to_bytes(4, "little") for i in range(50_000)]
    keep = held[::500]  # a few survivors scattered through the heap, as a cache's kept entries are
    before = _rss_bytes()
    del held
    released = release_free_memory()
    assert released, "glibc returned nothing"
    assert _rss_bytes() < before - 50 * 1024 * 1024
    assert len(keep) == 100
