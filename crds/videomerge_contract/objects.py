"""Where a merge's files live in S3, relative to the merged file's key (the worker writes them, the
operator's clean-up deletes them)."""

from typing import Final

MERGED_SUFFIX: Final = ".mp4"
POSTER_SUFFIX: Final = ".poster.jpg"
STORYBOARD_SUFFIX: Final = ".storyboard.jpg"


def picture_keys(merged_key: str) -> tuple[str, str]:
    """(poster key, storyboard key) beside ``merged_key``: ``ns/vm-1.mp4`` → ``ns/vm-1.poster.jpg``, …"""
    base = merged_key.removesuffix(MERGED_SUFFIX)
    return base + POSTER_SUFFIX, base + STORYBOARD_SUFFIX
