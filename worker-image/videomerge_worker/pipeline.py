"""The merge itself: download and probe in parallel, plan, run FFmpeg, check the result."""

import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path

import ffmpeg

from videomerge_contract import ErrorReason, Stage, Strategy
from videomerge_worker.clip import clips_of
from videomerge_worker.direct import Acceptance, assemble_copy_merge
from videomerge_worker.errors import WorkerError
from videomerge_worker.fetch import ClipFetcher
from videomerge_worker.ffmpeg_run import run_ffmpeg
from videomerge_worker.outcome import MergeOutcome
from videomerge_worker.plan import CONCAT_LIST_NAME, OutputRequest, Plan, Step, decide, plan_merge
from videomerge_worker.probe import ClipInfo, ffprobe, ffprobe_error
from videomerge_worker.progress import ProgressSink, Throttle, overall_percent
from videomerge_worker.settings import WorkerSettings
from videomerge_worker.storyboard import PictureJob, make_pictures
from videomerge_worker.urlguard import RefusedUrlError, check_scheme

MERGED_NAME = "merged.mp4"
FOLLOW_MARGIN_SECONDS = 30.0


@contextmanager
def workspace(settings: WorkerSettings) -> Iterator[Path]:
    """A private scratch directory, removed with everything in it on success and on failure."""
    root = settings.scratch_root()
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="videomerge-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def merge_in(
    work_dir: Path,
    urls: Sequence[str],
    request: OutputRequest,
    settings: WorkerSettings,
    progress: ProgressSink,
    *,
    pictures: bool = False,
    backoff_seconds: float = 0.5,
) -> MergeOutcome:
    """Merges ``urls`` into ``work_dir / MERGED_NAME``; inputs are deleted once merged. The merge starts
    as soon as every clip is probed, which for index-first MP4/MOV clips is before they are all here.
    With ``pictures`` the outcome's poster and storyboard are in the making (in ``work_dir``) when it
    returns: made while an assembled merge downloaded, or from the merged file from now on."""
    if not urls:
        raise WorkerError(ErrorReason.INVALID_INPUT, "no clips to merge")
    for index, url in enumerate(urls):  # before any download: a bad URL fails the merge at once
        try:
            check_scheme(url)
        except RefusedUrlError as exc:
            raise WorkerError.for_clip(ErrorReason.INVALID_INPUT, index, url, str(exc)) from None
    output = work_dir / MERGED_NAME
    clips_in = clips_of(list(urls))
    if settings.assemble_copy_merges:
        assembled = assemble_copy_merge(
            work_dir,
            clips_in,
            _copy_merges_only(request, settings),
            settings,
            progress,
            output,
            pictures=pictures,
            backoff_seconds=backoff_seconds,
        )
        if assembled is not None:
            return _with_pictures(assembled, work_dir) if pictures else assembled
    with ClipFetcher(work_dir, clips_in, settings, progress, backoff_seconds=backoff_seconds) as fetcher:
        clips = fetcher.probed()
        fetcher.merging = True  # downloads still running no longer speak for the stage
        progress(Stage.PROBING, overall_percent(Stage.PROBING, 1), f"probed {len(clips)} clips")
        total = sum(c.duration for c in clips)
        if total > settings.max_total_duration_seconds:
            limit = settings.max_total_duration_seconds
            raise WorkerError(
                ErrorReason.INVALID_INPUT,
                f"the clips last {total:.0f} s together, more than the {limit:g} s limit",
            )
        # How long FFmpeg may wait at the end of a clip still downloading: as long as the downloader
        # itself would wait for bytes, over all its attempts, before giving up on the clip.
        follow = settings.download_read_timeout_seconds * settings.download_attempts + FOLLOW_MARGIN_SECONDS
        plan = plan_merge(clips, request, work_dir, output, follow_seconds=follow)
        early = sum(c.growing for c in clips)
        note = f", {early} still downloading" if early else ""
        progress(
            Stage.MERGING,
            overall_percent(Stage.MERGING, 0),
            f"{plan.strategy.value} merge of {len(clips)} clips{note}",
        )
        try:
            run_plan(plan, work_dir, urls, settings, progress, cancel=fetcher.failed)
        except WorkerError:
            if fetcher.failed.is_set():  # FFmpeg stopped because a clip it was reading failed
                raise fetcher.error() from None
            raise
        fetcher.downloaded()
    for clip in clips:
        clip.path.unlink(missing_ok=True)
    for part in plan.parts:
        part.unlink(missing_ok=True)
    described = describe_output(output, len(clips), plan.strategy)
    outcome = replace(described, clip_seconds=tuple(c.duration for c in clips))
    return _with_pictures(outcome, work_dir) if pictures else outcome


def _with_pictures(outcome: MergeOutcome, work_dir: Path) -> MergeOutcome:
    """The outcome with its pictures in the making: as they are, or from the merged file from now on."""
    if outcome.pictures is not None:
        return outcome
    job = PictureJob(
        partial(
            make_pictures,
            outcome.output,
            outcome.clip_seconds,
            (outcome.width, outcome.height),
            work_dir,
            # copy and partial merges keep each clip's first keyframe; a re-encode places its own
            keyframe_starts=outcome.strategy is not Strategy.REENCODE,
        )
    )
    return replace(outcome, pictures=job)


def _copy_merges_only(request: OutputRequest, settings: WorkerSettings) -> Acceptance:
    """The choice between the executors: the assembler takes a merge the planner would stream-copy,
    FFmpeg every other (and reports the limits, the same for every merge)."""

    def accept(clips: list[ClipInfo]) -> str | None:
        if sum(c.duration for c in clips) > settings.max_total_duration_seconds:
            return "over the duration limit"
        strategy = decide(clips, request).strategy
        return None if strategy is Strategy.COPY else f"a {strategy.value} merge"

    return accept


def run_plan(
    plan: Plan,
    work_dir: Path,
    urls: Sequence[str],
    settings: WorkerSettings,
    progress: ProgressSink,
    cancel: threading.Event | None = None,
) -> None:
    if plan.concat_list is not None:
        (work_dir / CONCAT_LIST_NAME).write_text(plan.concat_list)
    total_cost = sum(step.cost for step in plan.steps) or 1.0
    deadline = time.monotonic() + settings.ffmpeg_timeout_seconds
    throttle = Throttle(1.0)
    spent = 0.0
    for step in plan.steps:

        def on_seconds(seconds: float, before: float = spent, step: Step = step) -> None:
            if throttle.ready():
                share = (
                    before + step.cost * min(seconds / step.media_seconds, 1.0)
                    if step.media_seconds
                    else before
                )
                progress(Stage.MERGING, overall_percent(Stage.MERGING, share / total_cost), None)

        index = step.clip_index
        for args in (step.args, step.fallback_args):
            if args is None:
                continue
            try:
                run_ffmpeg(
                    args,
                    describe=step.description,
                    timeout=max(deadline - time.monotonic(), 1.0),
                    on_seconds=on_seconds,
                    clip_index=index,
                    clip_url=urls[index] if index is not None else None,
                    cancel=cancel,
                )
                break
            except WorkerError as exc:
                if (
                    exc.reason is not ErrorReason.FFMPEG_FAILED
                    or args is step.fallback_args
                    or not step.fallback_args
                ):
                    raise
        spent += step.cost


def describe_output(path: Path, clips: int, strategy: Strategy) -> MergeOutcome:
    """Reads back what FFmpeg wrote; anything but one video and one audio stream is a failed merge."""
    try:
        data = ffprobe(path)
    except ffmpeg.Error as exc:
        raise WorkerError(
            ErrorReason.FFMPEG_FAILED, f"the merged file is unreadable: {ffprobe_error(exc)}"
        ) from None
    streams = data.get("streams", [])
    videos = [s for s in streams if s.get("codec_type") == "video"]
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    if len(videos) != 1 or len(audios) != 1:
        raise WorkerError(
            ErrorReason.FFMPEG_FAILED,
            f"the merged file has {len(videos)} video and {len(audios)} audio streams instead of one each",
        )
    return MergeOutcome(
        output=path,
        duration_seconds=round(float(data.get("format", {}).get("duration", 0.0)), 3),
        clips_merged=clips,
        size_bytes=path.stat().st_size,
        width=int(videos[0]["width"]),
        height=int(videos[0]["height"]),
        strategy=strategy,
    )
