"""Hostile MP4s made from a real clip: its index (moov, last in the file) rewritten so that tables declare
far more than the file holds, boxes flood or nest, descriptions break, or stray bytes follow the file.

Each maker takes the bytes of a clip whose moov is its last box (chunk offsets then stay valid when the
moov changes size) and returns the crafted file's bytes.
"""

import struct
from collections.abc import Callable

CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl"})
U32 = 0xFFFFFFFF
HUGE = 0xFFFFFFF0


def box(box_type: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I4s", len(body) + 8, box_type) + body


def full(box_type: bytes, *parts: bytes, version: int = 0) -> bytes:
    return box(box_type, struct.pack(">B3x", version), *parts)


def _children(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, whole box) of the boxes laid end to end in ``data`` (well-formed input: our own clips)."""
    found, at = [], 0
    while at + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, at)
        found.append((kind, data[at : at + size]))
        at += size
    return found


def _handler(trak: bytes) -> bytes:
    at = trak.find(b"hdlr")
    return trak[at + 12 : at + 16]


Edit = Callable[[bytes, bytes], bytes | None]  # (type, whole box) → replacement, or None to keep it


def _rewrite(data: bytes, edit: Edit, handler: bytes | None) -> bytes:
    out = []
    for kind, whole in _children(data):
        if kind == b"trak" and handler is not None and _handler(whole) != handler:
            out.append(whole)
            continue
        if kind in CONTAINERS:
            out.append(box(kind, _rewrite(whole[8:], edit, handler)))
            continue
        replaced = edit(kind, whole)
        out.append(whole if replaced is None else replaced)
    return b"".join(out)


def split(clip: bytes) -> tuple[bytes, bytes]:
    """(everything before the moov, the moov)."""
    at = 0
    while at + 8 <= len(clip):
        size, kind = struct.unpack_from(">I4s", clip, at)
        if kind == b"moov":
            if at + size != len(clip):
                raise ValueError("the moov is not the last box")
            return clip[:at], clip[at:]
        at += size
    raise ValueError("no moov")


def with_table(clip: bytes, table: bytes, replacement: bytes, handler: bytes = b"vide") -> bytes:
    """The clip with the ``table`` box of its ``handler`` track replaced by ``replacement`` (added
    after the stts when the track has none)."""
    head, moov = split(clip)
    present = table in moov

    def edit(kind: bytes, whole: bytes) -> bytes | None:
        if kind == table:
            return replacement
        return whole + replacement if kind == b"stts" and not present else None

    crafted = head + _rewrite(moov, edit, handler)
    assert crafted != clip
    return crafted


def with_moov_prefix(clip: bytes, extra: bytes) -> bytes:
    """The clip with ``extra`` boxes at the start of its moov."""
    head, moov = split(clip)
    return head + box(b"moov", extra, moov[8:])


# The makers: name → bytes of the crafted file.


def billions_of_samples(clip: bytes) -> bytes:
    """stts, stsz (one constant size) and stsc agree on ~4.3 billion samples, in a moov of ~2 KB."""
    crafted = with_table(clip, b"stts", full(b"stts", struct.pack(">III", 1, HUGE, 1)))
    crafted = with_table(crafted, b"stsz", full(b"stsz", struct.pack(">II", 1, HUGE)))
    return with_table(crafted, b"stsc", full(b"stsc", struct.pack(">IIII", 1, 1, HUGE, 1)))


def many_long_runs(clip: bytes) -> bytes:
    """stts of 400 runs of 10 million samples (each run under any per-run cap, the total not)."""
    runs = b"".join(struct.pack(">II", 10_000_000, 1) for _ in range(400))
    crafted = with_table(clip, b"stts", full(b"stts", struct.pack(">I", 400), runs))
    return with_table(crafted, b"stsz", full(b"stsz", struct.pack(">II", 1, 4_000_000_000)))


def max_entry_count(clip: bytes) -> bytes:
    """An stsz of 2^32-1 entries in a 2 KB box."""
    return with_table(clip, b"stsz", full(b"stsz", struct.pack(">II", 0, U32), bytes(2048)))


def huge_composition_run(clip: bytes) -> bytes:
    return with_table(clip, b"ctts", full(b"ctts", struct.pack(">III", 1, U32, 0)))


def huge_chunk_runs(clip: bytes) -> bytes:
    return with_table(clip, b"stsc", full(b"stsc", struct.pack(">IIII", 1, 1, U32, 1)))


def huge_chunk_table(clip: bytes) -> bytes:
    return with_table(clip, b"stco", full(b"stco", struct.pack(">I", U32), bytes(1024)))


def huge_edit_list(clip: bytes) -> bytes:
    head, moov = split(clip)
    edts = box(b"edts", full(b"elst", struct.pack(">I", U32), bytes(64)))

    def edit(kind: bytes, whole: bytes) -> bytes | None:
        return whole + edts if kind == b"tkhd" else None

    return head + _rewrite(moov, edit, b"vide")


def box_flood_top_level(clip: bytes, count: int = 3_000_000) -> bytes:
    """ftyp, then millions of empty boxes (24 MB), then the rest of the file."""
    first = struct.unpack_from(">I", clip)[0]
    return clip[:first] + box(b"free") * count + clip[first:]


def box_flood_in_index(clip: bytes, count: int = 1_000_000) -> bytes:
    return with_moov_prefix(clip, box(b"free") * count)


def deep_nesting(clip: bytes, depth: int = 50_000) -> bytes:
    nested = b""
    for _ in range(depth):
        nested = box(b"trak", nested)
    return with_moov_prefix(clip, nested)


def broken_sample_description(clip: bytes) -> bytes:
    """One sample entry announced, a few bytes of nothing there."""
    return with_table(clip, b"stsd", full(b"stsd", struct.pack(">I", 1), b"\x00\x00\x00\x05x"))


def oversized_child(clip: bytes) -> bytes:
    """A sample entry whose child claims to be larger than the entry."""
    entry = struct.pack(">I4s", 8 + 78 + 8, b"avc1") + bytes(78) + struct.pack(">I4s", 4000, b"avcC")
    return with_table(clip, b"stsd", full(b"stsd", struct.pack(">I", 1), entry))


def trailing_bytes(clip: bytes) -> bytes:
    """A valid clip followed by five stray bytes."""
    return clip + b"\x00\x01\x02\x03\x04"


def trailing_garbage(clip: bytes) -> bytes:
    """A valid clip followed by a kilobyte of junk."""
    return clip + b"junk, not a box at all " * 45


def huge_valid_index(clip: bytes, samples: int = 10_000_000) -> bytes:
    """Tables whose every entry is really there (a 40 MB moov): within the bytes present, far beyond
    what a clip needs; FFmpeg would build an index entry for each of the 10 million samples."""
    crafted = with_table(clip, b"stts", full(b"stts", struct.pack(">III", 1, samples, 1)))
    crafted = with_table(
        crafted, b"stsz", full(b"stsz", struct.pack(">II", 0, samples), b"\0\0\0\1" * samples)
    )
    crafted = with_table(crafted, b"ctts", full(b"ctts", struct.pack(">I", 0)))
    return with_table(crafted, b"stsc", full(b"stsc", struct.pack(">IIII", 1, 1, samples, 1)))


HOSTILE: dict[str, Callable[[bytes], bytes]] = {
    "billions-of-samples": billions_of_samples,
    "many-long-runs": many_long_runs,
    "max-entry-count": max_entry_count,
    "huge-composition-run": huge_composition_run,
    "huge-chunk-runs": huge_chunk_runs,
    "huge-chunk-table": huge_chunk_table,
    "huge-edit-list": huge_edit_list,
    "box-flood-top-level": box_flood_top_level,
    "box-flood-in-index": box_flood_in_index,
    "deep-nesting": deep_nesting,
    "broken-sample-description": broken_sample_description,
    "oversized-child": oversized_child,
    "huge-valid-index": huge_valid_index,
}
HARMLESS: dict[str, Callable[[bytes], bytes]] = {
    "trailing-bytes": trailing_bytes,
    "trailing-garbage": trailing_garbage,
}
