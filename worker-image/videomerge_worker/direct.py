"""The assembler: copy merges of MP4/MOV clips without FFmpeg, assembled while downloading.

From the clips' heads (``heads``: each index, wherever it lies) mp4concat computes the merged file's
index; each clip's media is then downloaded straight to its place behind it, every clip's first bytes
before the rest of any, so that the intake can probe them early. When the planner says copy, the merge
is done when the downloads are: the merge costs one download, and nothing is written twice. Otherwise
the pipeline abandons the assembly and FFmpeg merges the clips.
"""

import logging
import os
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, wait
from pathlib import Path

from videomerge_contract import ErrorReason, Stage, Strategy
from videomerge_worker.clip import Clip
from videomerge_worker.download import FileWindow, RangesIgnoredError
from videomerge_worker.errors import DownloadCancelledError
from videomerge_worker.heads import Head
from videomerge_worker.intake import EARLY_PROBE_SLACK_BYTES, Intake
from videomerge_worker.mp4concat import Layout, Piece, concat_layout
from videomerge_worker.mp4index import UnsupportedLayoutError
from videomerge_worker.outcome import MergeOutcome
from videomerge_worker.progress import ProgressSink, Throttle, overall_percent
from videomerge_worker.storyboard import PictureJob, make_pictures

log = logging.getLogger(__name__)
# What FFmpeg may read past a clip's first video sample before that frame comes out (B-frame reordering,
# its read-ahead): pictures start early only when a clip's probe copy holds this much after it.
PICTURE_READ_AHEAD_BYTES = 1024 * 1024


class Assembly:
    """One copy merge being assembled into ``output``: the merged index written, the media downloading
    into place (through the intake, so that a failure stops them all and names the first clip)."""

    def __init__(self, intake: Intake, heads: Sequence[Head], layout: Layout, output: Path) -> None:
        self.intake, self.heads, self.layout, self.output = intake, list(heads), layout, output
        self._fd: int | None = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.pwrite(self._fd, layout.header, 0)
        intake.transfers.restart_count()  # from here on it counts the media, not the indexes read before
        firsts, rests = [], []
        for piece in layout.pieces:
            split = piece.start + min(EARLY_PROBE_SLACK_BYTES, piece.end - piece.start)
            firsts.append(Piece(piece.clip, piece.start, split, piece.output_offset))
            if split < piece.end:
                rests.append(Piece(piece.clip, split, piece.end, piece.output_offset + split - piece.start))
        # every clip's first media bytes (what its probe needs) are asked for before the rest of any
        # clip, so that the probes can decide early even when there are more clips than download threads
        self._first_parts = [intake.submit(self._fetch, part) for part in firsts]
        self._downloads = [*self._first_parts, *(intake.submit(self._fetch, part) for part in rests)]

    @classmethod
    def start(cls, intake: Intake, output: Path) -> "Assembly | None":
        """Reads the clips' heads and, when their indexes join, starts the assembly and probes the clips
        from their heads while it downloads; None (every clip downloading whole) when it cannot be."""
        heads = intake.read_heads()
        if heads is None:
            return None
        try:
            layout = concat_layout(heads[0].ftyp, [h.source for h in heads])
        except UnsupportedLayoutError as why:
            log.info("merging with FFmpeg: %s", why)
            intake.download_whole()
            return None
        assembly = cls(intake, heads, layout, output)
        try:
            complete = intake.probe_heads(assembly.first_media)
        except BaseException:
            assembly.abandon()
            raise
        if not complete:
            assembly.abandon()
            intake.download_whole()
            return None
        return assembly

    def _fetch(self, part: Piece) -> None:
        if self.intake.failed.is_set() or self._fd is None:
            raise DownloadCancelledError
        window = FileWindow(self._fd, part.output_offset)
        clip = self.intake.clips[part.clip]
        try:
            self.intake.transfers.downloader.fetch_into(
                clip, window, start=part.start, length=part.end - part.start
            )
        except RangesIgnoredError:
            if part.start == self.layout.pieces[part.clip].start:
                raise  # its first bytes: the intake probes the clip from its whole file instead
            raise clip.error(
                ErrorReason.DOWNLOAD_FAILED, "the server stopped honouring byte ranges", permanent=False
            ) from None

    def first_media(self, clip: int) -> bytes:
        """The first bytes of a clip's media (enough to probe it), read back from the merged file once its
        download has put them there; raises that download's error if it failed."""
        self._first_parts[clip].result()
        piece = self.layout.pieces[clip]
        with self.output.open("rb") as merged:
            merged.seek(piece.output_offset)
            return merged.read(min(EARLY_PROBE_SLACK_BYTES, piece.end - piece.start))

    def abandon(self) -> None:
        """Stops the assembly's downloads and removes what it wrote (the pipeline merges with FFmpeg)."""
        self.intake.transfers.stop(self._downloads)
        self._close()
        self.output.unlink(missing_ok=True)

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def finish(
        self, clips: Sequence[Clip], progress: ProgressSink, *, pictures: bool, memory: int | None = None
    ) -> MergeOutcome:
        """Waits for every piece, reporting progress, and says what the merged file is. With ``pictures``
        the poster and storyboard are made from the clips' probe copies while the rest downloads, when
        every copy holds its clip's first frames (else the outcome's ``pictures`` is None: the caller
        makes them from the merged file); ``memory``: the bytes their FFmpeg may use. On a failure stops the
        rest and raises the first clip's error."""
        early = None
        if pictures and all(_first_frames_present(h) for h in self.heads):
            early = _pictures_from_probe_copies(self.heads, clips, self.intake.work_dir, memory)
        else:  # else its FFmpeg reads them; they go with the workspace
            for head in self.heads:
                head.probe_copy.unlink(missing_ok=True)
        what = f"copy merge of {len(clips)} clips, assembled while downloading"
        progress(Stage.MERGING, overall_percent(Stage.MERGING, 0), what)
        try:
            self._wait(progress)
        except BaseException:
            self.abandon()
            raise
        self._close()
        video = clips[0].info.video
        return MergeOutcome(
            output=self.output,
            duration_seconds=round(self.layout.duration_seconds, 3),
            clips_merged=len(clips),
            size_bytes=self.output.stat().st_size,
            width=video.width,
            height=video.height,
            strategy=Strategy.COPY,
            clip_seconds=tuple(c.info.duration for c in clips),
            pictures=early,
        )

    def _wait(self, progress: ProgressSink) -> None:
        total = max(sum(p.end - p.start for p in self.layout.pieces), 1)
        throttle = Throttle(1.0)
        transfers = self.intake.transfers
        while True:
            done, pending = wait(self._downloads, timeout=1.0, return_when=FIRST_EXCEPTION)
            if any(f.exception() is not None for f in done):
                raise transfers.first_error(self._downloads, "the assembly was interrupted")
            if not pending:
                return
            if throttle.ready():
                share = min(transfers.received / total, 1.0)
                progress(Stage.MERGING, overall_percent(Stage.MERGING, share), None)


def _first_frames_present(head: Head) -> bool:
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
    heads: Sequence[Head], clips: Sequence[Clip], work_dir: Path, memory: int | None
) -> PictureJob:
    files = [h.probe_copy for h in heads]
    seconds = [c.info.duration for c in clips]
    video = clips[0].info.video
    frame = (video.width, video.height)
    return PictureJob(
        lambda: make_pictures(
            files[0], seconds, frame, work_dir, keyframe_starts=True, clip_files=files, memory=memory
        )
    )
