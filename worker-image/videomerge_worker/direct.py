"""Copy merges assembled while downloading, without FFmpeg.

Each clip's index is fetched first, by byte ranges (wherever it lies, first or last), and probed from a
sparse local copy holding the index and the first media bytes. When the planner would stream-copy every
clip and mp4concat can join their indexes, each clip's media is downloaded straight to its place in the
merged file: the merge costs one download, and nothing is written twice. Otherwise ``None``, and the
merge goes the FFmpeg way; so does any clip whose server ignores byte ranges or that is not MP4/MOV.
"""

import io
import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from videomerge_contract import ErrorReason, Stage, Strategy
from videomerge_worker.clip import Clip
from videomerge_worker.download import Downloader, FileWindow, RangesIgnoredError
from videomerge_worker.errors import DownloadCancelledError, WorkerError
from videomerge_worker.fetch import EARLY_PROBE_SLACK_BYTES
from videomerge_worker.isobmff import FRAGMENT_TYPES, TOP_LEVEL_TYPES, Box, walk
from videomerge_worker.mp4concat import ClipSource, Layout, Piece, concat_layout
from videomerge_worker.mp4index import PARSE_ERRORS, IndexBudget, UnsupportedLayoutError, read_moov
from videomerge_worker.outcome import MergeOutcome
from videomerge_worker.probe import ClipInfo, probe_clip
from videomerge_worker.progress import ProgressSink, Throttle, overall_percent
from videomerge_worker.settings import WorkerSettings
from videomerge_worker.storyboard import PictureJob, make_pictures
from videomerge_worker.transfers import Transfers

log = logging.getLogger(__name__)
HEAD_BYTES = 16 * 1024
TAIL_BYTES = 1024 * 1024
# An index larger than this goes the FFmpeg way: it would be held in memory, and so would its tables.
MAX_INDEX_BYTES = 24 * 1024 * 1024
MAX_TOP_LEVEL_BOXES = 32
# What FFmpeg may read past a clip's first video sample before that frame comes out (B-frame reordering,
# its read-ahead): pictures start early only when a clip's probe copy holds this much after it.
PICTURE_READ_AHEAD_BYTES = 1024 * 1024


class _DeclinedError(Exception):
    """This merge is not one for the assembler; FFmpeg will do it."""


@dataclass(frozen=True)
class _Head:
    """What a clip's byte ranges told before its media: its index, and where its probe copy is."""

    ftyp: bytes
    source: ClipSource
    probe_copy: Path


# What the clips' probes say about assembling them: None to go on, or why not (the FFmpeg way then).
Acceptance = Callable[[list[ClipInfo]], str | None]


def assemble_copy_merge(
    work_dir: Path,
    clips: Sequence[Clip],
    accept: Acceptance,
    settings: WorkerSettings,
    progress: ProgressSink,
    output: Path,
    *,
    pictures: bool = False,
    backoff_seconds: float = 0.5,
) -> MergeOutcome | None:
    """Writes the merged file to ``output`` and says what it is, or returns None having left nothing
    behind (the caller merges with FFmpeg). A clip that cannot be downloaded raises WorkerError naming it.

    The clips are probed while their media already downloads into place: only a merge the planner would
    not stream-copy wastes those bytes, and it stops them as soon as the probes say so. With ``pictures``,
    the poster and storyboard are made from the clips' probe copies while the rest downloads, when every
    copy holds its clip's first frames (the outcome's ``pictures``; else the caller makes them)."""
    budget = IndexBudget()
    early: PictureJob | None = None
    with _Assembly(settings, backoff_seconds) as assembly:
        progress(Stage.DOWNLOADING, 0, f"reading the indexes of {len(clips)} clips")
        try:
            try:
                heads = list(
                    assembly.transfers.map(
                        lambda clip: _read_head(assembly.downloader, work_dir, budget, clip),
                        clips,
                    )
                )
                layout = concat_layout(heads[0].ftyp, [h.source for h in heads])
                with _Output(output) as merged:
                    merged.write(layout.header)
                    downloads = assembly.start_downloads(merged.fd, clips, layout)
                    try:
                        infos = list(
                            assembly.probes.map(
                                lambda i: _probe(clips[i], heads[i], assembly.first_media(output, layout, i)),
                                range(len(clips)),
                            )
                        )
                        if (why_not := accept(infos)) is not None:
                            raise _DeclinedError(why_not)
                    except BaseException:
                        assembly.stop(downloads)
                        raise
                    progress(Stage.PROBING, overall_percent(Stage.PROBING, 1), f"probed {len(clips)} clips")
                    if pictures and all(_first_frames_present(h) for h in heads):
                        early = _pictures_from_probe_copies(heads, infos, work_dir)
                    what = f"copy merge of {len(clips)} clips, assembled while downloading"
                    progress(Stage.MERGING, overall_percent(Stage.MERGING, 0), what)
                    assembly.finish(downloads, sum(p.end - p.start for p in layout.pieces), progress)
                    merged.keep = True
            finally:
                if early is None:  # else its FFmpeg reads them; they go with the workspace
                    _remove_heads(work_dir, len(clips))
        except (_DeclinedError, UnsupportedLayoutError, RangesIgnoredError) as why:
            log.info("merging with FFmpeg: %s", why)
            return None
        except WorkerError as error:
            # A clip that cannot be downloaded fails the merge here as it would the FFmpeg way; one that
            # probes badly from its index and first bytes, or is empty (416), is left to the full probe.
            if error.reason is not ErrorReason.UNSUPPORTED_MEDIA and "HTTP 416" not in error.message:
                raise
            log.info("merging with FFmpeg: %s", error.message)
            return None
    video = infos[0].video
    return MergeOutcome(
        output=output,
        duration_seconds=round(layout.duration_seconds, 3),
        clips_merged=len(clips),
        size_bytes=output.stat().st_size,
        width=video.width,
        height=video.height,
        strategy=Strategy.COPY,
        clip_seconds=tuple(i.duration for i in infos),
        pictures=early,
    )


class _Output:
    """The merged file, removed again unless ``keep`` is set by the time the block ends."""

    def __init__(self, path: Path) -> None:
        self.path, self.keep = path, False
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)

    def write(self, data: bytes) -> None:
        os.pwrite(self.fd, data, 0)

    def __enter__(self) -> "_Output":
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)
        if not self.keep:
            self.path.unlink(missing_ok=True)


class _Assembly:
    """The assembly's downloads (one Transfers, shared "stop") and the pool its probes run in."""

    def __init__(self, settings: WorkerSettings, backoff_seconds: float) -> None:
        self.transfers = Transfers(settings, name="assemble", backoff_seconds=backoff_seconds)
        self.downloader = self.transfers.downloader
        self.first_parts: list[Future[None]] = []  # by clip: the download of its first media bytes
        self.probes = ThreadPoolExecutor(settings.download_concurrency, thread_name_prefix="probe")

    def __enter__(self) -> "_Assembly":
        return self

    def __exit__(self, *exc: object) -> None:
        self.transfers.stopped.set()
        self.probes.shutdown(wait=True, cancel_futures=True)
        self.transfers.close()

    def start_downloads(self, fd: int, clips: Sequence[Clip], layout: Layout) -> list[Future[None]]:
        """Every clip's first media bytes (what its probe needs) are asked for before the rest of any
        clip, so that the probes can decide early even when there are more clips than download threads."""
        self.transfers.restart_count()  # from here on it counts the media only, not the indexes read before
        firsts, rests = [], []
        for piece in layout.pieces:
            split = piece.start + min(EARLY_PROBE_SLACK_BYTES, piece.end - piece.start)
            firsts.append(Piece(piece.clip, piece.start, split, piece.output_offset))
            if split < piece.end:
                rests.append(Piece(piece.clip, split, piece.end, piece.output_offset + split - piece.start))
        self.first_parts = [self.transfers.submit(self._fetch, fd, clips, part) for part in firsts]
        return [*self.first_parts, *(self.transfers.submit(self._fetch, fd, clips, part) for part in rests)]

    def _fetch(self, fd: int, clips: Sequence[Clip], part: Piece) -> None:
        if self.transfers.stopped.is_set():
            raise DownloadCancelledError
        window = FileWindow(fd, part.output_offset)
        self.downloader.fetch_into(
            part.clip, clips[part.clip].url, window, start=part.start, length=part.end - part.start
        )

    def first_media(self, output: Path, layout: Layout, clip: int) -> bytes:
        """The first bytes of a clip's media (enough to probe it), read back from the merged file once its
        download has put them there; raises that download's error if it failed."""
        self.first_parts[clip].result()
        piece = layout.pieces[clip]
        with output.open("rb") as merged:
            merged.seek(piece.output_offset)
            return merged.read(min(EARLY_PROBE_SLACK_BYTES, piece.end - piece.start))

    def stop(self, downloads: list[Future[None]]) -> None:
        self.transfers.stop(downloads)

    def finish(self, downloads: list[Future[None]], total: int, progress: ProgressSink) -> None:
        """Waits for every piece, reporting progress; on a failure stops the rest and raises the first
        clip's error."""
        throttle = Throttle(1.0)
        while True:
            done, pending = wait(downloads, timeout=1.0, return_when=FIRST_EXCEPTION)
            if any(f.exception() is not None for f in done):
                raise self.transfers.first_error(downloads, "the assembly was interrupted")
            if not pending:
                return
            if throttle.ready():
                progress(
                    Stage.MERGING,
                    overall_percent(Stage.MERGING, min(self.transfers.received / max(total, 1), 1.0)),
                    None,
                )


def _first_frames_present(head: _Head) -> bool:
    """Whether the clip's probe copy holds its first video sample and what FFmpeg reads ahead of it."""
    source = head.source
    present_until = source.payload_start + min(EARLY_PROBE_SLACK_BYTES, source.payload_bytes)
    if present_until >= source.payload_end:
        return True
    video = next((t for t in source.index.tracks if t.handler == b"vide"), None)
    if video is None or not len(video.chunk_offsets) or not len(video.sizes):
        return False
    first_end = video.chunk_offsets[0] + video.sizes[0]
    return first_end + PICTURE_READ_AHEAD_BYTES <= present_until


def _pictures_from_probe_copies(
    heads: Sequence[_Head], infos: Sequence[ClipInfo], work_dir: Path
) -> PictureJob:
    files = [h.probe_copy for h in heads]
    seconds = [i.duration for i in infos]
    frame = (infos[0].video.width, infos[0].video.height)
    return PictureJob(
        lambda: make_pictures(files[0], seconds, frame, work_dir, keyframe_starts=True, clip_files=files)
    )


def _remove_heads(work_dir: Path, count: int) -> None:
    for i in range(count):
        _probe_path(work_dir, i).unlink(missing_ok=True)


def _probe_path(work_dir: Path, index: int) -> Path:
    return work_dir / f"clip-{index:03d}.index"


def _range(downloader: Downloader, clip: Clip, start: int, length: int) -> bytes:
    buffer = io.BytesIO()
    downloader.fetch_into(clip.index, clip.url, buffer, start=start, length=length)
    return buffer.getvalue()


def _read_head(downloader: Downloader, work_dir: Path, budget: IndexBudget, clip: Clip) -> _Head:
    """The clip's top-level layout and index, by byte ranges, in a sparse local copy that has them at
    their offsets (the probe adds the first media bytes). Bytes that do not parse decline the merge."""
    try:
        return _read_layout(downloader, work_dir, budget, clip)
    except (*PARSE_ERRORS, UnsupportedLayoutError) as why:
        raise _DeclinedError(f"clip {clip.number}: {why}") from None


def _read_layout(downloader: Downloader, work_dir: Path, budget: IndexBudget, clip: Clip) -> _Head:
    head = _range(downloader, clip, 0, HEAD_BYTES)
    size = downloader.total_sizes.get(clip.url)
    if size is None:
        raise _DeclinedError(f"clip {clip.number}: no size in the range answer")
    if size > downloader.settings.max_clip_bytes:
        raise _DeclinedError(f"clip {clip.number} is over the size limit")  # the FFmpeg way reports it

    fetched = [(0, head)]

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
            raise _DeclinedError(f"clip {clip.number} is truncated")
        if (
            found.type in boxes and found.type in (b"moov", b"mdat", b"ftyp")
        ) or found.type in FRAGMENT_TYPES:
            raise _DeclinedError(f"clip {clip.number} has a layout the assembler does not join")
        boxes.setdefault(found.type, found)
    if not {b"ftyp", b"moov", b"mdat"} <= boxes.keys():
        raise _DeclinedError(f"clip {clip.number} lacks an index, a media box or a file type")
    ftyp, moov_box, mdat = boxes[b"ftyp"], boxes[b"moov"], boxes[b"mdat"]
    if moov_box.size > MAX_INDEX_BYTES or ftyp.size > HEAD_BYTES:
        raise _DeclinedError(f"clip {clip.number}'s index is too large")
    budget.take(index_bytes=moov_box.size)
    ftyp_bytes = read(ftyp.start, ftyp.size)
    moov = read(moov_box.start, moov_box.size)
    source = ClipSource(
        read_moov(moov, media_bytes=mdat.end - mdat.payload, budget=budget), mdat.payload, mdat.end
    )
    path = _probe_path(work_dir, clip.index)
    with path.open("wb") as sparse:
        sparse.truncate(size)
        for at, data in ((0, head), (moov_box.start, moov)):
            sparse.seek(at)
            sparse.write(data)
    return _Head(ftyp_bytes, source, path)


def _probe(clip: Clip, head: _Head, media: bytes) -> ClipInfo:
    """Probes the clip from its sparse copy: header and index where they lie, its first media bytes."""
    with head.probe_copy.open("r+b") as sparse:
        sparse.seek(head.source.payload_start)
        sparse.write(media)
    info = probe_clip(head.probe_copy, clip.index, clip.url, growing=True)
    if info.video.pix_fmt is None or info.video.profile is None:
        raise _DeclinedError(f"clip {clip.number}'s first media bytes did not tell everything")
    return info
