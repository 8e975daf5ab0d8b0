"""Top-level box walk of MP4/MOV files: the cheap way to notice a truncated download.

ffprobe reads only the header and a few packets, so an MP4 whose index (moov) comes first but whose
media data was cut short probes as healthy; its boxes, though, claim more bytes than the file has.
"""

import struct
from pathlib import Path

_TOP_LEVEL_TYPES = frozenset(
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
    return len(header) >= 8 and header[4:8] in _TOP_LEVEL_TYPES


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
