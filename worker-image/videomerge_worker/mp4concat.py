"""Stream-copy concatenation at the container level: one index (moov) computed from the clips' own sample
tables, their media bytes laid end to end behind it.

FFmpeg's concat demuxer reads every packet of every clip and writes it again. For clips that share every
stream parameter, the output's index follows from the clips' indexes alone, so each clip's media can be
downloaded straight to its place in the output file: a copy merge then costs one download. Anything outside
the plain layout (see mp4index) raises UnsupportedLayoutError and FFmpeg does the merge.

Timeline: clip j is shown from T_j, the sum of the earlier clips' video lengths, on every track. Each track
keeps one edit, clip 1's start offset (B-frame delay, AAC priming). Where the next clip must start earlier
than the previous clip's last sample ends (AAC priming and padding overlap), the previous clip's last sample
and the next clip's first, unshown samples are shortened so that every shown sample keeps its time; the
same timeline FFmpeg's concat writes.
"""

import struct
import sys
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from videomerge_worker.mp4index import (
    Box,
    MovieIndex,
    Track,
    UnsupportedLayoutError,
    children,
    declines_malformed,
    iter_boxes,
)

HANDLERS = (b"vide", b"soun")
U32 = 0xFFFFFFFF
# How far a clip's audio may end from its video before the join would leave a gap or an overlap that
# shortening the priming samples cannot absorb (the planner already refuses more than 0.1 s for copy).
MAX_AUDIO_MISMATCH_SECONDS = Fraction(1, 5)
MAX_SHORTENED_SAMPLES = 8


@dataclass(frozen=True)
class ClipSource:
    """One clip's index and where its media box's payload lies in its file."""

    index: MovieIndex
    payload_start: int
    payload_end: int

    @property
    def payload_bytes(self) -> int:
        return self.payload_end - self.payload_start


@dataclass(frozen=True)
class Piece:
    """Bytes ``[start, end)`` of clip ``clip``'s file go to ``output_offset`` in the merged file."""

    clip: int
    start: int
    end: int
    output_offset: int


@dataclass(frozen=True)
class Layout:
    header: bytes  # ftyp, moov and the mdat header: the merged file's first bytes
    pieces: tuple[Piece, ...]
    size: int
    duration_seconds: float


@declines_malformed
def concat_layout(ftyp: bytes, clips: Sequence[ClipSource]) -> Layout:
    """The merged file: ``header`` then every piece at its offset. Raises UnsupportedLayoutError."""
    if not clips:
        raise UnsupportedLayoutError("no clips")
    _check_compatible(clips)
    for clip in clips:
        for track in clip.index.tracks:
            _check_extents(track, clip)
    payload = sum(c.payload_bytes for c in clips)
    video = [c.index.tracks[0] for c in clips]
    lengths = [Fraction(t.media_duration, t.timescale) for t in video]
    for t, length in zip(video, lengths, strict=True):
        if t.edit_duration is not None:
            shown = Fraction(t.edit_duration, clips[0].index.timescale)
            if abs(shown - length) > Fraction(1, clips[0].index.timescale) + Fraction(1, t.timescale):
                raise UnsupportedLayoutError("a clip's edit list trims its video")
    anchors = [sum(lengths[:j], Fraction(0)) for j in range(len(clips) + 1)]
    timelines = [
        _timeline([c.index.tracks[k] for c in clips], anchors, clips[0].index.timescale) for k in range(2)
    ]

    # 32-bit chunk offsets unless the file outgrows them; the 64-bit index is the larger, so if the file
    # fits 32 bits with it, it does with the 32-bit one too.
    mdat_header = _mdat_header(payload)
    widest = len(_moov(clips, timelines, base=0, wide=True))
    wide = len(ftyp) + widest + len(mdat_header) + payload > U32
    chunks = sum(len(t.chunk_offsets) for c in clips for t in c.index.tracks)
    base = len(ftyp) + (widest if wide else widest - 4 * chunks) + len(mdat_header)
    moov = _moov(clips, timelines, base=base, wide=wide)
    assert base == len(ftyp) + len(moov) + len(mdat_header)
    pieces, at = [], base
    for i, clip in enumerate(clips):
        pieces.append(Piece(i, clip.payload_start, clip.payload_end, at))
        at += clip.payload_bytes
    # what players (and ffprobe) report: the longest track as the movie header has it
    duration = max(_shown_in_movie_timescale(clips, timelines)) / clips[0].index.timescale
    return Layout(ftyp + moov + mdat_header, tuple(pieces), at, duration)


def _check_compatible(clips: Sequence[ClipSource]) -> None:
    first = clips[0].index
    for n, clip in enumerate(clips, 1):
        tracks = clip.index.tracks
        if tuple(t.handler for t in tracks) != HANDLERS:
            raise UnsupportedLayoutError(f"clip {n} does not have exactly one video and one audio track")
        if clip.index.timescale != first.timescale:
            raise UnsupportedLayoutError(f"clip {n} has another movie timescale")
        for track, ref in zip(tracks, first.tracks, strict=True):
            if (
                track.timescale != ref.timescale
                or track.stsd_key != ref.stsd_key
                or track.tkhd_tail != ref.tkhd_tail
            ):
                raise UnsupportedLayoutError(
                    f"clip {n}'s {track.handler.decode()} track is set up differently"
                )


def _check_extents(track: Track, clip: ClipSource) -> None:
    """Every sample lies inside the clip's media payload: only that is copied."""
    sample = 0
    for offset, count in zip(track.chunk_offsets, track.chunk_samples, strict=True):
        end = offset + sum(track.sizes[sample : sample + count])
        if count and (offset < clip.payload_start or end > clip.payload_end):
            raise UnsupportedLayoutError("a chunk lies outside the media box")
        sample += count


@dataclass
class _Timeline:
    deltas: array
    media_time: int
    shown: int  # track timescale: how long the track is presented


def _timeline(tracks: Sequence[Track], anchors: Sequence[Fraction], movie_timescale: int) -> _Timeline:
    """The merged track's sample durations, placing clip j's first shown sample at ``anchors[j]``."""
    scale = tracks[0].timescale
    media_time = tracks[0].edit_media_time
    starts = [
        round(a * scale) + media_time - t.edit_media_time for a, t in zip(anchors, tracks, strict=False)
    ]
    slack = round(MAX_AUDIO_MISMATCH_SECONDS * scale)
    deltas = array("I")
    carry = 0  # ticks the current clip starts late: taken back from its first samples
    for j, track in enumerate(tracks):
        own = array("I", track.deltas)
        for i in range(min(len(own), MAX_SHORTENED_SAMPLES)):
            if not carry:
                break
            take = min(carry, own[i] - 1)
            own[i] -= take
            carry -= take
        if carry:
            raise UnsupportedLayoutError(
                f"clip {j + 1}'s {track.handler.decode()} overlaps the previous clip"
            )
        if j + 1 < len(tracks):
            last_start = starts[j] + track.media_duration - track.deltas[-1]
            gap = starts[j + 1] - last_start
            if gap - track.deltas[-1] > slack or -gap > slack:
                raise UnsupportedLayoutError(
                    f"clip {j + 1}'s {track.handler.decode()} and video lengths differ"
                )
            own[-1] = max(gap, 1)
            carry = max(1 - gap, 0)
        deltas.extend(own)
    last = tracks[-1]
    if last.edit_duration is not None:
        last_shown = round(Fraction(last.edit_duration, movie_timescale) * scale)
    else:
        last_shown = last.media_duration - last.edit_media_time
    shown = round(anchors[-2] * scale) + last_shown
    return _Timeline(deltas, media_time, shown)


# Writing boxes


def box(box_type: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    if len(body) + 8 > U32:
        return struct.pack(">I4sQ", 1, box_type, len(body) + 16) + body
    return struct.pack(">I4s", len(body) + 8, box_type) + body


def _mdat_header(payload: int) -> bytes:
    if payload + 8 > U32:
        return struct.pack(">I4sQ", 1, b"mdat", payload + 16)
    return struct.pack(">I4s", payload + 8, b"mdat")


def _shown_in_movie_timescale(clips: Sequence[ClipSource], timelines: Sequence[_Timeline]) -> list[int]:
    movie_timescale = clips[0].index.timescale
    return [
        round(Fraction(t.shown, clips[0].index.tracks[k].timescale) * movie_timescale)
        for k, t in enumerate(timelines)
    ]


def _moov(clips: Sequence[ClipSource], timelines: Sequence[_Timeline], base: int, wide: bool) -> bytes:
    first = clips[0].index
    top = next(iter_boxes(first.moov))
    shown = _shown_in_movie_timescale(clips, timelines)
    parts: list[bytes] = []
    track_number = 0
    for child in iter_boxes(first.moov, top.payload, top.end):
        raw = first.moov[child.start : child.end]
        if child.type == b"mvhd":
            parts.append(_with_duration(raw, max(shown)))
        elif child.type == b"trak":
            k = track_number
            track_number += 1
            parts.append(_trak(clips, k, timelines[k], shown[k], base, wide))
        else:
            parts.append(raw)  # udta, meta, iods: the first clip's
    return box(b"moov", *parts)


def _with_duration(raw: bytes, duration: int, *, v0_at: int = 24, v1_at: int = 32) -> bytes:
    """mvhd/mdhd (duration after two times and the timescale) or tkhd (``v0_at=28, v1_at=36``)."""
    version = raw[8]
    out = bytearray(raw)
    if version == 1:
        struct.pack_into(">Q", out, v1_at, duration)
    else:
        if duration > U32:
            raise UnsupportedLayoutError("the merged duration does not fit a version 0 header")
        struct.pack_into(">I", out, v0_at, duration)
    return bytes(out)


def _trak(
    clips: Sequence[ClipSource], k: int, timeline: _Timeline, shown: int, base: int, wide: bool
) -> bytes:
    track = clips[0].index.tracks[k]
    raw = track.raw
    top = next(iter_boxes(raw))
    parts: list[bytes] = []
    for child in iter_boxes(raw, top.payload, top.end):
        if child.type == b"tkhd":
            parts.append(_with_duration(raw[child.start : child.end], shown, v0_at=28, v1_at=36))
        elif child.type == b"edts":
            continue
        elif child.type == b"mdia":
            parts.append(box(b"edts", _elst(shown, timeline.media_time)))
            parts.append(_mdia(clips, k, timeline, raw, child, base, wide))
        else:
            parts.append(raw[child.start : child.end])
    return box(b"trak", *parts)


def _elst(duration: int, media_time: int) -> bytes:
    if duration > U32 or media_time > 0x7FFFFFFF:
        return box(b"elst", struct.pack(">BxxxIQqI", 1, 1, duration, media_time, 0x10000))
    return box(b"elst", struct.pack(">BxxxIIiI", 0, 1, duration, media_time, 0x10000))


def _mdia(
    clips: Sequence[ClipSource], k: int, timeline: _Timeline, raw: bytes, mdia: Box, base: int, wide: bool
) -> bytes:
    parts = []
    for child in iter_boxes(raw, mdia.payload, mdia.end):
        chunk = raw[child.start : child.end]
        if child.type == b"mdhd":
            parts.append(_with_duration(chunk, sum(timeline.deltas)))
        elif child.type == b"minf":
            minf = [
                raw[c.start : c.end] if c.type != b"stbl" else _stbl(clips, k, timeline, raw, c, base, wide)
                for c in iter_boxes(raw, child.payload, child.end)
            ]
            parts.append(box(b"minf", *minf))
        else:
            parts.append(chunk)
    return box(b"mdia", *parts)


def _stbl(
    clips: Sequence[ClipSource], k: int, timeline: _Timeline, raw: bytes, stbl: Box, base: int, wide: bool
) -> bytes:
    tracks = [c.index.tracks[k] for c in clips]
    stsd = children(raw, stbl)[b"stsd"]
    parts = [raw[stsd.start : stsd.end], _stts(timeline.deltas)]
    if any(t.offsets is not None for t in tracks):
        parts.append(
            _ctts(t.offsets if t.offsets is not None else array("i", [0]) * len(t.sizes) for t in tracks)
        )
    if any(t.sync is not None for t in tracks):
        parts.append(_stss(tracks))
    if all(t.sdtp is not None for t in tracks):
        parts.append(box(b"sdtp", b"\0\0\0\0", *(t.sdtp or b"" for t in tracks)))
    parts.append(_stsc(tracks))
    parts.append(_stsz(tracks))
    parts.append(_chunk_offsets(clips, k, base, wide))
    return box(b"stbl", *parts)


def _run_length(values: Iterable[int], typecode: str) -> tuple[array, array]:
    """(counts, values) of the runs of equal values, as two arrays (a crafted table of alternating values
    costs 8 bytes a run, not a Python tuple)."""
    counts, runs = array("I"), array(typecode)
    for value in values:
        if runs and runs[-1] == value:
            counts[-1] += 1
        else:
            counts.append(1)
            runs.append(value)
    return counts, runs


def _big_endian(values: array) -> bytes:
    out = array(values.typecode, values)
    if sys.byteorder == "little":
        out.byteswap()
    return out.tobytes()


def _interleaved(counts: array, runs: array) -> bytes:
    pairs = array("I", bytes(8 * len(counts)))
    pairs[0::2] = counts
    pairs[1::2] = array("I", runs.tobytes())
    return _big_endian(pairs)


def _stts(deltas: array) -> bytes:
    counts, runs = _run_length(deltas, "I")
    return box(b"stts", struct.pack(">II", 0, len(counts)), _interleaved(counts, runs))


def _ctts(per_clip: Iterable[array]) -> bytes:
    counts, runs = _run_length((v for offsets in per_clip for v in offsets), "i")
    version = 1 if any(v < 0 for v in runs) else 0
    return box(b"ctts", struct.pack(">BxxxI", version, len(counts)), _interleaved(counts, runs))


def _stss(tracks: Sequence[Track]) -> bytes:
    numbers = array("I")
    before = 0
    for t in tracks:
        numbers.extend(n + before for n in (t.sync if t.sync is not None else range(1, len(t.sizes) + 1)))
        before += len(t.sizes)
    return box(b"stss", struct.pack(">II", 0, len(numbers)), _big_endian(numbers))


def _stsc(tracks: Sequence[Track]) -> bytes:
    entries = array("I")  # first chunk, samples per chunk, description: three per entry
    chunk = 1
    for t in tracks:
        for count in t.chunk_samples:
            if not entries or entries[-2] != count:
                entries.extend((chunk, count, 1))
            chunk += 1
    return box(b"stsc", struct.pack(">II", 0, len(entries) // 3), _big_endian(entries))


def _stsz(tracks: Sequence[Track]) -> bytes:
    sizes = array("I")
    for t in tracks:
        sizes.extend(t.sizes)
    if sizes and sizes.count(sizes[0]) == len(sizes):
        return box(b"stsz", struct.pack(">III", 0, sizes[0], len(sizes)))
    return box(b"stsz", struct.pack(">III", 0, 0, len(sizes)), _big_endian(sizes))


def _chunk_offsets(clips: Sequence[ClipSource], k: int, base: int, wide: bool) -> bytes:
    offsets = array("Q")
    at = base
    for clip in clips:
        shift = at - clip.payload_start
        offsets.extend(o + shift for o in clip.index.tracks[k].chunk_offsets)
        at += clip.payload_bytes
    if wide:
        return box(b"co64", struct.pack(">II", 0, len(offsets)), _big_endian(offsets))
    return box(b"stco", struct.pack(">II", 0, len(offsets)), _big_endian(array("I", offsets)))
