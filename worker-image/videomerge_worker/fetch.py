"""Clips on their way in: bounded parallel downloads, each probed as early as its layout allows.

An MP4/MOV whose index comes first is probed as soon as the index and its first media are on disk, and
is marked ``growing``: the merge starts while it is still downloading and FFmpeg follows the file as it
grows. Any other clip is probed once complete. A failed download sets ``failed``, which stops the other
downloads and any FFmpeg reading them; ``error()`` then names the first clip at fault.
"""

import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, wait
from pathlib import Path
from types import TracebackType

from videomerge_contract import ErrorReason, Stage
from videomerge_worker.clip import Clip
from videomerge_worker.errors import DownloadCancelledError
from videomerge_worker.isobmff import IndexWatch
from videomerge_worker.probe import ClipInfo, check_complete, probe_clip
from videomerge_worker.progress import ProgressSink, Throttle, overall_percent
from videomerge_worker.settings import WorkerSettings
from videomerge_worker.transfers import Transfers

MIB = 1024 * 1024
# Media bytes after the index before an index-first clip is probed: enough for its first key frame and
# first audio packets at any common bitrate, so that the early probe sees what the full one would.
EARLY_PROBE_SLACK_BYTES = 4 * MIB


class ClipFetcher:
    def __init__(
        self,
        work_dir: Path,
        clips: Sequence[Clip],
        settings: WorkerSettings,
        progress: ProgressSink,
        *,
        backoff_seconds: float = 0.5,
    ) -> None:
        self.clips = clips
        self.work_dir = work_dir
        self.progress = progress
        self.merging = False  # once the merge runs, download progress no longer speaks for the stage
        self._infos: list[Future[ClipInfo]] = [Future() for _ in clips]
        self._throttle = Throttle(1.0)
        self._completed = 0
        self._lock = threading.Lock()  # the count of completed clips and the throttle
        self._transfers = Transfers(
            settings, name="fetch", backoff_seconds=backoff_seconds, on_received=lambda _: self._report()
        )
        self.failed = self._transfers.stopped  # set: every download stops, and any FFmpeg reading one
        self._downloader = self._transfers.downloader
        progress(Stage.DOWNLOADING, 0, f"downloading {len(clips)} clips")
        self._downloads = [self._transfers.submit(self._fetch, clip) for clip in clips]

    def __enter__(self) -> "ClipFetcher":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._transfers.close()  # stops what still runs before the work dir goes away

    def probed(self) -> list[ClipInfo]:
        """Every clip's probe, in order, as soon as all are known (some may still be downloading)."""
        wait(self._infos, return_when=FIRST_EXCEPTION)
        if any(f.done() and f.exception() is not None for f in self._infos):
            raise self.error()
        return [f.result() for f in self._infos]

    def downloaded(self) -> None:
        """Waits for every download to finish whole (and checked); raises the first clip's failure."""
        wait(self._downloads, return_when=FIRST_EXCEPTION)
        if any(f.done() and f.exception() is not None for f in self._downloads):
            raise self.error()

    def error(self) -> BaseException:
        """The failure to report: the lowest clip's, once the other downloads have stopped."""
        return self._transfers.first_error(self._downloads, "downloads were cancelled")

    def _fetch(self, clip: Clip) -> None:
        index, url = clip.index, clip.url
        path = self.work_dir / f"clip-{index:03d}.src"
        info = self._infos[index]
        watch = IndexWatch(path, EARLY_PROBE_SLACK_BYTES)
        longest = [0]

        def on_written(length: int) -> None:
            if info.done() and length < longest[0]:
                # the server could not resume: the bytes FFmpeg may already have read would change
                raise clip.error(ErrorReason.DOWNLOAD_FAILED, "the download restarted from the beginning")
            longest[0] = max(longest[0], length)
            if not info.done() and watch.ready(length):
                early = probe_clip(path, index, url, growing=True)
                if early.video.pix_fmt is None or early.video.profile is None:
                    watch.hopeless = True  # the first packets did not tell everything: probe it whole
                else:
                    info.set_result(early)

        try:
            self._downloader.fetch(index, url, path, on_written)
            probed = None if info.done() else probe_clip(path, index, url)
            if probed is None:
                check_complete(path, index, url)
            with self._lock:
                self._completed += 1
            self._report(force=True)
            if probed is not None:  # after the report: once every clip is probed, the merge speaks
                info.set_result(probed)
        except BaseException as exc:
            if not isinstance(exc, DownloadCancelledError):
                self.failed.set()
            if not info.done():
                info.set_exception(exc)
            raise

    def _report(self, *, force: bool = False) -> None:
        with self._lock:
            if self.merging or not self._throttle.ready(force=force):
                return
            done, total = self._completed, len(self.clips)
        message = f"downloaded {done}/{total} clips, {self._transfers.received / MIB:.0f} MiB"
        self.progress(Stage.DOWNLOADING, overall_percent(Stage.DOWNLOADING, done / total), message)
