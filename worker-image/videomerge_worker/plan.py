"""The merge plan: a pure function from probed clips and the request to a strategy and FFmpeg steps.

- copy: every clip already has the output's parameters (H.264 yuv420p at the output size, square pixels,
  upright, constant frame rate, same profile, frame rate and time base, AAC audio of one layout whose
  length matches the video) → one stream-copy concat, nothing decoded.
- partial: clips holding at least half of the total duration match → only the others are re-encoded (or,
  when just their audio differs, get new audio beside their copied video), then one stream-copy concat.
- reencode: otherwise every clip goes through one filter graph and is encoded once (48 kHz stereo AAC,
  the highest clip frame rate up to 60). Past ``max_graph_inputs`` clips, each is normalized on its own
  and the parts are concatenated, so FFmpeg never holds hundreds of decoders at once.
"""

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from fractions import Fraction
from pathlib import Path

from videomerge_contract import AspectRatio, Fit, Quality, Strategy
from videomerge_worker import ffmpeg_args
from videomerge_worker.ffmpeg_args import CHANNEL_LAYOUTS, ENCODINGS, Target
from videomerge_worker.footprint import (
    OverBudgetError,
    best_tuning,
    decoder_bytes,
    inputs_that_fit,
    megabytes,
    run_bytes,
    tunings,
)
from videomerge_worker.geometry import Size, canvas_size, output_frame_rate, track_timescale
from videomerge_worker.probe import ClipInfo, VideoInfo
from videomerge_worker.resources import Resources

# Audio may end this much before or after the video and still be stream-copied (about 4 AAC frames).
AUDIO_LENGTH_SLACK_SECONDS = 0.1
# Share of the total duration that must already match for a partial merge rather than a full re-encode.
PARTIAL_MIN_MATCHING_SHARE = 0.5
MAX_GRAPH_INPUTS = 16
REENCODE_SAMPLE_RATE = 48000
REENCODE_CHANNELS = 2
# Relative cost per second of media, for one progress figure across steps.
COST_ENCODE, COST_AUDIO, COST_COPY = 1.0, 0.05, 0.02
X264_PROFILES = {"High": "high", "Main": "main", "Constrained Baseline": "baseline", "Baseline": "baseline"}
CONCAT_LIST_NAME = "parts.ffconcat"
# Index (moov) bytes per sample at worst: size, composition offset, sync flag, duration, chunk offset.
MOOV_BYTES_PER_VIDEO_SAMPLE, MOOV_BYTES_PER_AUDIO_SAMPLE, MOOV_FIXED_BYTES = 32, 20, 64 * 1024


class ClipAction(StrEnum):
    COPY = "copy"  # used as it is
    AUDIO = "audio"  # video stream-copied, audio converted or silence added
    REENCODE = "reencode"


@dataclass(frozen=True)
class OutputRequest:
    quality: Quality = Quality.HIGH
    aspect_ratio: AspectRatio = AspectRatio.R16_9
    fit: Fit = Fit.PAD


@dataclass(frozen=True)
class Step:
    description: str
    args: list[str]  # after the ffmpeg executable
    media_seconds: float  # output length of the step: its progress denominator
    cost: float  # relative weight of the step in the overall progress
    clip_index: int | None = None  # the one clip the step reads, when it reads one
    fallback_args: list[str] | None = None  # what to run instead if ``args`` fails


@dataclass(frozen=True)
class Plan:
    strategy: Strategy
    target: Target
    actions: tuple[ClipAction, ...]
    steps: tuple[Step, ...]
    concat_list: str | None  # text of the concat script to write to work_dir / CONCAT_LIST_NAME
    duration: float
    parts: tuple[Path, ...]  # intermediate files the steps write (besides the output)


@dataclass(frozen=True)
class Decision:
    """How the clips are merged: the strategy, what happens to each clip, what they become."""

    strategy: Strategy
    target: Target
    actions: tuple[ClipAction, ...]


def decide(clips: Sequence[ClipInfo], request: OutputRequest) -> Decision:
    """The strategy and per-clip actions (pure; no paths involved): what chooses between the
    executors, the assembler (copy merges of MP4/MOV clips) and FFmpeg (every merge)."""
    if not clips:
        raise ValueError("nothing to merge")
    size = canvas_size([c.video.display_size for c in clips], request.quality, request.aspect_ratio)
    duration = sum(c.duration for c in clips)
    reference = _reference_video(clips, size)
    matching = [i for i, c in enumerate(clips) if reference and _video_key(c.video, size) == reference]
    if matching and sum(clips[i].duration for i in matching) >= PARTIAL_MIN_MATCHING_SHARE * duration:
        target = _target_like([clips[i] for i in matching], size, request)
        actions = tuple(
            (ClipAction.COPY if _audio_matches(c, target) else ClipAction.AUDIO)
            if i in matching
            else ClipAction.REENCODE
            for i, c in enumerate(clips)
        )
        strategy = Strategy.COPY if set(actions) == {ClipAction.COPY} else Strategy.PARTIAL
        return Decision(strategy, target, actions)
    return Decision(
        Strategy.REENCODE, _reencode_target(clips, size, request), (ClipAction.REENCODE,) * len(clips)
    )


def plan_merge(
    clips: Sequence[ClipInfo],
    request: OutputRequest,
    work_dir: Path,
    output: Path,
    *,
    max_graph_inputs: int = MAX_GRAPH_INPUTS,
    follow_seconds: float | None = None,
    decision: Decision | None = None,
    resources: Resources | None = None,
) -> Plan:
    """The FFmpeg steps of ``decision`` (by default ``decide(clips, request)``). ``follow_seconds``:
    clips marked ``growing`` are read while they download, FFmpeg waiting at most this long for more
    bytes at a time (None: every clip is complete). With ``resources`` every run fits its memory: the
    encoder tuned, the graph split into one run per clip when its decoders would not fit together, and
    OverBudgetError naming the clip that cannot be re-encoded at all."""
    decision = decision or decide(clips, request)
    if resources is not None:
        decision, fitting = _within(clips, decision, resources)
        max_graph_inputs = min(max_graph_inputs, fitting)
    follow_us = round(follow_seconds * 1_000_000) if follow_seconds else None
    duration = sum(c.duration for c in clips)
    strategy, target, actions = decision.strategy, decision.target, decision.actions
    if strategy is not Strategy.REENCODE or len(clips) > max_graph_inputs:
        return _concat_plan(clips, actions, strategy, target, work_dir, output, duration, follow_us)
    args = ffmpeg_args.reencode_all(clips, target, output, follow_us)
    step = Step("re-encode all clips", args, duration, duration)
    return Plan(Strategy.REENCODE, target, actions, (step,), None, duration, ())


def _within(clips: Sequence[ClipInfo], decision: Decision, resources: Resources) -> tuple[Decision, int]:
    """The decision with the best x264 tuning under which its largest re-encoded clip fits one run, and
    how many clips one filter graph may then decode at once."""
    redone = [i for i, action in enumerate(decision.actions) if action is ClipAction.REENCODE]
    if not redone:
        return decision, MAX_GRAPH_INPUTS
    available, size = resources.ffmpeg_bytes, decision.target.size
    decoders = [decoder_bytes(c.video) for c in clips]
    largest = max(redone, key=lambda i: decoders[i])
    tuning = best_tuning(decoders[largest], size, resources.cpus, available)
    if tuning is None:
        leanest = tunings(resources.cpus)[-1]
        need = run_bytes([decoders[largest]], size, leanest) + resources.ffmpeg_base_bytes
        video = clips[largest].video
        what = (
            f"re-encoding it to the merge's {size.width}×{size.height} frames"
            if run_bytes([], size, leanest) > available
            else f"decoding its {video.width}×{video.height} frames and re-encoding them"
        )
        free = megabytes(max(available + resources.ffmpeg_base_bytes, 0))
        raise OverBudgetError(
            largest,
            f"{what} takes about {megabytes(need)} of memory; {free} of the worker's "
            f"{megabytes(resources.budget_bytes)} budget is free for it",
        )
    target = replace(decision.target, tuning=tuning)
    graph = inputs_that_fit([decoders[i] for i in redone], run_bytes([], size, tuning), available)
    return replace(decision, target=target), graph


def _video_key(video: VideoInfo, size: Size) -> tuple[str, Fraction, Fraction] | None:
    """What must be equal for stream copy; None when the clip cannot be copied into this output at all."""
    copyable = (
        video.codec == "h264"
        and video.pix_fmt == "yuv420p"
        and (video.width, video.height) == (size.width, size.height)
        and video.sample_aspect_ratio == 1
        and video.rotation == 0
        and video.constant_frame_rate
        and video.progressive
        and video.profile in X264_PROFILES
    )
    return (X264_PROFILES[video.profile or ""], video.frame_rate, video.time_base) if copyable else None


def _reference_video(clips: Sequence[ClipInfo], size: Size) -> tuple[str, Fraction, Fraction] | None:
    """The copyable video parameters that cover the most duration (the earlier clip wins a tie)."""
    seconds: defaultdict[tuple[str, Fraction, Fraction], float] = defaultdict(float)
    for clip in clips:
        if (key := _video_key(clip.video, size)) is not None:
            seconds[key] += clip.duration
    return max(seconds, key=lambda k: seconds[k]) if seconds else None  # dicts keep insertion order


def _target_like(matching: Sequence[ClipInfo], size: Size, request: OutputRequest) -> Target:
    """Target = the matching clips' own parameters, so that they can be copied untouched."""
    video = matching[0].video
    layouts: Counter[tuple[int, int]] = Counter()
    for clip in matching:
        audio = clip.audio
        if audio and audio.codec == "aac" and audio.channels in CHANNEL_LAYOUTS and _audio_fits_video(clip):
            layouts[(audio.sample_rate, audio.channels)] += round(clip.duration * 1000)
    sample_rate, channels = (
        layouts.most_common(1)[0][0] if layouts else (REENCODE_SAMPLE_RATE, REENCODE_CHANNELS)
    )
    timescale = (
        video.time_base.denominator if video.time_base.numerator == 1 else track_timescale(video.frame_rate)
    )
    return Target(
        size=size,
        frame_rate=video.frame_rate,
        sample_rate=sample_rate,
        channels=channels,
        profile=X264_PROFILES[video.profile or ""],
        timescale=timescale,
        encoding=ENCODINGS[request.quality],
        fit=request.fit,
    )


def _reencode_target(clips: Sequence[ClipInfo], size: Size, request: OutputRequest) -> Target:
    frame_rate = output_frame_rate([c.video.frame_rate for c in clips])
    return Target(
        size=size,
        frame_rate=frame_rate,
        sample_rate=REENCODE_SAMPLE_RATE,
        channels=REENCODE_CHANNELS,
        profile="high",
        timescale=track_timescale(frame_rate),
        encoding=ENCODINGS[request.quality],
        fit=request.fit,
    )


def _audio_fits_video(clip: ClipInfo) -> bool:
    return clip.audio is not None and abs(clip.audio.duration - clip.duration) <= AUDIO_LENGTH_SLACK_SECONDS


def _audio_matches(clip: ClipInfo, target: Target) -> bool:
    audio = clip.audio
    return (
        audio is not None
        and audio.codec == "aac"
        and (audio.sample_rate, audio.channels) == (target.sample_rate, target.channels)
        and _audio_fits_video(clip)
    )


def moov_reservation(clips: Sequence[ClipInfo], actions: Sequence[ClipAction], target: Target) -> int:
    """Bytes to reserve for the joined file's index, sized for the worst case of every sample being its
    own chunk, keyframe and timing entry; the unused rest stays as a ``free`` box (~0.1 % of a file)."""
    entries = 0
    for clip, action in zip(clips, actions, strict=True):
        copied = action is not ClipAction.REENCODE
        rate = clip.video.frame_rate if copied else target.frame_rate
        frames = (
            clip.video.frames if copied and clip.video.frames else math.ceil(clip.duration * rate * 11 / 10)
        )
        audio_frames = math.ceil(clip.duration * target.sample_rate / 1024 * 11 / 10)
        entries += MOOV_BYTES_PER_VIDEO_SAMPLE * frames + MOOV_BYTES_PER_AUDIO_SAMPLE * audio_frames
    return MOOV_FIXED_BYTES + entries


def _concat_plan(
    clips: Sequence[ClipInfo],
    actions: Sequence[ClipAction],
    strategy: Strategy,
    target: Target,
    work_dir: Path,
    output: Path,
    duration: float,
    follow_us: int | None,
) -> Plan:
    steps: list[Step] = []
    names: list[str] = []
    followed: list[str] = []
    parts: list[Path] = []
    for i, (clip, action) in enumerate(zip(clips, actions, strict=True)):
        if action is ClipAction.COPY:
            if clip.path.parent != work_dir:
                raise ValueError(f"{clip.path} is not in {work_dir}: the concat script names it relatively")
            names.append(clip.path.name)
            if clip.growing and follow_us:
                followed.append(clip.path.name)
            continue
        part = work_dir / f"part-{i:03d}.mp4"
        names.append(part.name)
        parts.append(part)
        if action is ClipAction.AUDIO:
            args, cost, what = (
                ffmpeg_args.replace_audio(clip, target, part, follow_us),
                COST_AUDIO,
                "new audio for",
            )
        else:
            args, cost, what = (
                ffmpeg_args.normalize_clip(clip, target, part, follow_us),
                COST_ENCODE,
                "re-encode",
            )
        steps.append(Step(f"{what} clip {i + 1}", args, clip.duration, cost * clip.duration, i))
    list_path = work_dir / CONCAT_LIST_NAME
    safe = not followed  # per-file options need the concat demuxer's unsafe mode; our own names only
    concat = Step(
        f"join {len(clips)} clips",
        ffmpeg_args.concat_copy(
            list_path, output, target, moov_reservation(clips, actions, target), safe=safe
        ),
        duration,
        COST_COPY * duration,
        # an index larger than reserved (a misjudged variable frame rate): the slower rewrite pass
        fallback_args=ffmpeg_args.concat_copy(list_path, output, target, safe=safe),
    )
    return Plan(
        strategy,
        target,
        tuple(actions),
        (*steps, concat),
        ffmpeg_args.concat_list(names, followed, follow_us),
        duration,
        tuple(parts),
    )
