"""Reading an MP4/MOV index (moov) into per-track sample tables, for the container-level concat.

Only the plain layout is accepted: one sample description per track, chunk offsets into the one media
box, at most one edit that does not trim. Anything else raises UnsupportedLayoutError, and FFmpeg does the merge.
"""

import struct
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

CONTAINER_TYPES = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts"})


class UnsupportedLayoutError(Exception):
    """This file (or this set of files) is outside what the container-level concat handles."""


@dataclass(frozen=True)
class Box:
    type: bytes
    start: int  # of the header, within the buffer it was read from
    payload: int
    end: int


def iter_boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[Box]:
    end = len(data) if end is None else end
    offset = start
    while offset + 8 <= end:
        size, box_type = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            if offset + 16 > end:
                raise UnsupportedLayoutError("a box header runs past its parent")
            (size,) = struct.unpack_from(">Q", data, offset + 8)
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            raise UnsupportedLayoutError(f"box {box_type!r} runs past its parent")
        yield Box(box_type, offset, offset + header, offset + size)
        offset += size


def children(data: bytes, parent: Box) -> dict[bytes, Box]:
    """The child boxes by type; a type that repeats (other than ``trak``) is outside the plain layout."""
    found: dict[bytes, Box] = {}
    for box in iter_boxes(data, parent.payload, parent.end):
        if box.type in found and box.type != b"trak":
            raise UnsupportedLayoutError(f"more than one {box.type.decode('latin-1')} box")
        found.setdefault(box.type, box)
    return found


def full_box(data: bytes, box: Box) -> tuple[int, int]:
    """(version, payload offset after the version and flags)."""
    return data[box.payload], box.payload + 4


@dataclass
class Track:
    handler: bytes
    timescale: int
    raw: bytes  # the whole trak box, for the parts copied unchanged
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


def read_moov(moov: bytes) -> MovieIndex:
    top = next(iter_boxes(moov))
    if top.type != b"moov":
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
    tracks = [
        _read_track(moov[b.start : b.end])
        for b in iter_boxes(moov, top.payload, top.end)
        if b.type == b"trak"
    ]
    return MovieIndex(timescale, tracks, moov)


def _read_track(trak: bytes) -> Track:
    top = next(iter_boxes(trak))
    boxes = children(trak, top)
    mdia = children(trak, _need(boxes, b"mdia"))
    minf = children(trak, _need(mdia, b"minf"))
    stbl = children(trak, _need(minf, b"stbl"))
    handler = trak[_need(mdia, b"hdlr").payload + 8 : _need(mdia, b"hdlr").payload + 12]
    version, at = full_box(trak, _need(mdia, b"mdhd"))
    timescale = struct.unpack_from(">I", trak, at + (16 if version == 1 else 8))[0]
    if not timescale:
        raise UnsupportedLayoutError("a zero track timescale")
    tkhd = _need(boxes, b"tkhd")
    tkhd_version, at = full_box(trak, tkhd)
    tkhd_tail = trak[at + (32 if tkhd_version == 1 else 20) : tkhd.end]

    stsd = _need(stbl, b"stsd")
    if struct.unpack_from(">I", trak, stsd.payload + 4)[0] != 1:
        raise UnsupportedLayoutError("several sample descriptions in one track")
    if b"stz2" in stbl:
        raise UnsupportedLayoutError("compact sample sizes (stz2)")
    deltas = _runs(trak, _need(stbl, b"stts"), "I")
    sizes = _sizes(trak, _need(stbl, b"stsz"))
    if len(deltas) != len(sizes):
        raise UnsupportedLayoutError("the sample tables disagree on the number of samples")
    offsets = _runs(trak, stbl[b"ctts"], "i") if b"ctts" in stbl else None
    if offsets is not None and len(offsets) != len(sizes):
        raise UnsupportedLayoutError("the composition offsets do not cover every sample")
    chunk_offsets = _chunk_offsets(trak, stbl)
    chunk_samples = _chunk_samples(trak, _need(stbl, b"stsc"), len(chunk_offsets))
    if sum(chunk_samples) != len(sizes):
        raise UnsupportedLayoutError("the chunk table does not cover every sample")
    sync = _table(trak, stbl[b"stss"], "I") if b"stss" in stbl else None
    sdtp = None
    if b"sdtp" in stbl:
        sdtp = trak[stbl[b"sdtp"].payload + 4 : stbl[b"sdtp"].end]
        if len(sdtp) != len(sizes):
            sdtp = None  # a hint only; wrong, it is dropped rather than trusted
    media_time, duration = _edit(trak, boxes)
    return Track(
        handler=handler,
        timescale=timescale,
        raw=trak,
        stsd=trak[stsd.start : stsd.end],
        stsd_key=description_key(trak[stsd.start : stsd.end]),
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


def _count(data: bytes, box: Box, entry_bytes: int) -> tuple[int, int]:
    _, at = full_box(data, box)
    (count,) = struct.unpack_from(">I", data, at)
    if at + 4 + count * entry_bytes > box.end:
        raise UnsupportedLayoutError(f"a {box.type.decode('latin-1')} table runs past its box")
    return count, at + 4


def _runs(data: bytes, box: Box, typecode: str) -> array:
    """A (count, value) run-length table (stts, ctts) expanded to one value per sample."""
    count, at = _count(data, box, 8)
    pairs = struct.unpack_from(f">{count * 2}{'I' if typecode == 'I' else 'i'}", data, at)
    values = array(typecode)
    for run, value in zip(pairs[::2], pairs[1::2], strict=True):
        if run > 10_000_000:
            raise UnsupportedLayoutError("an implausibly long sample table")
        values.extend(array(typecode, [value]) * run)
    return values


def _table(data: bytes, box: Box, typecode: str) -> array:
    count, at = _count(data, box, 4)
    return array(typecode, struct.unpack_from(f">{count}I", data, at))


def _sizes(data: bytes, box: Box) -> array:
    _, at = full_box(data, box)
    constant, count = struct.unpack_from(">II", data, at)
    if constant:
        return array("I", [constant]) * count
    if at + 8 + count * 4 > box.end:
        raise UnsupportedLayoutError("the sample size table runs past its box")
    return array("I", struct.unpack_from(f">{count}I", data, at + 8))


def _chunk_offsets(data: bytes, stbl: dict[bytes, Box]) -> array:
    if b"stco" in stbl:
        return array("Q", _table(data, stbl[b"stco"], "I"))
    box = _need(stbl, b"co64")
    count, at = _count(data, box, 8)
    return array("Q", struct.unpack_from(f">{count}Q", data, at))


def _chunk_samples(data: bytes, box: Box, chunks: int) -> array:
    count, at = _count(data, box, 12)
    entries = [struct.unpack_from(">III", data, at + 12 * i) for i in range(count)]
    result = array("I")
    for i, (first, per_chunk, description) in enumerate(entries):
        if description != 1:
            raise UnsupportedLayoutError("a chunk refers to another sample description")
        last = entries[i + 1][0] - 1 if i + 1 < count else chunks
        if first < 1 or last < first - 1 or last > chunks:
            raise UnsupportedLayoutError("the chunk table is out of order")
        result.extend(array("I", [per_chunk]) * (last - first + 1))
    if len(result) != chunks:
        raise UnsupportedLayoutError("the chunk table does not cover every chunk")
    return result


def _edit(data: bytes, boxes: dict[bytes, Box]) -> tuple[int, int | None]:
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
