"""What a downloaded clip is: ffprobe (through ffmpeg-python) reduced to the facts the planner needs."""

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ffmpeg

from videomerge_contract import ErrorReason
from videomerge_worker.errors import WorkerError, without_local_paths
from videomerge_worker.isobmff import index_problem, is_iso_bmff, truncation_problem

if TYPE_CHECKING:
    from videomerge_worker.clip import Clip  # clip.py holds a ClipInfo

# Common rates that cameras and encoders report slightly off (29.97 as 2997/100, 30 as 1001/33 ...).
_STANDARD_RATES = tuple(
    Fraction(n, d)
    for n, d in ((24000, 1001), (24, 1), (25, 1), (30000, 1001), (30, 1), (50, 1), (60000, 1001), (60, 1))
)
_MAX_SANE_FPS = 240


@dataclass(frozen=True)
class VideoInfo:
    index: int  # the stream's index in its file
    codec: str
    profile: str | None
    width: int
    height: int
    pix_fmt: str | None
    frame_rate: Fraction
    constant_frame_rate: bool
    time_base: Fraction
    sample_aspect_ratio: Fraction
    rotation: int  # clockwise degrees needed to display upright: 0, 90, 180 or 270
    progressive: bool
    duration: float
    frames: int | None

    @property
    def display_size(self) -> tuple[Fraction, Fraction]:
        """Width and height as shown: square pixels, rotation applied."""
        width, height = Fraction(self.width) * self.sample_aspect_ratio, Fraction(self.height)
        return (height, width) if self.rotation in (90, 270) else (width, height)


@dataclass(frozen=True)
class AudioInfo:
    index: int
    codec: str
    sample_rate: int
    channels: int
    duration: float
    frames: int | None


@dataclass(frozen=True)
class ClipInfo:
    path: Path
    container: str
    size_bytes: int
    duration: float  # the video stream's length: what the clip lasts on screen
    video: VideoInfo
    audio: AudioInfo | None
    growing: bool = False  # probed from its index while still downloading (an index-first MP4/MOV)


def ffprobe(path: Path) -> dict[str, Any]:
    """ffprobe's format and streams of a local file (ffmpeg.Error when it cannot read it)."""
    data: dict[str, Any] = ffmpeg.probe(f"file:{path}", cmd="ffprobe", v="error", protocol_whitelist="file")
    return data


def ffprobe_error(exc: ffmpeg.Error) -> str:
    """ffprobe's complaint, without the local path it starts with (users hear of their clip, not our disk)."""
    return without_local_paths(_last_line(exc.stderr)) or "unrecognised format"


def probe_clip(clip: "Clip", path: Path, *, growing: bool = False) -> ClipInfo:
    """Probes ``clip`` from a local file (``path``: its download, or a copy of its head and first
    media); a file that is not a playable video raises UnsupportedMedia naming the clip. A ``growing``
    file (its index on disk, its media still arriving) is checked for truncation later, by
    ``check_complete``."""

    def unsupported(problem: str) -> WorkerError:
        return clip.error(ErrorReason.UNSUPPORTED_MEDIA, problem)

    size = path.stat().st_size
    if size == 0:
        raise unsupported("the file is empty")
    if is_iso_bmff(path) and (problem := index_problem(path)):
        raise unsupported(problem)  # before FFmpeg reads it: its memory grows with what the index declares
    try:
        data = ffprobe(path)
    except ffmpeg.Error as exc:
        raise unsupported(f"not a readable video ({ffprobe_error(exc)})") from None
    if not growing:
        check_complete(clip, path)
    info = clip_info_from_probe(data, path, size, unsupported)
    return replace(info, growing=True) if growing else info


def check_complete(clip: "Clip", path: Path) -> None:
    """An MP4/MOV whose boxes promise more bytes than it has is truncated: UnsupportedMedia."""
    if is_iso_bmff(path) and (problem := truncation_problem(path)):
        raise clip.error(ErrorReason.UNSUPPORTED_MEDIA, problem)


def clip_info_from_probe(
    data: dict[str, Any], path: Path, size: int, unsupported: Callable[[str], WorkerError]
) -> ClipInfo:
    streams = data.get("streams", [])
    fmt = data.get("format", {})
    video_stream = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")
        ),
        None,
    )
    if video_stream is None:
        raise unsupported("it has no video stream")
    audio_stream = next((s for s in streams if s.get("codec_type") == "audio"), None)
    format_duration = _float(fmt.get("duration"))
    video = _video_info(video_stream, format_duration)
    if video is None:
        raise unsupported("its video stream has no size, frame rate or duration")
    audio = _audio_info(audio_stream, format_duration) if audio_stream else None
    return ClipInfo(
        path=path,
        container=str(fmt.get("format_name", "")),
        size_bytes=size,
        duration=video.duration,
        video=video,
        audio=audio,
    )


def _video_info(stream: dict[str, Any], format_duration: float | None) -> VideoInfo | None:
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    real_rate, average_rate = _fraction(stream.get("r_frame_rate")), _fraction(stream.get("avg_frame_rate"))
    rate = _frame_rate(real_rate, average_rate)
    duration = _stream_duration(stream, format_duration)
    if width <= 0 or height <= 0 or rate is None or not duration or duration <= 0:
        return None
    constant = bool(
        real_rate and average_rate and abs(real_rate - average_rate) / real_rate < Fraction(1, 100)
    )
    return VideoInfo(
        index=int(stream.get("index", 0)),
        codec=str(stream.get("codec_name", "")),
        profile=stream.get("profile"),
        width=width,
        height=height,
        pix_fmt=stream.get("pix_fmt"),
        frame_rate=rate,
        constant_frame_rate=constant,
        time_base=_fraction(stream.get("time_base")) or Fraction(1, 90000),
        sample_aspect_ratio=_aspect(stream.get("sample_aspect_ratio")),
        rotation=_rotation(stream),
        progressive=stream.get("field_order", "progressive") in ("progressive", "unknown"),
        duration=duration,
        frames=_int(stream.get("nb_frames")),
    )


def _audio_info(stream: dict[str, Any], format_duration: float | None) -> AudioInfo | None:
    sample_rate, channels = _int(stream.get("sample_rate")), _int(stream.get("channels"))
    if not sample_rate or not channels:
        return None
    return AudioInfo(
        index=int(stream.get("index", 0)),
        codec=str(stream.get("codec_name", "")),
        sample_rate=sample_rate,
        channels=channels,
        duration=_stream_duration(stream, format_duration) or 0.0,
        frames=_int(stream.get("nb_frames")),
    )


def _frame_rate(real: Fraction | None, average: Fraction | None) -> Fraction | None:
    """The clip's nominal rate. r_frame_rate is exact for constant-rate clips but can be a time base
    (90000) for variable-rate ones; then the average is the better guess. Snapped to standard rates."""
    candidates = [r for r in (real, average) if r and 0 < r <= _MAX_SANE_FPS]
    if not candidates:
        return None
    rate = candidates[0]
    if real and average and 0 < average <= _MAX_SANE_FPS and real > average * Fraction(11, 10):
        rate = average
    for standard in _STANDARD_RATES:
        if abs(rate - standard) / standard < Fraction(1, 10000):
            return standard
    return rate.limit_denominator(1001)


def _rotation(stream: dict[str, Any]) -> int:
    for side_data in stream.get("side_data_list", []) or []:
        if "rotation" in side_data:
            # The display matrix rotation is counter-clockwise; -90 means "turn 90° clockwise".
            return round(-float(side_data["rotation"]) / 90) * 90 % 360
    rotate = stream.get("tags", {}).get("rotate")
    return round(float(rotate) / 90) * 90 % 360 if rotate else 0


def _stream_duration(stream: dict[str, Any], format_duration: float | None) -> float | None:
    duration = _float(stream.get("duration"))
    if duration is None:
        tag = stream.get("tags", {}).get("DURATION")  # Matroska/WebM keep it as a tag "HH:MM:SS.fffffffff"
        if tag:
            try:
                hours, minutes, seconds = tag.split(":")
                duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
            except ValueError:
                duration = None
    return duration if duration is not None else format_duration


def _aspect(text: str | None) -> Fraction:
    if not text or ":" not in text:
        return Fraction(1)
    num, den = text.split(":", 1)
    try:
        value = Fraction(int(num), int(den))
    except (ValueError, ZeroDivisionError):
        return Fraction(1)
    return value if value > 0 else Fraction(1)


def _fraction(text: str | None) -> Fraction | None:
    if not text:
        return None
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def _float(text: Any) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _int(text: Any) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def _last_line(stderr: bytes | None) -> str:
    lines = [line.strip() for line in (stderr or b"").decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
