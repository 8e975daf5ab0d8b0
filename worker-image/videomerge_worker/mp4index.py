"""Reading an MP4/MOV index (moov) into per-track sample tables, for the container-level concat.

Only the plain layout is accepted: one sample description per track, chunk offsets into the one media
box, at most one edit that does not trim. Anything else raises UnsupportedLayoutError, and FFmpeg does the merge.
"""

import struct
import sys
import threading
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import wraps
from typing import ParamSpec, TypeVar

from videomerge_worker.isobmff import Box, BoxError, within

CONTAINER_TYPES = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts"})
MAX_TRACKS = 16
# Samples (over every track of every clip of one merge) whose tables the assembler expands; at ~17 bytes
# a sample in memory, and as much again for the merged index, this bounds the assembler to ~70 MB. Two
# hours of 60 fps video with 48 kHz AAC is 0.8 million samples.
MAX_MERGE_SAMPLES = 2_000_000
# Index bytes held at once (every clip's moov, until the merged one is made).
MAX_MERGE_INDEX_BYTES = 32 * 1024 * 1024
# Where the parse of crafted bytes can fail inside Python's own helpers: all mean "not for the assembler".
PARSE_ERRORS = (BoxError, struct.error, IndexError, ValueError, ArithmeticError, StopIteration, KeyError)

P = ParamSpec("P")
R = TypeVar("R")


class UnsupportedLayoutError(Exception):
    """This file (or this set of files) is outside what the container-level concat handles."""


def declines_malformed(function: Callable[P, R]) -> Callable[P, R]:
    """Any parse failure of crafted bytes inside ``function`` is an UnsupportedLayoutError: the clip is
    not one for the assembler (FFmpeg then decides whether it is one at all)."""

    @wraps(function)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except PARSE_ERRORS as exc:
            raise UnsupportedLayoutError(f"a malformed index ({type(exc).__name__}: {exc})") from None

    return guarded


class IndexBudget:
    """What one merge's clips (read in parallel) may hold of indexes in memory: their bytes, and the
    samples their tables expand to. Taken before an index is fetched or a table expanded, from the
    sizes and counts they declare."""

    def __init__(self, samples: int = MAX_MERGE_SAMPLES, index_bytes: int = MAX_MERGE_INDEX_BYTES) -> None:
        self.samples, self.index_bytes = samples, index_bytes
        self._lock = threading.Lock()

    def take(self, *, samples: int = 0, index_bytes: int = 0) -> None:
        with self._lock:
            if samples > self.samples or index_bytes > self.index_bytes:
                raise UnsupportedLayoutError("the clips' indexes are larger than the assembler takes")
            self.samples -= samples
            self.index_bytes -= index_bytes


def iter_boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """The boxes of an index buffer in ``[start, end)`` (see isobmff.walk); none may run past it."""
    return within(data, start, end)


def children(data: bytes, parent: Box) -> dict[bytes, Box]:
    """The child boxes by type; a type that repeats (other than ``trak``) is outside the plain layout."""
    found: dict[bytes, Box] = {}
    for box in iter_boxes(data, parent.payload, parent.end):
        if box.type in found and box.type != b"trak":
            raise UnsupportedLayoutError(f"more than one {box.name} box")
        found.setdefault(box.type, box)
    return found


def full_box(data: bytes, box: Box) -> tuple[int, int]:
    """(version, payload offset after the version and flags)."""
    if box.end - box.payload < 4:
        raise UnsupportedLayoutError(f"an empty {box.name} box")
    return data[box.payload], box.payload + 4


@dataclass
class Track:
    handler: bytes
    timescale: int
    raw: memoryview  # the whole trak box (a view into the moov), for the parts copied unchanged
    stsd: bytes  # the sample description box, whole
    stsd_key: bytes  # the sample description without its bitrate hints: must agree between clips
    tkhd_tail: bytes  # layer, volume, matrix, width, height: must agree between clips
    deltas: array  # per sample: duration
    offsets: array | None  # per sample: composition offset (ctts), None when there is none
    sizes: array  # per sample: bytes
    chunk_offsets: array  # per chunk: file offset
    chunk_samples: array  # per chunk: number of samples
    sync: array | None  # 1-based numbers of the sync samples; None when every sample is one
    sdtp: bytes | None  # one byte per sample, when present
    edit_media_time: int  # track timescale: where presentation starts in the media
    edit_duration: int | None  # movie timescale: how long it is presented; None without an edit list

    @property
    def media_duration(self) -> int:
        return sum(self.deltas)


@dataclass
class MovieIndex:
    timescale: int
    tracks: list[Track]
    moov: bytes  # whole, for the movie-level boxes copied unchanged (udta, meta)


@declines_malformed
def read_moov(
    moov: bytes, *, media_bytes: int | None = None, budget: IndexBudget | None = None
) -> MovieIndex:
    """The index of one clip. Every table's declared length is checked against its box, and its sample
    count against ``media_bytes`` (each sample is at least one byte of the media box) and ``budget``,
    before anything is expanded. Raises UnsupportedLayoutError."""
    budget = budget or IndexBudget()
    top = next(iter_boxes(moov))
    if top.type != b"moov" or top.end != len(moov):
        raise UnsupportedLayoutError("not a moov box")
    boxes = children(moov, top)
    if b"mvex" in boxes:
        raise UnsupportedLayoutError("a fragmented file")
    if b"mvhd" not in boxes:
        raise UnsupportedLayoutError("no movie header")
    version, at = full_box(moov, boxes[b"mvhd"])
    timescale = struct.unpack_from(">I", moov, at + (16 if version == 1 else 8))[0]
    if not timescale:
        raise UnsupportedLayoutError("a zero movie timescale")
    traks = [b for b in iter_boxes(moov, top.payload, top.end) if b.type == b"trak"]
    if len(traks) > MAX_TRACKS:
        raise UnsupportedLayoutError(f"more than {MAX_TRACKS} tracks")
    view = memoryview(moov)
    tracks = [_read_track(view[b.start : b.end], media_bytes, budget) for b in traks]
    return MovieIndex(timescale, tracks, moov)


def _read_track(trak: memoryview, media_bytes: int | None, budget: IndexBudget) -> Track:
    top = next(iter_boxes(trak))
    boxes = children(trak, top)
    mdia = children(trak, _need(boxes, b"mdia"))
    minf = children(trak, _need(mdia, b"minf"))
    stbl = children(trak, _need(minf, b"stbl"))
    hdlr = _need(mdia, b"hdlr")
    handler = bytes(trak[hdlr.payload + 8 : hdlr.payload + 12])
    version, at = full_box(trak, _need(mdia, b"mdhd"))
    timescale = struct.unpack_from(">I", trak, at + (16 if version == 1 else 8))[0]
    if not timescale:
        raise UnsupportedLayoutError("a zero track timescale")
    tkhd = _need(boxes, b"tkhd")
    tkhd_version, at = full_box(trak, tkhd)
    tkhd_tail = bytes(trak[at + (32 if tkhd_version == 1 else 20) : tkhd.end])

    stsd = _need(stbl, b"stsd")
    if struct.unpack_from(">I", trak, stsd.payload + 4)[0] != 1:
        raise UnsupportedLayoutError("several sample descriptions in one track")
    if b"stz2" in stbl:
        raise UnsupportedLayoutError("compact sample sizes (stz2)")
    samples = _sample_count(trak, _need(stbl, b"stsz"))
    if media_bytes is not None and samples > media_bytes:
        raise UnsupportedLayoutError(f"{samples} samples declared in {media_bytes} bytes of media")
    budget.take(samples=samples)
    deltas = _runs(trak, _need(stbl, b"stts"), "I", samples)
    sizes = _sizes(trak, _need(stbl, b"stsz"))
    offsets = _runs(trak, stbl[b"ctts"], "i", samples) if b"ctts" in stbl else None
    chunk_offsets = _chunk_offsets(trak, stbl)
    chunk_samples = _chunk_samples(trak, _need(stbl, b"stsc"), len(chunk_offsets), samples)
    sync = _table(trak, stbl[b"stss"], "I", 4) if b"stss" in stbl else None
    sdtp = None
    if b"sdtp" in stbl:
        sdtp = bytes(trak[stbl[b"sdtp"].payload + 4 : stbl[b"sdtp"].end])
        if len(sdtp) != samples:
            sdtp = None  # a hint only; wrong, it is dropped rather than trusted
    media_time, duration = _edit(trak, boxes)
    stsd_bytes = bytes(trak[stsd.start : stsd.end])
    return Track(
        handler=handler,
        timescale=timescale,
        raw=trak,
        stsd=stsd_bytes,
        stsd_key=description_key(stsd_bytes),
        tkhd_tail=tkhd_tail,
        deltas=deltas,
        offsets=offsets,
        sizes=sizes,
        chunk_offsets=chunk_offsets,
        chunk_samples=chunk_samples,
        sync=sync,
        sdtp=sdtp,
        edit_media_time=media_time,
        edit_duration=duration,
    )


def _need(boxes: dict[bytes, Box], box_type: bytes) -> Box:
    if box_type not in boxes:
        raise UnsupportedLayoutError(f"no {box_type.decode('latin-1')} box")
    return boxes[box_type]


def _count(data: memoryview, box: Box, entry_bytes: int, skip: int = 0) -> tuple[int, int]:
    """(entries, where they start) of a full box's table; the entries must fit the box."""
    _, at = full_box(data, box)
    (count,) = struct.unpack_from(">I", data, at + skip)
    at += skip + 4
    if at + count * entry_bytes > box.end:
        raise UnsupportedLayoutError(f"a {box.name} table of {count} entries runs past its box")
    return count, at


def _big_endian(data: memoryview, at: int, count: int, typecode: str) -> array:
    values = array(typecode)
    values.frombytes(data[at : at + count * values.itemsize])
    if sys.byteorder == "little":
        values.byteswap()
    return values


def _runs(data: memoryview, box: Box, typecode: str, samples: int) -> array:
    """A (count, value) run-length table (stts, ctts) expanded to one value per sample: it must cover
    exactly ``samples``, which is checked before anything is expanded."""
    count, at = _count(data, box, 8)
    pairs = _big_endian(data, at, count * 2, "I")
    if sum(pairs[::2]) != samples:
        raise UnsupportedLayoutError(f"the {box.name} table does not cover every sample")
    if typecode == "i":
        pairs = array("i", pairs.tobytes())
    values = array(typecode)
    for i in range(0, len(pairs), 2):
        values.extend(array(typecode, [pairs[i + 1]]) * pairs[i])
    return values


def _table(data: memoryview, box: Box, typecode: str, entry_bytes: int) -> array:
    count, at = _count(data, box, entry_bytes)
    return _big_endian(data, at, count, typecode)


def _sample_count(data: memoryview, box: Box) -> int:
    _, at = full_box(data, box)
    constant, count = struct.unpack_from(">II", data, at)
    if not constant and at + 8 + count * 4 > box.end:
        raise UnsupportedLayoutError(f"a sample size table of {count} entries runs past its box")
    return int(count)


def _sizes(data: memoryview, box: Box) -> array:
    _, at = full_box(data, box)
    constant, count = struct.unpack_from(">II", data, at)
    if constant:
        return array("I", [constant]) * count  # count is checked by the caller
    return _big_endian(data, at + 8, count, "I")


def _chunk_offsets(data: memoryview, stbl: dict[bytes, Box]) -> array:
    if b"stco" in stbl:
        return array("Q", _table(data, stbl[b"stco"], "I", 4))
    return _table(data, _need(stbl, b"co64"), "Q", 8)


def _chunk_samples(data: memoryview, box: Box, chunks: int, samples: int) -> array:
    """Samples per chunk, from the stsc runs; they must add up to ``samples`` (checked before the
    per-chunk array, at most one entry per chunk offset, is made)."""
    count, at = _count(data, box, 12)
    entries = _big_endian(data, at, count * 3, "I")
    runs: list[tuple[int, int]] = []  # (chunks, samples per chunk)
    for i in range(count):
        first, per_chunk, description = entries[3 * i : 3 * i + 3]
        if description != 1:
            raise UnsupportedLayoutError("a chunk refers to another sample description")
        last = entries[3 * (i + 1)] - 1 if i + 1 < count else chunks
        if first < 1 or last < first - 1 or last > chunks:
            raise UnsupportedLayoutError("the chunk table is out of order")
        runs.append((last - first + 1, per_chunk))
    if sum(n for n, _ in runs) != chunks:
        raise UnsupportedLayoutError("the chunk table does not cover every chunk")
    if sum(n * per_chunk for n, per_chunk in runs) != samples:
        raise UnsupportedLayoutError("the chunk table does not cover every sample")
    result = array("I")
    for n, per_chunk in runs:
        result.extend(array("I", [per_chunk]) * n)
    return result


def _edit(data: memoryview, boxes: dict[bytes, Box]) -> tuple[int, int | None]:
    """(media time, duration) of the one edit; a track without an edit list starts at 0."""
    if b"edts" not in boxes:
        return 0, None
    edts = children(data, boxes[b"edts"])
    if b"elst" not in edts:
        return 0, None
    version, at = full_box(data, edts[b"elst"])
    (count,) = struct.unpack_from(">I", data, at)
    if count != 1:
        raise UnsupportedLayoutError(f"an edit list of {count} entries")
    duration, media_time, rate = struct.unpack_from(">QqI" if version == 1 else ">IiI", data, at + 4)
    if media_time < 0 or rate != 0x10000:
        raise UnsupportedLayoutError("an edit list with an empty edit or another rate")
    return media_time, duration


# Sample entry fields before the child boxes: visual (ISO 14496-12 12.1.3) and audio (12.2.3) entries.
_VISUAL_FIELDS, _AUDIO_FIELDS = 78, 28
_COMPRESSOR_NAME = slice(8 + 34, 8 + 66)  # in a visual entry: the encoder's name, free text


@declines_malformed
def description_key(stsd: bytes) -> bytes:
    """The one sample entry with what only describes the stream's bitrate blanked out: the ``btrt`` box
    and the bitrate fields of an MPEG-4 ``esds``, and a visual entry's compressor name. Clips encoded
    alike differ in exactly these, and a decoder needs none of them."""
    top = next(iter_boxes(stsd))
    entry = next(iter_boxes(stsd, top.payload + 8, top.end))
    fields = (
        _VISUAL_FIELDS
        if entry.type in (b"avc1", b"avc3", b"hvc1", b"hev1", b"av01", b"vp09")
        else _AUDIO_FIELDS
    )
    head = bytearray(stsd[entry.payload : entry.payload + fields])
    if fields == _VISUAL_FIELDS:
        head[_COMPRESSOR_NAME.start - 8 : _COMPRESSOR_NAME.stop - 8] = bytes(32)
    parts = [entry.type, bytes(head)]
    for child in iter_boxes(stsd, entry.payload + fields, entry.end):
        if child.type == b"btrt":
            continue
        raw = stsd[child.start : child.end]
        parts.append(_esds_without_bitrates(raw) if child.type == b"esds" else raw)
    return b"".join(parts)


def _esds_without_bitrates(raw: bytes) -> bytes:
    """Blanks bufferSizeDB, maxBitrate and avgBitrate of the DecoderConfigDescriptor (tag 4)."""
    out = bytearray(raw)
    at = 12  # box header and version/flags
    while at < len(out):
        tag = out[at]
        size, at = _descriptor_size(out, at + 1)
        if tag == 3:  # ES_Descriptor: ES_ID, flags, then optional fields, then its children
            flags = out[at + 2]
            at += 3 + (2 if flags & 0x80 else 0)
            if flags & 0x40:
                at += 1 + out[at]
            at += 2 if flags & 0x20 else 0
            continue
        if tag == 4:
            out[at + 2 : at + 13] = bytes(11)
            break
        at += size
    return bytes(out)


def _descriptor_size(data: bytearray, at: int) -> tuple[int, int]:
    size = 0
    for _ in range(4):
        byte = data[at]
        at += 1
        size = size << 7 | byte & 0x7F
        if not byte & 0x80:
            break
    return size, at
