"""Top-level box walk of MP4/MOV files: the cheap way to notice a truncated download.

ffprobe reads only the header and a few packets, so an MP4 whose index (moov) comes first but whose
media data was cut short probes as healthy; its boxes, though, claim more bytes than the file has.
"""

import struct
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


def is_iso_bmff(path: Path) -> bool:
    with path.open("rb") as f:
        header = f.read(12)
    return len(header) >= 8 and header[4:8] in TOP_LEVEL_TYPES


def top_level_boxes(path: Path) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of each top-level box; a box running past the end of file ends the list."""
    boxes: list[tuple[bytes, int, int]] = []
    file_size = path.stat().st_size
    with path.open("rb") as f:
        offset = 0
        while offset + 8 <= file_size:
            f.seek(offset)
            size, box_type = struct.unpack(">I4s", f.read(8))
            if size == 1:
                extended = f.read(8)
                if len(extended) < 8:
                    break
                (size,) = struct.unpack(">Q", extended)
            elif size == 0:
                size = file_size - offset
            if size < 8:
                break
            boxes.append((box_type, offset, size))
            offset += size
    return boxes


def truncation_problem(path: Path) -> str | None:
    """A sentence saying why the file is cut short, or None when its top-level boxes add up."""
    file_size = path.stat().st_size
    boxes = top_level_boxes(path)
    end = boxes[-1][1] + boxes[-1][2] if boxes else 0
    if end > file_size:
        return f"the file is truncated ({file_size} of {end} bytes)"
    if not any(box_type == b"moov" for box_type, _, _ in boxes):
        return "the file has no index (moov box); it is truncated or not an MP4/MOV"
    return None


class IndexWatch:
    """Follows an MP4/MOV file as it is downloaded and tells when it can be probed and read while still
    growing: its index (moov) is on disk, followed by one plain media box (mdat) of which ``slack`` bytes
    are there too (the first packets, which ffprobe decodes). Files with the index last, and fragmented
    files (whose demuxer reads on past the last sample), never qualify."""

    def __init__(self, path: Path, slack: int) -> None:
        self.path = path
        self.slack = slack
        self._next_box = 0
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
            while self._media_start is None and not self.hopeless and written >= self._next_box + 16:
                f.seek(self._next_box)
                size, box_type = struct.unpack(">I4s", f.read(8))
                if size == 1:
                    (size,) = struct.unpack(">Q", f.read(8))
                if box_type not in TOP_LEVEL_TYPES or size < 8 or box_type in (b"moof", b"sidx", b"styp"):
                    self.hopeless = True  # not ISO BMFF, or fragmented
                elif box_type == b"mdat":
                    if self._seen_index:
                        self._media_start = self._next_box
                    else:
                        self.hopeless = True  # the media comes before the index
                else:
                    self._seen_index = self._seen_index or box_type == b"moov"
                    self._next_box += size
