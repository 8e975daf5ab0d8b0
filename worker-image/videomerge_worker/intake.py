"""Every clip's way in, for both executors: its head, its probe, and (the FFmpeg way) its whole file.

Heads are read by byte ranges (``heads``). While the assembler downloads the media straight into the
merged file, each clip is probed from its head's sparse copy and its first media bytes. A clip without
such a head, or whose first bytes do not tell everything, is downloaded whole and probed from its file:
an MP4/MOV whose index comes first as soon as the index and its first media are on disk (``growing``:
FFmpeg then reads it while it downloads), any other clip once complete. A merge the assembler does not
take downloads every clip whole, resuming after the bytes its head read fetched, and keeps every probe
already made. A failed download sets ``failed``, which stops the other downloads and any FFmpeg reading
them; ``error()`` then names the first clip at fault.
"""

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from videomerge_contract import ErrorReason, Stage
from videomerge_worker.clip import Clip
from videomerge_worker.download import RangesIgnoredError
from videomerge_worker.errors import DownloadCancelledError, WorkerError, first_clip_error
from videomerge_worker.heads import Head, NoHeadError, read_head
from videomerge_worker.isobmff import IndexWatch
from videomerge_worker.mp4index import IndexBudget
from videomerge_worker.probe import ClipInfo, check_complete, probe_clip
from videomerge_worker.progress import ProgressSink, Throttle, overall_percent
from videomerge_worker.settings import WorkerSettings
from videomerge_worker.transfers import Transfers

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
MIB = 1024 * 1024
# Media bytes after the index before a clip is probed: enough for its first key frame and first audio
# packets at any common bitrate, so that the early probe sees what the full one would.
EARLY_PROBE_SLACK_BYTES = 4 * MIB


class Intake:
    def __init__(
        self,
        work_dir: Path,
        clips: Sequence[Clip],
        settings: WorkerSettings,
        progress: ProgressSink,
        *,
        backoff_seconds: float = 0.5,
    ) -> None:
        self.work_dir, self.clips, self.progress = work_dir, list(clips), progress
        self.merging = False  # once the merge runs, download progress no longer speaks for the stage
        self.transfers = Transfers(
            settings, name="intake", backoff_seconds=backoff_seconds, on_received=lambda _: self._report()
        )
        self.failed = self.transfers.stopped  # set: every download stops, and any FFmpeg reading one
        self._probe_pool = ThreadPoolExecutor(settings.download_concurrency, thread_name_prefix="probe")
        self._probes: list[Future[ClipInfo]] = [Future() for _ in clips]
        self._ready: list[Future[None]] = [Future() for _ in clips]  # its file can be read by FFmpeg
        self._prefixes: list[tuple[bytes, int | None]] = [(b"", None)] * len(clips)  # bytes read, size
        self._tasks: list[Future[Any]] = []  # every download submitted: heads, pieces, whole clips
        self._whole: list[Future[None]] = []
        self._heads: list[Head] = []
        self._throttle = Throttle(1.0)
        self._completed = 0
        self._lock = threading.Lock()  # the task lists, the count of completed clips and the throttle

    def __enter__(self) -> "Intake":
        return self

    def __exit__(self, *exc: object) -> None:
        self.transfers.stopped.set()
        self._probe_pool.shutdown(wait=True, cancel_futures=True)
        self.transfers.close()  # stops what still runs before the work dir goes away

    def submit(self, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> "Future[R]":
        """A download of this merge (an executor's too): it stops with the others, its error counts."""
        future = self.transfers.submit(function, *args, **kwargs)
        with self._lock:
            self._tasks.append(future)
        return future

    def read_heads(self) -> list[Head] | None:
        """Every clip's head, by byte ranges; None when some clip has none (then every clip is being
        downloaded whole). A clip that cannot be downloaded raises its WorkerError."""
        self.progress(Stage.DOWNLOADING, 0, f"reading the indexes of {len(self.clips)} clips")
        budget = IndexBudget()
        futures = [self.submit(self._read_head, clip, budget) for clip in self.clips]
        wait(futures, return_when=FIRST_EXCEPTION)
        if any(f.done() and f.exception() is not None for f in futures):
            raise self.error()
        results = [f.result() for f in futures]
        heads = [r for r in results if isinstance(r, Head)]
        if len(heads) == len(results):
            self._heads = heads
            return heads
        log.info("merging with FFmpeg: %s", next(r for r in results if isinstance(r, NoHeadError)))
        self.download_whole()
        return None

    def _read_head(self, clip: Clip, budget: IndexBudget) -> Head | NoHeadError:
        try:
            head = read_head(self.transfers.downloader, self.work_dir, budget, clip)
        except NoHeadError as why:
            self._prefixes[clip.index] = (why.prefix, why.size)
            return why
        self._prefixes[clip.index] = (head.prefix, head.size)
        return head

    def probe_heads(self, first_media: Callable[[int], bytes]) -> bool:
        """Probes every clip from its head's copy and ``first_media(index)`` (its first media bytes, which
        may still be on their way); whether every probe told everything the planner needs. A clip whose
        probe did not is probed again from its whole file (``download_whole``)."""
        futures = [self._probe_pool.submit(self._probe_head, c, h, first_media) for c, h in self._pairs()]
        wait(futures, return_when=FIRST_EXCEPTION)
        if any(f.done() and f.exception() is not None for f in futures):
            raise self._first_error(futures)
        for clip, info in zip(self.clips, (f.result() for f in futures), strict=True):
            if info is not None:
                self._probes[clip.index].set_result(info)
        return all(f.result() is not None for f in futures)

    def _pairs(self) -> list[tuple[Clip, Head]]:
        return list(zip(self.clips, self._heads, strict=True))

    def _probe_head(self, clip: Clip, head: Head, first_media: Callable[[int], bytes]) -> ClipInfo | None:
        try:
            media = first_media(clip.index)
        except RangesIgnoredError:
            log.info("clip %d: the server stopped honouring byte ranges", clip.number)
            return None
        with head.probe_copy.open("r+b") as sparse:
            sparse.seek(head.source.payload_start)
            sparse.write(media)
        try:
            info = probe_clip(clip, head.probe_copy, growing=True)
        except WorkerError as error:
            if error.reason is not ErrorReason.UNSUPPORTED_MEDIA:
                raise
            log.info("clip %d is probed again from its whole file: %s", clip.number, error.message)
            return None  # from its index and first bytes only: the whole file may read better
        if info.video.pix_fmt is None or info.video.profile is None:
            log.info("clip %d's first media bytes did not tell everything", clip.number)
            return None
        # what the FFmpeg way reads, should it come to that: the whole file, while it grows if it can
        return replace(info, path=self._whole_path(clip), growing=head.index_first)

    def download_whole(self) -> None:
        """From here on every clip is downloaded whole (once), each resuming after what its head read
        fetched; a clip without a probe yet is probed from its file. The heads' copies are dropped."""
        with self._lock:
            if self._whole:
                return
            self.transfers.stopped.clear()  # an assembly abandoned stopped its own downloads, nothing failed
            self.transfers.restart_count()
            self._whole = [self.transfers.submit(self._download, clip) for clip in self.clips]
            self._tasks.extend(self._whole)
        for head in self._heads:
            head.probe_copy.unlink(missing_ok=True)
        self.progress(Stage.DOWNLOADING, 0, f"downloading {len(self.clips)} clips")

    def probed(self) -> list[Clip]:
        """Every clip with its probe, in order, as soon as all are known (some may still be downloading)."""
        return [
            clip.with_probe(info) for clip, info in zip(self.clips, self._wait(self._probes), strict=True)
        ]

    def ready(self) -> None:
        """Waits until FFmpeg can read every clip: complete, or growing with its index and first media
        on disk; raises the first clip's failure."""
        self._wait(self._ready)

    def downloaded(self) -> None:
        """Waits for every whole download to finish (and be checked); raises the first clip's failure."""
        self._wait(self._whole)

    def error(self) -> BaseException:
        """The failure to report: the lowest clip's, once the other downloads have stopped."""
        return self._first_error([])

    def _first_error(self, more: Sequence["Future[Any]"]) -> BaseException:
        with self._lock:
            tasks = list(self._tasks)
        self.transfers.stop(tasks)
        every: list[Future[Any]] = [*tasks, *more, *self._probes]
        return first_clip_error(every, "downloads were cancelled")

    def _wait(self, futures: "Sequence[Future[R]]") -> list[R]:
        wait(futures, return_when=FIRST_EXCEPTION)
        if any(f.done() and f.exception() is not None for f in futures):
            raise self.error()
        return [f.result() for f in futures]

    def _whole_path(self, clip: Clip) -> Path:
        return self.work_dir / f"clip-{clip.index:03d}.src"

    def _download(self, clip: Clip) -> None:
        if self.failed.is_set():
            raise DownloadCancelledError
        path = self._whole_path(clip)
        probe, ready = self._probes[clip.index], self._ready[clip.index]
        watch = IndexWatch(path, EARLY_PROBE_SLACK_BYTES)
        longest = [0]

        def on_written(length: int) -> None:
            if ready.done() and length < longest[0]:
                # the server could not resume: the bytes FFmpeg may already have read would change
                raise clip.error(ErrorReason.DOWNLOAD_FAILED, "the download restarted from the beginning")
            longest[0] = max(longest[0], length)
            if not ready.done() and watch.ready(length):
                if not probe.done():
                    early = probe_clip(clip, path, growing=True)
                    if early.video.pix_fmt is None or early.video.profile is None:
                        watch.hopeless = True  # the first packets did not tell everything: probe it whole
                        return
                    probe.set_result(early)
                ready.set_result(None)

        try:
            self._fetch(clip, path, on_written)
            probed = None if probe.done() else probe_clip(clip, path)
            if probed is None:
                check_complete(clip, path)
            with self._lock:
                self._completed += 1
            self._report(force=True)
            if probed is not None:  # after the report: once every clip is probed, the merge speaks
                probe.set_result(probed)
            if not ready.done():
                ready.set_result(None)
        except BaseException as exc:
            if not isinstance(exc, DownloadCancelledError):
                self.failed.set()
            for future in (probe, ready):
                if not future.done():
                    future.set_exception(exc)
            raise

    def _fetch(self, clip: Clip, path: Path, on_written: Callable[[int], None]) -> None:
        prefix, size = self._prefixes[clip.index]
        with path.open("wb", buffering=0) as out:
            if prefix:
                out.write(prefix)
                on_written(len(prefix))
                if size is not None and len(prefix) >= size:
                    return  # the head read fetched all of it
            self.transfers.downloader.fetch_into(clip, out, on_written=on_written)

    def _report(self, *, force: bool = False) -> None:
        if not self._whole or self.merging:  # cheap: called after every read of every download
            return
        with self._lock:
            if not self._whole or self.merging or not self._throttle.ready(force=force):
                return
            done, total = self._completed, len(self.clips)
        message = f"downloaded {done}/{total} clips, {self.transfers.received / MIB:.0f} MiB"
        self.progress(Stage.DOWNLOADING, overall_percent(Stage.DOWNLOADING, done / total), message)
