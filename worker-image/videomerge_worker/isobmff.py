"""The one ISO BMFF (MP4/MOV) box walker, and what the worker learns from a file's top-level boxes.

Every reader of boxes goes through ``walk``: the truncation check of a downloaded clip, the watch on a
clip still downloading, the assembler's range reads of a clip's layout and its index parser. The walk
streams (it reads one header at a time through a ``Reader``, never a list of every box), counts the boxes
it has seen against a limit, and refuses a header that cannot be one: a crafted file of millions of
empty boxes or an absurd size costs a bounded number of reads, and fails with BoxError.

ffprobe reads only the header and a few packets, so an MP4 whose index (moov) comes first but whose
media data was cut short probes as healthy; its boxes, though, claim more bytes than the file has.
"""

import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

TOP_LEVEL_TYPES = frozenset(
    {
        b"ftyp",
        b"moov",
        b"mdat",
        b"free",
        b"skip",
        b"wide",
        b"uuid",
        b"pdin",
        b"meta",
        b"moof",
        b"mfra",
        b"sidx",
        b"styp",
        b"emsg",
        b"prft",
    }
)
FRAGMENT_TYPES = frozenset({b"moof", b"sidx", b"styp"})
# A fragmented two-hour clip with one-second fragments has ~15,000 top-level boxes; a plain one, a handful.
MAX_TOP_LEVEL_BOXES = 100_000
# Children of one box inside an index: a moov holds its tracks, an stbl a dozen tables.
MAX_CHILD_BOXES = 1024
# What a clip's index may declare before FFmpeg reads it: FFmpeg builds ~30 bytes of index per sample,
# so 2 million samples (two hours of 120 fps video with its audio) cost it ~60 MB; an index of tens of
# millions of samples, every table entry really there, costs it gigabytes.
MAX_CLIP_SAMPLES = 2_000_000
MAX_INDEX_BYTES = 32 * 1024 * 1024
_INDEX_PATH = (b"trak", b"mdia", b"minf", b"stbl")

# (offset, length) → up to ``length`` bytes from ``offset`` (fewer only at the end of what there is).
Reader = Callable[[int, int], bytes]


class BoxError(Exception):
    """The bytes are not well-formed boxes, or more of them than any real file has."""


@dataclass(frozen=True)
class Box:
    type: bytes
    start: int  # of the header, in whatever the walk reads (a file, a buffer)
    payload: int
    end: int  # as declared: past the walk's end when the box is cut short

    @property
    def size(self) -> int:
        return self.end - self.start

    @property
    def name(self) -> str:
        return self.type.decode("latin-1")


def walk(
    read: Reader,
    start: int,
    end: int,
    *,
    max_boxes: int = MAX_CHILD_BOXES,
    known: frozenset[bytes] | None = None,
) -> Iterator[Box]:
    """The boxes laid end to end in ``[start, end)``, one header read at a time.

    A box running past ``end`` is yielded last (the caller decides: a truncated file, or a malformed
    index). With ``known``, the walk ends quietly at the first box of another type, and at fewer than 8
    trailing bytes: what follows a file's last box is not the file's. Raises BoxError on a header that
    cannot be one, and past ``max_boxes`` boxes."""
    offset, count = start, 0
    while offset < end:
        head = read(offset, min(16, end - offset))
        if len(head) < 8:
            if known is not None:
                return
            raise BoxError(f"{end - offset} stray bytes where a box header should be")
        size, box_type = struct.unpack_from(">I4s", head)
        if known is not None and box_type not in known:
            return
        header = 8
        if size == 1:
            if len(head) < 16:
                raise BoxError(f"the header of a {_name(box_type)} box is cut short")
            (size,) = struct.unpack_from(">Q", head, 8)
            header = 16
        elif size == 0:
            size = end - offset
        if size < header:
            raise BoxError(f"a {_name(box_type)} box declares {size} bytes")
        count += 1
        if count > max_boxes:
            raise BoxError(f"more than {max_boxes} boxes in a row")
        yield Box(box_type, offset, offset + header, offset + size)
        if offset + size >= end:
            return
        offset += size


def buffer_reader(data: bytes) -> Reader:
    view = memoryview(data)
    return lambda offset, length: bytes(view[offset : offset + length])


def within(data: bytes, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """The boxes of a buffer (an index read into memory) in ``[start, end)``; none may run past it."""
    end = len(data) if end is None else end
    for box in walk(buffer_reader(data), start, end):
        if box.end > end:
            raise BoxError(f"a {box.name} box runs past its parent")
        yield box


def file_reader(fd: int) -> Reader:
    return lambda offset, length: os.pread(fd, length, offset)


def _name(box_type: bytes) -> str:
    return box_type.decode("latin-1")


def is_iso_bmff(path: Path) -> bool:
    with path.open("rb") as f:
        header = f.read(12)
    return len(header) >= 8 and header[4:8] in TOP_LEVEL_TYPES


def top_level_boxes(path: Path) -> list[Box]:
    """The file's top-level boxes of known types, up to the first thing that is not one."""
    with path.open("rb") as f:
        return list(
            walk(
                file_reader(f.fileno()),
                0,
                os.fstat(f.fileno()).st_size,
                known=TOP_LEVEL_TYPES,
                max_boxes=MAX_TOP_LEVEL_BOXES,
            )
        )


def truncation_problem(path: Path) -> str | None:
    """A sentence saying why the file is cut short or not an MP4/MOV to merge, or None when its top-level
    boxes add up. Stray bytes after the last box are the file's business, not a truncation."""
    file_size = path.stat().st_size
    end, has_index = 0, False
    try:
        with path.open("rb") as f:
            for box in walk(
                file_reader(f.fileno()), 0, file_size, known=TOP_LEVEL_TYPES, max_boxes=MAX_TOP_LEVEL_BOXES
            ):
                end = box.end
                has_index = has_index or box.type == b"moov"
    except BoxError as exc:
        return f"its boxes are malformed ({exc})"
    if end > file_size:
        return f"the file is truncated ({file_size} of {end} bytes)"
    if not has_index:
        return "the file has no index (moov box); it is truncated or not an MP4/MOV"
    return None


def index_problem(path: Path) -> str | None:
    """A sentence saying why the file's index (moov) is more than FFmpeg should be given, or None. Reads
    box headers and the sample-size tables' counts only: a bounded number of small reads."""
    with path.open("rb") as f:
        read = file_reader(f.fileno())
        size = os.fstat(f.fileno()).st_size
        try:
            top = walk(read, 0, size, known=TOP_LEVEL_TYPES, max_boxes=MAX_TOP_LEVEL_BOXES)
            for moov in (box for box in top if box.type == b"moov"):
                if moov.size > MAX_INDEX_BYTES:
                    return f"its index is {moov.size} bytes, more than the {MAX_INDEX_BYTES} a clip may have"
                samples = _declared_samples(read, moov, min(moov.end, size))
                if samples > MAX_CLIP_SAMPLES:
                    return f"its index declares {samples} samples, more than the {MAX_CLIP_SAMPLES} a clip may have"
        except BoxError as exc:
            return f"its boxes are malformed ({exc})"
    return None


def _declared_samples(read: Reader, moov: Box, end: int) -> int:
    """The sample counts of every track's sample-size table (stsz or stz2), added up."""
    total = 0
    parents = [moov]
    for wanted in _INDEX_PATH:
        parents = [
            child
            for parent in parents
            for child in walk(read, parent.payload, min(parent.end, end))
            if child.type == wanted
        ]
    for stbl in parents:
        for table in walk(read, stbl.payload, min(stbl.end, end)):
            if table.type in (b"stsz", b"stz2"):
                header = read(table.payload, 12)
                if len(header) == 12:
                    total += struct.unpack_from(">I", header, 8)[0]
    return total


class IndexWatch:
    """Follows an MP4/MOV file as it is downloaded and tells when it can be probed and read while still
    growing: its index (moov) is on disk, followed by one plain media box (mdat) of which ``slack`` bytes
    are there too (the first packets, which ffprobe decodes). Files with the index last, and fragmented
    files (whose demuxer reads on past the last sample), never qualify."""

    def __init__(self, path: Path, slack: int) -> None:
        self.path = path
        self.slack = slack
        self._next_box = 0
        self._boxes = 0
        self._media_start: int | None = None
        self._seen_index = False
        self.hopeless = False

    def ready(self, written: int) -> bool:
        """Whether the first ``written`` bytes of the file suffice; cheap to call after every write."""
        if self.hopeless:
            return False
        if self._media_start is None:
            self._walk(written)
        return self._media_start is not None and written >= self._media_start + self.slack

    def _walk(self, written: int) -> None:
        with self.path.open("rb") as f:
            boxes = walk(file_reader(f.fileno()), self._next_box, written, max_boxes=MAX_TOP_LEVEL_BOXES)
            try:
                for box in boxes:
                    if box.type not in TOP_LEVEL_TYPES or box.type in FRAGMENT_TYPES:
                        self.hopeless = True  # not ISO BMFF, or fragmented
                        return
                    if box.end > written and box.type != b"mdat":
                        return  # not all here yet: walked again from this box when more is
                    self._boxes += 1
                    if self._boxes > MAX_TOP_LEVEL_BOXES:
                        self.hopeless = True  # a flood of boxes: probed once complete, if at all
                        return
                    if box.type == b"mdat":
                        if self._seen_index:
                            self._media_start = box.start
                        else:
                            self.hopeless = True  # the media comes before the index
                        return
                    self._seen_index = self._seen_index or box.type == b"moov"
                    self._next_box = box.end
            except BoxError:
                if written - self._next_box >= 16:
                    self.hopeless = True  # a header fully there that is not one
