"""FFmpeg's memory, estimated before it runs (pure): what a decoder and the x264 encoder hold for a frame
size, and the best encoder settings and largest filter graph that keep a run within its share of the
worker's budget (``resources.Resources.ffmpeg_bytes``).

The figures are measured (FFmpeg 5.1, single-threaded decoders, x264 ``faster``; 1080p and 2160p; the
worker README has the table) and rounded up:
- a decoder holds the reference frames its stream declares and a few more (reordering, frames on their
  way through the filters): 1080p H.264 declaring 1 reference measured 17 MiB, declaring 16 80 MiB,
  2160p declaring 4 98 MiB; ``refs + 9`` frames and 4 MiB estimate 34, 82 and 159 MiB;
- x264 holds ~48 bytes a pixel (reference frames with their half-pixel planes, B-frames, the frame being
  coded; 28 without B-frames), 3.3 more per frame of rate-control lookahead and 25 more per frame thread
  past the first. Slice threads share one frame: they cost no memory, and ~15 % of the speed of frame
  threads.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from videomerge_worker.geometry import Size
from videomerge_worker.probe import VideoInfo

DECODER_EXTRA_FRAMES = 9
DECODER_FIXED = 4 * 1024 * 1024
ENCODER_BYTES_PER_PIXEL = 48
B_FRAMES_BYTES_PER_PIXEL = 20  # of the above, what the B-frames (and their lookahead) take
LOOKAHEAD_BYTES_PER_PIXEL = 3.3  # per frame of lookahead
FRAME_THREAD_BYTES_PER_PIXEL = 25  # per frame thread past the first
FILTER_FRAMES = 4  # frames queued in the filter graph and before the encoder, at the output size
GRAPH_OVERHEAD = 6 * 1024 * 1024  # demuxers, audio, muxer, per run
MB = 1_000_000
# A picture input decodes from the keyframe before its frame: that keyframe and the filters' copies when
# the frame is a keyframe (copy and partial merges), else the frames up to it with their references
# (after a re-encode: 42 MiB an input at 1080p, measured).
PICTURE_DECODER_FRAMES = {True: 6, False: 16}


@dataclass(frozen=True)
class X264Tuning:
    """How x264 spends memory: frame threads (or slice threads), and its rate-control lookahead."""

    threads: int = 1
    lookahead: int = 20  # the ``faster`` preset's own
    sliced: bool = False
    b_frames: bool = True  # the preset's B-frames; without, ~2 % larger files, and far less memory

    def params(self) -> str:
        sliced = ":sliced-threads=1" if self.sliced and self.threads > 1 else ""
        b_frames = "" if self.b_frames else ":bframes=0"
        return f"rc-lookahead={self.lookahead}{sliced}{b_frames}"


DEFAULT_TUNING = X264Tuning()


def sample_bytes(pix_fmt: str | None) -> float:
    """Bytes a pixel of a decoded frame takes: 4:2:0 1.5, 4:2:2 2, 4:4:4 3; twice that past 8 bits."""
    fmt = pix_fmt or "yuv420p"
    per_pixel = 3.0 if "444" in fmt or fmt.startswith(("rgb", "bgr", "gbr")) else 2.0 if "422" in fmt else 1.5
    deep = any(depth in fmt for depth in ("10", "12", "16", "p010"))
    return per_pixel * (2 if deep else 1)


def decoder_bytes(video: VideoInfo) -> int:
    frame = video.frame_pixels * sample_bytes(video.pix_fmt)
    return round(frame * (video.refs + DECODER_EXTRA_FRAMES)) + DECODER_FIXED


def encoder_bytes(size: Size, tuning: X264Tuning) -> int:
    pixels = size.width * size.height
    threads = 0 if tuning.sliced else tuning.threads - 1
    per_pixel = (
        ENCODER_BYTES_PER_PIXEL
        - (0 if tuning.b_frames else B_FRAMES_BYTES_PER_PIXEL)
        + LOOKAHEAD_BYTES_PER_PIXEL * tuning.lookahead
        + FRAME_THREAD_BYTES_PER_PIXEL * threads
        + 1.5 * FILTER_FRAMES
    )
    return round(pixels * per_pixel)


def run_bytes(decoders: Sequence[int], size: Size, tuning: X264Tuning) -> int:
    """One FFmpeg run: its open decoders, its encoder and filters."""
    return sum(decoders) + encoder_bytes(size, tuning) + GRAPH_OVERHEAD


def tunings(cpus: int) -> list[X264Tuning]:
    """From the best (fastest, best compressed) to the leanest."""
    sliced = cpus > 1
    return [
        X264Tuning(cpus, 20),
        X264Tuning(cpus, 10),
        *([X264Tuning(cpus, 10, sliced=True)] if sliced else []),
        X264Tuning(cpus, 5, sliced=sliced),
        X264Tuning(cpus, 0, sliced=sliced),
        X264Tuning(cpus, 0, sliced=sliced, b_frames=False),
    ]


def best_tuning(decoder: int, size: Size, cpus: int, available: int) -> X264Tuning | None:
    """The best tuning under which one decoder of ``decoder`` bytes and an encoder at ``size`` fit."""
    return next((t for t in tunings(cpus) if run_bytes([decoder], size, t) <= available), None)


def inputs_that_fit(decoders: Sequence[int], fixed: int, available: int) -> int:
    """How many of ``decoders`` (in order) fit beside ``fixed`` bytes; at least one."""
    total, count = fixed, 0
    for decoder in decoders:
        total += decoder
        if total > available:
            break
        count += 1
    return max(count, 1)


def picture_inputs(frame_pixels: int, inputs: int, available: int, *, keyframes: bool) -> int:
    """How many inputs one picture run (a frame from each, ``keyframes`` or not) may open at once within
    ``available`` bytes."""
    decoder = round(frame_pixels * sample_bytes(None) * PICTURE_DECODER_FRAMES[keyframes])
    return min(inputs, inputs_that_fit([decoder] * inputs, GRAPH_OVERHEAD, available))


class OverBudgetError(Exception):
    """A clip that cannot be re-encoded within the worker's memory budget (the pipeline names it)."""

    def __init__(self, clip_index: int, problem: str) -> None:
        super().__init__(problem)
        self.clip_index = clip_index
        self.problem = problem


def megabytes(value: int) -> str:
    return f"{-(-value // MB):,} MB"
