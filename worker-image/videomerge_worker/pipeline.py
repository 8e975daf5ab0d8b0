"""The merge itself, from URLs to the merged file: the intake reads and probes every clip, ``plan_merge``
decides, the assembler or FFmpeg executes; the FFmpeg plan's run and the check of its result."""

import logging
import shutil
import sys
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
from videomerge_worker import resources
from videomerge_worker.clip import Clip, clips_of
from videomerge_worker.direct import Assembly
from videomerge_worker.errors import WorkerError
from videomerge_worker.ffmpeg_run import run_ffmpeg
from videomerge_worker.footprint import OverBudgetError, megabytes
from videomerge_worker.intake import Intake
from videomerge_worker.outcome import MergeOutcome
from videomerge_worker.plan import (
    CONCAT_LIST_NAME,
    ClipAction,
    OutputRequest,
    Plan,
    Step,
    decide,
    plan_merge,
)
from videomerge_worker.probe import PROBES, ffprobe, ffprobe_error, with_declared_refs
from videomerge_worker.progress import ProgressSink, Throttle, overall_percent
from videomerge_worker.settings import WorkerSettings
from videomerge_worker.storyboard import PictureJob, make_pictures
from videomerge_worker.urlguard import RefusedUrlError, check_scheme

log = logging.getLogger(__name__)
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
    """Merges ``urls`` into ``work_dir / MERGED_NAME``; inputs are deleted once merged. One way in for
    every clip (``intake``: heads, probes, downloads); ``plan_merge`` decides the strategy; the assembler
    executes the copy merges it has joined while downloading, FFmpeg every other, starting as soon as
    every clip is probed (for index-first MP4/MOV clips, before they are all here). With ``pictures``
    the outcome's poster and storyboard are in the making (in ``work_dir``) when it returns: made while
    an assembled merge downloaded, or from the merged file from now on."""
    if not urls:
        raise WorkerError(ErrorReason.INVALID_INPUT, "no clips to merge")
    resources.ffmpeg_base_soon()  # measured while the clips' heads arrive; the probes and plan need it
    PROBES.set_count(lambda: resources.current(settings.memory_budget_bytes, measured=False).probe_slots)
    clips_in = clips_of(list(urls))
    for clip in clips_in:  # before any download: a bad URL fails the merge at once
        try:
            check_scheme(clip.url)
        except RefusedUrlError as exc:
            raise clip.error(ErrorReason.INVALID_INPUT, str(exc)) from None
    output = work_dir / MERGED_NAME
    with Intake(work_dir, clips_in, settings, progress, backoff_seconds=backoff_seconds) as intake:
        assembly = Assembly.start(intake, output) if settings.assemble_copy_merges else None
        if assembly is None:
            intake.download_whole()  # (already, when the assembler could not start)
        try:
            clips = intake.probed()
            progress(Stage.PROBING, overall_percent(Stage.PROBING, 1), f"probed {len(clips)} clips")
            _check_total_duration(clips, settings)
            # How long FFmpeg may wait at the end of a clip still downloading: as long as the downloader
            # itself would wait for bytes, over all its attempts, before giving up on the clip.
            follow = (
                settings.download_read_timeout_seconds * settings.download_attempts + FOLLOW_MARGIN_SECONDS
            )
            plan, budget = _plan(clips, request, work_dir, output, follow, settings)
            if assembly is not None and plan.strategy is Strategy.COPY:
                memory = budget.ffmpeg_bytes
                outcome = assembly.finish(clips, progress, pictures=pictures, memory=memory)
                return _with_pictures(outcome, work_dir, memory) if pictures else outcome
            if assembly is not None:
                log.info("merging with FFmpeg: a %s merge", plan.strategy.value)
                assembly.abandon()
                intake.download_whole()
        except BaseException:
            if assembly is not None:
                assembly.abandon()
            raise
        _merge_with_ffmpeg(intake, clips, plan, work_dir, settings, progress)
    for clip in clips:
        clip.info.path.unlink(missing_ok=True)
    for part in plan.parts:
        part.unlink(missing_ok=True)
    described = describe_output(output, len(clips), plan.strategy)
    outcome = replace(described, clip_seconds=tuple(c.info.duration for c in clips))
    return _with_pictures(outcome, work_dir, budget.ffmpeg_bytes) if pictures else outcome


def _plan(
    clips: Sequence[Clip],
    request: OutputRequest,
    work_dir: Path,
    output: Path,
    follow_seconds: float,
    settings: WorkerSettings,
) -> tuple[Plan, resources.Resources]:
    """The plan, within the memory it may use now (measured precisely when FFmpeg is to encode)."""
    infos = [c.info for c in clips]
    decision = decide(infos, request)
    encodes = ClipAction.REENCODE in decision.actions
    budget = resources.current(settings.memory_budget_bytes, measured=encodes)
    infos = [  # what their decoders will hold, for the clips FFmpeg decodes
        with_declared_refs(info) if action is ClipAction.REENCODE else info
        for info, action in zip(infos, decision.actions, strict=True)
    ]
    try:
        plan = plan_merge(
            infos,
            request,
            work_dir,
            output,
            follow_seconds=follow_seconds,
            decision=decision,
            resources=budget,
        )
    except OverBudgetError as exc:
        raise clips[exc.clip_index].error(ErrorReason.UNSUPPORTED_MEDIA, exc.problem) from None
    if encodes:  # the memory x264 and its decoders were given, for the logs
        tuning = plan.target.tuning
        print(
            f"videomerge-worker: memory budget {megabytes(budget.budget_bytes)} (worker "
            f"{megabytes(budget.worker_bytes)}, FFmpeg's code {megabytes(budget.ffmpeg_base_bytes)}), "
            f"{budget.cpus} CPUs: {len(plan.steps)} FFmpeg runs, x264 {tuning.params()} "
            f"threads={tuning.threads}",
            file=sys.stderr,
            flush=True,
        )
    return plan, budget


def _check_total_duration(clips: Sequence[Clip], settings: WorkerSettings) -> None:
    total = sum(c.info.duration for c in clips)
    if total > settings.max_total_duration_seconds:
        limit = settings.max_total_duration_seconds
        raise WorkerError(
            ErrorReason.INVALID_INPUT,
            f"the clips last {total:.0f} s together, more than the {limit:g} s limit",
        )


def _merge_with_ffmpeg(
    intake: Intake,
    clips: Sequence[Clip],
    plan: Plan,
    work_dir: Path,
    settings: WorkerSettings,
    progress: ProgressSink,
) -> None:
    """The FFmpeg executor: runs the plan as soon as FFmpeg can read every clip (growing ones while
    they download), then waits for every download to end whole and checked."""
    intake.ready()
    intake.merging = True  # downloads still running no longer speak for the stage
    early = sum(c.info.growing for c in clips)
    note = f", {early} still downloading" if early else ""
    progress(
        Stage.MERGING,
        overall_percent(Stage.MERGING, 0),
        f"{plan.strategy.value} merge of {len(clips)} clips{note}",
    )
    try:
        run_plan(plan, work_dir, clips, settings, progress, cancel=intake.failed)
    except WorkerError:
        if intake.failed.is_set():  # FFmpeg stopped because a clip it was reading failed
            raise intake.error() from None
        raise
    intake.downloaded()


def _with_pictures(outcome: MergeOutcome, work_dir: Path, memory: int) -> MergeOutcome:
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
            memory=memory,
        )
    )
    return replace(outcome, pictures=job)


def run_plan(
    plan: Plan,
    work_dir: Path,
    clips: Sequence[Clip],
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

        clip = None if step.clip_index is None else clips[step.clip_index]
        for args in (step.args, step.fallback_args):
            if args is None:
                continue
            try:
                run_ffmpeg(
                    args,
                    describe=step.description,
                    timeout=max(deadline - time.monotonic(), 1.0),
                    on_seconds=on_seconds,
                    clip=clip,
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
