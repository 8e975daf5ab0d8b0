"""Test media: tiny clips from FFmpeg's lavfi sources, and ffprobe/ffmpeg readings of results."""

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_VIDEO_CODEC_ARGS = {
    "libx264": ["-preset", "ultrafast"],
    "libx265": ["-preset", "ultrafast", "-tag:v", "hvc1", "-x265-params", "log-level=error"],
    "libvpx-vp9": ["-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"],
    "mpeg4": ["-q:v", "6"],
}


def concat_copy_command(files: list[Path], output: Path) -> list[str]:
    """Bare FFmpeg's copy merge of local files, ``ffmpeg -f concat -safe 0 -i LIST -c copy``: what the
    worker's copy merge is checked and measured against. Writes LIST beside ``output``."""
    listing = output.with_suffix(".txt")
    listing.write_text("".join(f"file '{f}'\n" for f in files))
    return [
        "ffmpeg",
        "-v",
        "error",
        "-y",
        "-f",
        "concat",
        "-safe",
        "0",
        "-i",
        str(listing),
        "-c",
        "copy",
        str(output),
    ]


@dataclass(frozen=True)
class ClipSpec:
    width: int = 320
    height: int = 240
    fps: str = "30"
    seconds: float = 1.0
    vcodec: str = "libx264"
    profile: str | None = None  # x264 profile; ultrafast alone gives Constrained Baseline
    pix_fmt: str = "yuv420p"
    acodec: str | None = "aac"  # None: no audio stream at all
    sample_rate: int = 48000
    channels: int = 2
    audio_seconds: float | None = None  # audio shorter/longer than the video
    tone_hz: int = 440  # 0: digital silence
    container: str = "mp4"
    rotate: int = 0  # display rotation metadata, degrees
    faststart: bool = False
    extra: tuple[str, ...] = field(default=())


def make_clip(path: Path, spec: ClipSpec) -> Path:
    """Writes a clip (test pattern + sine) as ``spec`` says; returns ``path``."""
    video = f"testsrc2=size={spec.width}x{spec.height}:rate={spec.fps}:duration={spec.seconds}"
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", video]
    if spec.acodec:
        seconds = spec.audio_seconds if spec.audio_seconds is not None else spec.seconds
        source = (
            f"sine=frequency={spec.tone_hz}:sample_rate={spec.sample_rate}:duration={seconds}"
            if spec.tone_hz
            else f"anullsrc=r={spec.sample_rate}:cl=mono,atrim=end={seconds}"
        )
        cmd += ["-f", "lavfi", "-i", source]
    cmd += ["-c:v", spec.vcodec, *_VIDEO_CODEC_ARGS.get(spec.vcodec, []), "-pix_fmt", spec.pix_fmt]
    if spec.profile:
        cmd += ["-profile:v", spec.profile]
    if spec.acodec:
        cmd += ["-c:a", spec.acodec, "-ar", str(spec.sample_rate), "-ac", str(spec.channels)]
    if spec.faststart:
        cmd += ["-movflags", "+faststart"]
    encoded = path.with_name(f"unrotated-{path.name}") if spec.rotate else path
    cmd += [*spec.extra, str(encoded)]
    subprocess.run(cmd, check=True, capture_output=True)
    if spec.rotate:  # FFmpeg 5.1 sets the display matrix only when remuxing
        rotate = ["-c", "copy", "-metadata:s:v:0", f"rotate={spec.rotate}", str(path)]
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(encoded), *rotate], check=True)
        encoded.unlink()
    return path


def probe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data: dict[str, Any] = json.loads(out)
    return data


def streams(path: Path, kind: str) -> list[dict[str, Any]]:
    return [s for s in probe(path)["streams"] if s["codec_type"] == kind]


def stream_end(stream: dict[str, Any]) -> float:
    return float(stream.get("start_time", 0.0)) + float(stream["duration"])


def mean_volume(path: Path, start: float, seconds: float) -> float:
    """Mean audio volume in dB of ``seconds`` from ``start`` (-91 dB is digital silence)."""
    result = subprocess.run(
        [
            *("ffmpeg", "-hide_banner", "-nostats", "-ss", f"{start}", "-t", f"{seconds}", "-i", str(path)),
            *("-map", "0:a:0", "-af", "volumedetect", "-f", "null", "-"),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    match = re.search(r"mean_volume: (-?[\d.]+|-inf) dB", result.stderr)
    assert match, result.stderr
    return -91.0 if match.group(1) == "-inf" else float(match.group(1))
