"""FFmpeg argument lists (pure): what to encode to, per-clip filter chains, and the three kinds of step.

FFmpeg only ever reads local files we wrote, named with ``file:`` and behind a protocol whitelist, so
nothing inside a clip (an HLS playlist, a concat script, a reference movie) can reach the network or
other files. The concat list holds bare relative names, so the concat demuxer keeps its safe mode.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from videomerge_contract import Fit, Quality
from videomerge_worker.footprint import DEFAULT_TUNING, X264Tuning
from videomerge_worker.geometry import Size, scaled_size
from videomerge_worker.probe import MAX_FRAME_PIXELS, ClipInfo

# An input option: FFmpeg applies it to the next -i only, so every input carries its own.
PROTOCOLS = ["-protocol_whitelist", "file,pipe"]
# Decoder options, per input as well: one thread (frame threads each hold frames: memory grows with the
# node's cores), and no frame larger than the worker takes whatever a header declares.
DECODER = ["-threads", "1", "-max_pixels", str(MAX_FRAME_PIXELS)]
COMMON = ["-hide_banner", "-nostdin", "-y", "-v", "error", "-nostats", "-progress", "pipe:1"]
CHANNEL_LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1"}


@dataclass(frozen=True)
class Encoding:
    """x264 CRF and preset, AAC bitrate. Presets lean fast: the worker is paid by the minute."""

    crf: int
    preset: str
    audio_bitrate: str


ENCODINGS: dict[Quality, Encoding] = {
    Quality.LOW: Encoding(crf=28, preset="veryfast", audio_bitrate="96k"),
    Quality.MEDIUM: Encoding(crf=23, preset="veryfast", audio_bitrate="128k"),
    Quality.HIGH: Encoding(crf=21, preset="faster", audio_bitrate="160k"),
    Quality.ORIGINAL: Encoding(crf=18, preset="faster", audio_bitrate="192k"),
}


@dataclass(frozen=True)
class Target:
    """The stream parameters every part of the output shares."""

    size: Size
    frame_rate: Fraction
    sample_rate: int
    channels: int
    profile: str  # x264 profile: baseline, main or high
    timescale: int  # MP4 video track timescale
    encoding: Encoding
    fit: Fit
    tuning: X264Tuning = DEFAULT_TUNING  # how x264 spends memory: chosen by the plan within the budget


def video_chain(clip: ClipInfo, target: Target) -> str:
    """Upright, square pixels, scaled to fit (pad) or cover (crop) the canvas, one rate, yuv420p.
    FFmpeg's autorotate has already turned the frames upright when this chain sees them."""
    canvas = target.size
    scaled = scaled_size(clip.video.display_size, canvas, target.fit)
    filters = [] if clip.video.progressive else ["yadif=deint=interlaced"]
    filters += [f"scale={scaled.width}:{scaled.height}:flags=bicubic", "setsar=1"]
    if target.fit is Fit.PAD:
        filters.append(f"pad={canvas.width}:{canvas.height}:(ow-iw)/2:(oh-ih)/2:black")
    else:
        filters.append(f"crop={canvas.width}:{canvas.height}")
    filters += [f"fps={target.frame_rate}", f"trim=end={clip.duration:.6f}", "format=yuv420p"]
    return ",".join(filters)


def audio_chain(clip: ClipInfo, input_index: int, target: Target) -> str:
    """The clip's audio (or silence when it has none) resampled and cut or padded to exactly the length
    of its video, so that audio and video stay in step across every boundary."""
    layout = CHANNEL_LAYOUTS[target.channels]
    length = f"atrim=end={clip.duration:.6f}"
    if clip.audio is None:
        return f"anullsrc=r={target.sample_rate}:cl={layout},{length}"
    return (
        f"[{input_index}:{clip.audio.index}]aresample={target.sample_rate}:async=1:first_pts=0,"
        f"aformat=sample_fmts=fltp:channel_layouts={layout},apad,{length}"
    )


def video_encoder(target: Target) -> list[str]:
    e = target.encoding
    tuning = target.tuning
    return [
        *["-c:v", "libx264", "-preset", e.preset, "-crf", str(e.crf), "-profile:v", target.profile],
        *["-threads", str(tuning.threads), "-x264-params", tuning.params()],
    ]


def audio_encoder(target: Target) -> list[str]:
    rate, channels = str(target.sample_rate), str(target.channels)
    return ["-c:a", "aac", "-b:a", target.encoding.audio_bitrate, "-ar", rate, "-ac", channels]


def mp4_output(path: Path, target: Target, *, faststart: bool, moov_bytes: int | None = None) -> list[str]:
    """MP4 to ``path``. With ``faststart`` the index goes first: in space reserved up front when
    ``moov_bytes`` is given (no second pass over the file), else by FFmpeg's rewrite pass."""
    flags: list[str] = []
    if faststart:
        flags = ["-moov_size", str(moov_bytes)] if moov_bytes else ["-movflags", "+faststart"]
    return ["-video_track_timescale", str(target.timescale), *flags, "-f", "mp4", f"file:{path}"]


def read_clip(clip: ClipInfo, follow_us: int | None) -> list[str]:
    """Input options for a clip. One still downloading is followed: FFmpeg waits at its current end of
    file for more (up to ``follow_us`` microseconds without progress) instead of taking it for the end."""
    follow = ["-follow", "1", "-rw_timeout", str(follow_us)] if clip.growing and follow_us else []
    return [*follow, *PROTOCOLS, *DECODER, "-i", f"file:{clip.path}"]


def normalize_clip(clip: ClipInfo, target: Target, output: Path, follow_us: int | None = None) -> list[str]:
    """Re-encode one clip to the target parameters (for a stream-copy concat afterwards)."""
    graph = f"[0:{clip.video.index}]{video_chain(clip, target)}[v];{audio_chain(clip, 0, target)}[a]"
    return [
        *COMMON,
        *read_clip(clip, follow_us),
        "-filter_complex",
        graph,
        "-map",
        "[v]",
        "-map",
        "[a]",
        *video_encoder(target),
        *audio_encoder(target),
        *mp4_output(output, target, faststart=False),
    ]


def replace_audio(clip: ClipInfo, target: Target, output: Path, follow_us: int | None = None) -> list[str]:
    """Keep the clip's video as it is, give it target audio (its own, converted, or silence)."""
    return [
        *COMMON,
        *read_clip(clip, follow_us),
        "-filter_complex",
        f"{audio_chain(clip, 0, target)}[a]",
        "-map",
        f"0:{clip.video.index}",
        "-map",
        "[a]",
        "-c:v",
        "copy",
        *audio_encoder(target),
        *mp4_output(output, target, faststart=False),
    ]


def concat_copy(
    list_path: Path, output: Path, target: Target, moov_bytes: int | None = None, *, safe: bool = True
) -> list[str]:
    """Stream-copy concatenation of parts that share every stream parameter. ``safe=False`` (needed for
    the per-file options of followed clips) is only ever used with a script that ``concat_list`` wrote."""
    return [
        *COMMON,
        "-f",
        "concat",
        *([] if safe else ["-safe", "0"]),
        *PROTOCOLS,
        "-i",
        f"file:{list_path}",
        "-map",
        "0:v:0",
        "-map",
        "0:a:0",
        "-c",
        "copy",
        *mp4_output(output, target, faststart=True, moov_bytes=moov_bytes),
    ]


def reencode_all(
    clips: Sequence[ClipInfo], target: Target, output: Path, follow_us: int | None = None
) -> list[str]:
    """One filter graph: every clip normalized, then joined by the concat filter, encoded once."""
    inputs: list[str] = []
    chains: list[str] = []
    joined = ""
    for i, clip in enumerate(clips):
        inputs += read_clip(clip, follow_us)
        chains.append(f"[{i}:{clip.video.index}]{video_chain(clip, target)}[v{i}]")
        chains.append(f"{audio_chain(clip, i, target)}[a{i}]")
        joined += f"[v{i}][a{i}]"
    graph = ";".join([*chains, f"{joined}concat=n={len(clips)}:v=1:a=1[v][a]"])
    return [
        *COMMON,
        *inputs,
        "-filter_complex",
        graph,
        "-map",
        "[v]",
        "-map",
        "[a]",
        *video_encoder(target),
        *audio_encoder(target),
        *mp4_output(output, target, faststart=True),
    ]


def concat_list(names: Sequence[str], followed: Collection[str] = (), follow_us: int | None = None) -> str:
    """An ffconcat script of bare file names, relative to the script (safe mode accepts them); the
    ``followed`` ones, still downloading, carry the options to read on at their end of file."""
    lines = ["ffconcat version 1.0\n"]
    for name in names:
        if "/" in name or name.startswith(".") or not name.replace("-", "").replace(".", "").isalnum():
            raise ValueError(f"not a plain file name: {name!r}")
        lines.append(f"file {name}\n")
        if name in followed and follow_us:
            lines += ["option follow 1\n", f"option rw_timeout {follow_us}\n"]
    return "".join(lines)
