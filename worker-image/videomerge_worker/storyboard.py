"""A picture of a merge: a poster frame, and a storyboard with one tile per clip (its first frame, its
position and its length), so the order of the clips shows at a glance.

Both come from the merged file, in one FFmpeg run per group of clips: each clip is an input of its own,
opened at the clip's start (or from each clip's own file, when the assembler has the first bytes of every
clip on disk before the merge is done: then the pictures are made while the rest downloads), so FFmpeg decodes about one frame per clip instead of the whole merge. When
every clip starts on a keyframe (copy and partial merges: each clip keeps its own first keyframe) the
input seeks to the last keyframe before a point a little into the clip (``-noaccurate_seek``): that is
the clip's first frame, even when the clips' lengths as probed and the offsets in the merged file differ
by a few audio frames (the concat demuxer advances by each file's longest stream). After a full
re-encode clips need not start on keyframes: FFmpeg decodes from the keyframe before and keeps the first
frame from the clip's start on. The command builders are pure; ``make_pictures`` runs them.
"""

import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from videomerge_contract.objects import picture_keys
from videomerge_worker.ffmpeg_args import DECODER, PROTOCOLS
from videomerge_worker.ffmpeg_run import run_ffmpeg
from videomerge_worker.footprint import picture_inputs
from videomerge_worker.settings import WorkerSettings
from videomerge_worker.upload import result_url, s3_client

POSTER_NAME, STORYBOARD_NAME = "poster.jpg", "storyboard.jpg"
TILE_WIDTH = 320
BORDER = 4  # around every tile: tiles sit 8 px apart on the background
BACKGROUND = "0x202020"
POSTER_MAX_WIDTH = 1280
# Clips read by one FFmpeg run: each input keeps a demuxer and a (single-threaded) decoder in memory.
GROUP_SIZE = 16
# Where into a clip its input seeks: a keyframe seek lands on the keyframe before (the clip's first, unless
# its keyframes are closer together than this); an accurate seek keeps the first frame from there on.
KEYFRAME_SEEK_INTO = 0.5
ACCURATE_SEEK_INTO = 0.04
FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)


@dataclass(frozen=True)
class Pictures:
    poster: Path
    storyboard: Path


@dataclass(frozen=True)
class Tile:
    index: int  # 0-based position of the clip in the merge
    start: float  # where the clip starts in the merged file, seconds
    length: float  # how long the clip lasts, seconds
    file: Path | None = None  # the clip's own file, whose first frame is the tile's; None: seek the merge


def tiles(clip_seconds: Sequence[float], clip_files: Sequence[Path] | None = None) -> list[Tile]:
    starts = [0.0]
    for seconds in clip_seconds[:-1]:
        starts.append(starts[-1] + seconds)
    files = list(clip_files) if clip_files is not None else [None] * len(clip_seconds)
    return [
        Tile(i, start, length, file)
        for i, (start, length, file) in enumerate(zip(starts, clip_seconds, files, strict=True))
    ]


def length_text(seconds: float) -> str:
    """``4.0 s``, ``1m05s``: no ``:`` or ``%``, which drawtext would read as syntax."""
    if seconds < 59.95:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    return f"{whole // 60}m{whole % 60:02d}s"


def tile_size(width: int, height: int) -> tuple[int, int]:
    """A tile of the merged frame's shape, ``TILE_WIDTH`` wide (even sizes, as the encoders want)."""
    tile_height = max(2, round(TILE_WIDTH * height / max(width, 1) / 2) * 2)
    return TILE_WIDTH, tile_height


def columns_for(clips: int) -> int:
    """One row up to 4 clips, 4 columns up to 16, then 8 (a group of 16 is then exactly two rows)."""
    return min(clips, 4) if clips <= 16 else 8


def font_file() -> str | None:
    return next((f for f in FONT_FILES if Path(f).is_file()), None)


def _tile_chain(source: str, tile: Tile, size: tuple[int, int], font: str | None, label: str) -> str:
    """``source``: a one-frame stream."""
    width, height = size
    chain = [
        f"[{source}]scale={width}:{height}:force_original_aspect_ratio=decrease",
        f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black",
        "setsar=1",
    ]
    if font is not None:
        text = f"#{tile.index + 1}  {length_text(tile.length)}"
        chain.append(
            f"drawtext=fontfile={font}:text='{text}':x=8:y=h-th-8:fontsize={max(12, height // 9)}"
            ":fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=5"
        )
    chain.append(f"pad=iw+{2 * BORDER}:ih+{2 * BORDER}:{BORDER}:{BORDER}:color={BACKGROUND}[{label}]")
    return ",".join(chain)


def group_command(
    merged: Path,
    group: Sequence[Tile],
    size: tuple[int, int],
    columns: int,
    board: Path,
    *,
    keyframe_starts: bool,
    font: str | None,
    poster: Path | None = None,
) -> list[str]:
    """FFmpeg arguments that write ``board`` (the tiles of ``group``, ``columns`` wide) and, when given,
    ``poster`` (the first tile's frame at the merge's own size, at most ``POSTER_MAX_WIDTH`` wide)."""
    args = ["-hide_banner", "-nostdin", "-v", "error", "-y"]
    # A clip's own file may hold only its first bytes (zeros after them): what FFmpeg reads ahead of the
    # first frame may not decode, which must not fail the run.
    if any(tile.file is not None for tile in group):
        args += ["-max_error_rate", "1"]
    for tile in group:
        if tile.file is not None:
            args += ["-analyzeduration", "0", "-probesize", "32"]
            args += [*PROTOCOLS, *DECODER, "-an", "-sn", "-dn", "-i", f"file:{tile.file}"]
            continue
        if keyframe_starts:
            into = min(KEYFRAME_SEEK_INTO, tile.length / 2)
            args += ["-noaccurate_seek", "-ss", f"{tile.start + into:.3f}"]
        elif tile.start > 0:
            args += ["-ss", f"{tile.start + min(ACCURATE_SEEK_INTO, tile.length / 2):.3f}"]
        # Our own MP4 states every stream's parameters in its index: no probing of packets needed.
        args += ["-analyzeduration", "0", "-probesize", "32"]
        args += [*PROTOCOLS, *DECODER, "-an", "-sn", "-dn", "-i", f"file:{merged}"]
    # Each input gives one frame; FFmpeg stops reading an input once its filters are done with it (the
    # split for the poster comes after the trim: before it, the first input was decoded to its end).
    graph = [f"[{p}:v]trim=end_frame=1,setpts=PTS-STARTPTS[f{p}]" for p in range(len(group))]
    if poster is not None:
        graph[0] = graph[0].removesuffix("[f0]") + ",split=2[f0][forposter]"
        graph.append(f"[forposter]scale='min({POSTER_MAX_WIDTH},iw)':-2,setsar=1[poster]")
    labels = []
    for position, tile in enumerate(group):
        label = f"t{position}"
        graph.append(_tile_chain(f"f{position}", tile, size, font, label))
        labels.append(label)
    # Every group's strip is ``columns`` tiles wide, full or not, so that strips stack.
    cell_w, cell_h = size[0] + 2 * BORDER, size[1] + 2 * BORDER
    full = f"pad={columns * cell_w}:{-(-len(group) // columns) * cell_h}:0:0:color={BACKGROUND}"
    if len(group) == 1:
        graph.append(f"[t0]{full}[board]")
    else:
        layout = "|".join(f"{(p % columns) * cell_w}_{(p // columns) * cell_h}" for p in range(len(group)))
        stacked = "".join(f"[{label}]" for label in labels)
        graph.append(f"{stacked}xstack=inputs={len(group)}:layout={layout}:fill={BACKGROUND},{full}[board]")
    args += ["-filter_complex", ";".join(graph)]
    if poster is not None:
        args += ["-map", "[poster]", "-frames:v", "1", "-c:v", "mjpeg", "-q:v", "3", "-f", "image2"]
        args.append(f"file:{poster}")
    codec = ["-c:v", "mjpeg", "-q:v", "4"] if board.suffix == ".jpg" else ["-c:v", "png"]
    args += ["-map", "[board]", "-frames:v", "1", *codec, "-f", "image2", f"file:{board}"]
    return args


def stack_command(strips: Sequence[Path], board: Path) -> list[str]:
    """FFmpeg arguments that put the groups' strips (equal widths) one under the other."""
    args = ["-hide_banner", "-nostdin", "-v", "error", "-y"]
    for strip in strips:
        args += [*PROTOCOLS, "-i", f"file:{strip}"]
    inputs = "".join(f"[{i}:v]" for i in range(len(strips)))
    args += ["-filter_complex", f"{inputs}vstack=inputs={len(strips)}[board]"]
    args += [
        "-map",
        "[board]",
        "-frames:v",
        "1",
        "-c:v",
        "mjpeg",
        "-q:v",
        "4",
        "-f",
        "image2",
        f"file:{board}",
    ]
    return args


def make_pictures(
    merged: Path,
    clip_seconds: Sequence[float],
    frame: tuple[int, int],
    work_dir: Path,
    *,
    keyframe_starts: bool,
    timeout: float = 120.0,
    clip_files: Sequence[Path] | None = None,
    memory: int | None = None,
) -> Pictures:
    """Writes the poster and the storyboard of ``merged`` into ``work_dir`` (WorkerError on failure);
    with ``clip_files`` each tile is its clip file's first frame instead (``merged`` is not read).
    ``memory``: the bytes one FFmpeg run may use, which bounds how many clips it reads at once."""
    if not clip_seconds:
        raise ValueError("a storyboard needs the clips' lengths")
    all_tiles = tiles(clip_seconds, clip_files)
    size, font = tile_size(*frame), font_file()
    columns = columns_for(len(all_tiles))
    poster, board = work_dir / POSTER_NAME, work_dir / STORYBOARD_NAME
    per_run = GROUP_SIZE
    if memory is not None:
        per_run = min(
            per_run, picture_inputs(frame[0] * frame[1], len(all_tiles), memory, keyframes=keyframe_starts)
        )
    groups = [all_tiles[i : i + per_run] for i in range(0, len(all_tiles), per_run)]
    strips = (
        [board] if len(groups) == 1 else [work_dir / f"storyboard-{i:03d}.png" for i in range(len(groups))]
    )
    try:
        for number, (group, strip) in enumerate(zip(groups, strips, strict=True)):
            args = group_command(
                merged,
                group,
                size,
                columns,
                strip,
                keyframe_starts=keyframe_starts,
                font=font,
                poster=poster if number == 0 else None,
            )
            run_ffmpeg(args, describe="the storyboard", timeout=timeout)
        if len(groups) > 1:
            run_ffmpeg(stack_command(strips, board), describe="the storyboard", timeout=timeout)
    finally:
        for strip in strips:
            if strip != board:
                strip.unlink(missing_ok=True)
    return Pictures(poster=poster, storyboard=board)


class PictureJob:
    """Makes the pictures in a thread (``make``) while the merge goes on or the merged file uploads.

    Pictures are a bonus: a failure to make or store them is logged on stderr and leaves the result
    without ``poster_url`` / ``storyboard_url``; it never fails the merge."""

    def __init__(self, make: Callable[[], Pictures], *, timeout: float = 120.0) -> None:
        self._pictures: Pictures | None = None
        self._error: BaseException | None = None
        self._timeout = timeout

        def run() -> None:
            try:
                self._pictures = make()
            except Exception as exc:  # reported by result()
                self._error = exc

        self._thread = threading.Thread(target=run, name="pictures", daemon=True)
        self._thread.start()

    def __enter__(self) -> "PictureJob":
        return self

    def __exit__(self, *_: object) -> None:
        self._thread.join(self._timeout)  # before the workspace that holds its files goes

    def result(self) -> Pictures | None:
        """The pictures once made; None (and a line on stderr saying why) when they could not be."""
        self._thread.join(self._timeout)
        if self._pictures is None:
            _skipped(self._error or TimeoutError("the pictures took too long"))
        return self._pictures

    def store(self, merged_key: str, settings: WorkerSettings) -> dict[str, str]:
        """``{"poster_url": …, "storyboard_url": …}`` once both are stored, else ``{}``."""
        pictures = self.result()
        if pictures is None:
            return {}
        try:
            keys = picture_keys(merged_key)
            client = s3_client(settings, settings.s3_endpoint_url)
            for path, key in zip((pictures.poster, pictures.storyboard), keys, strict=True):
                client.put_object(
                    Bucket=settings.s3_bucket, Key=key, Body=path.read_bytes(), ContentType="image/jpeg"
                )
            return picture_urls(merged_key, settings)
        except Exception as exc:
            _skipped(exc)
            return {}


def picture_urls(merged_key: str, settings: WorkerSettings) -> dict[str, str]:
    poster, storyboard = picture_keys(merged_key)
    return {"poster_url": result_url(poster, settings), "storyboard_url": result_url(storyboard, settings)}


def stored_picture_urls(merged_key: str, settings: WorkerSettings) -> dict[str, str]:
    """The pictures' URLs when an earlier attempt stored both (a retried merge that finishes without
    merging again), else ``{}``."""
    try:
        client = s3_client(settings, settings.s3_endpoint_url)
        for key in picture_keys(merged_key):
            client.head_object(Bucket=settings.s3_bucket, Key=key)
        return picture_urls(merged_key, settings)
    except Exception:
        return {}


def _skipped(error: BaseException) -> None:
    print(f"videomerge-worker: no poster or storyboard: {error}", file=sys.stderr, flush=True)
