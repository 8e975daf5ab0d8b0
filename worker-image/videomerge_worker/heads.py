"""A clip's head by byte ranges: its top-level layout and index (wherever the index lies, first or last),
kept in a sparse local copy that a probe reads once the first media bytes are added.

A clip without such a head (a server that ignores ranges, not an MP4/MOV, a layout the assembler does
not join, an index over the limits) raises ``NoHeadError`` carrying the bytes already read, so that
its whole download resumes after them.
"""

import io
from dataclasses import dataclass
from pathlib import Path

from videomerge_worker.clip import Clip
from videomerge_worker.download import Downloader, RangesIgnoredError
from videomerge_worker.errors import WorkerError
from videomerge_worker.isobmff import FRAGMENT_TYPES, TOP_LEVEL_TYPES, Box, walk
from videomerge_worker.mp4concat import ClipSource
from videomerge_worker.mp4index import PARSE_ERRORS, IndexBudget, UnsupportedLayoutError, read_moov

HEAD_BYTES = 16 * 1024
TAIL_BYTES = 1024 * 1024
# An index larger than this goes the FFmpeg way: it would be held in memory, and so would its tables.
MAX_INDEX_BYTES = 24 * 1024 * 1024
MAX_TOP_LEVEL_BOXES = 32


class NoHeadError(Exception):
    """The clip has no head the assembler reads; ``prefix``: its first bytes, already fetched."""

    def __init__(self, why: str, prefix: bytes = b"", size: int | None = None) -> None:
        super().__init__(why)
        self.prefix, self.size = prefix, size


@dataclass(frozen=True)
class Head:
    """What a clip's byte ranges told before its media."""

    prefix: bytes  # the file's first bytes (HEAD_BYTES at most)
    size: int  # the whole file's
    ftyp: bytes
    source: ClipSource  # its index and where its media lies
    probe_copy: Path  # sparse: the prefix and the index at their offsets; the probe adds the first media
    index_first: bool  # the index comes before the media: FFmpeg can read the clip while it downloads


def probe_copy_path(work_dir: Path, clip: Clip) -> Path:
    return work_dir / f"clip-{clip.index:03d}.index"


def read_head(downloader: Downloader, work_dir: Path, budget: IndexBudget, clip: Clip) -> Head:
    """The clip's head, or NoHeadError. A clip that cannot be downloaded at all raises WorkerError."""
    try:
        prefix = _range(downloader, clip, 0, HEAD_BYTES)
    except RangesIgnoredError:
        raise NoHeadError(f"clip {clip.number}: the server ignores byte ranges") from None
    except WorkerError as error:
        if "HTTP 416" not in error.message:  # an empty file: its whole download and probe say so
            raise
        raise NoHeadError(f"clip {clip.number}: {error.message}") from None
    size = downloader.total_sizes.get(clip.url)
    try:
        return _read_layout(downloader, work_dir, budget, clip, prefix, size)
    except NoHeadError as why:
        raise NoHeadError(str(why), prefix, size) from None
    except (*PARSE_ERRORS, UnsupportedLayoutError, RangesIgnoredError) as why:
        raise NoHeadError(f"clip {clip.number}: {why}", prefix, size) from None


def _range(downloader: Downloader, clip: Clip, start: int, length: int) -> bytes:
    buffer = io.BytesIO()
    downloader.fetch_into(clip, buffer, start=start, length=length)
    return buffer.getvalue()


def _read_layout(
    downloader: Downloader, work_dir: Path, budget: IndexBudget, clip: Clip, prefix: bytes, size: int | None
) -> Head:
    if size is None:
        raise NoHeadError(f"clip {clip.number}: no size in the range answer")
    if size > downloader.settings.max_clip_bytes:
        raise NoHeadError(f"clip {clip.number} is over the size limit")  # its whole download reports it

    fetched = [(0, prefix)]

    def read(offset: int, length: int) -> bytes:
        """Bytes from the ranges already fetched, or a new range: exactly them, or, within the last
        TAIL_BYTES of the file, the whole tail (a box header there is usually the index's)."""
        length = min(length, size - offset)
        for at, data in fetched:
            if at <= offset and offset + length <= at + len(data):
                return data[offset - at : offset - at + length]
        data = _range(downloader, clip, offset, size - offset if size - offset <= TAIL_BYTES else length)
        fetched.append((offset, data))
        return data[:length]

    boxes: dict[bytes, Box] = {}
    for found in walk(read, 0, size, max_boxes=MAX_TOP_LEVEL_BOXES, known=TOP_LEVEL_TYPES):
        if found.end > size:
            raise NoHeadError(f"clip {clip.number} is truncated")
        if (
            found.type in boxes and found.type in (b"moov", b"mdat", b"ftyp")
        ) or found.type in FRAGMENT_TYPES:
            raise NoHeadError(f"clip {clip.number} has a layout the assembler does not join")
        boxes.setdefault(found.type, found)
    if not {b"ftyp", b"moov", b"mdat"} <= boxes.keys():
        raise NoHeadError(f"clip {clip.number} lacks an index, a media box or a file type")
    ftyp, moov_box, mdat = boxes[b"ftyp"], boxes[b"moov"], boxes[b"mdat"]
    if moov_box.size > MAX_INDEX_BYTES or ftyp.size > HEAD_BYTES:
        raise NoHeadError(f"clip {clip.number}'s index is too large")
    budget.take(index_bytes=moov_box.size)
    ftyp_bytes = read(ftyp.start, ftyp.size)
    moov = read(moov_box.start, moov_box.size)
    source = ClipSource(
        read_moov(moov, media_bytes=mdat.end - mdat.payload, budget=budget), mdat.payload, mdat.end
    )
    path = probe_copy_path(work_dir, clip)
    with path.open("wb") as sparse:
        sparse.truncate(size)
        for at, data in ((0, prefix), (moov_box.start, moov)):
            sparse.seek(at)
            sparse.write(data)
    return Head(prefix, size, ftyp_bytes, source, path, index_first=moov_box.start < mdat.start)
