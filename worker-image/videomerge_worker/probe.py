"""What a downloaded clip is: ffprobe (through ffmpeg-python) reduced to the facts the planner needs."""

import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ffmpeg

from videomerge_contract import ErrorReason
from videomerge_worker import h264
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
# Reference frames a decoder may hold, until the stream says how many it uses (H.264: ``h264``). ffprobe's
# own ``refs`` is not the stream's (it says 1 for a stream declaring 16).
CODEC_REFS = {"h264": 16, "hevc": 16, "vp9": 8, "av1": 8, "vp8": 3}
OTHER_CODEC_REFS = 2
MAX_EXTRADATA_BYTES = 64 * 1024  # larger decoder configurations are not read: the codec's most is assumed
# The largest frame any decoder of ours opens (8K UHD): a header may declare far larger, and a decoder
# allocates what the header declares. Passed to ffprobe and to every FFmpeg input (``-max_pixels``).
MAX_FRAME_WIDTH, MAX_FRAME_HEIGHT = 7680, 4320
MAX_FRAME_PIXELS = MAX_FRAME_WIDTH * MAX_FRAME_HEIGHT


class ProbeSlots:
    """How many ffprobes run at once: each decodes a first frame (8K: ~85 MiB) beside FFmpeg's code, so
    four at once could take a worker's whole budget. The count is asked of ``count`` when first needed
    (a merge sets it from its budget, ``set_count``); one at a time until then."""

    def __init__(self) -> None:
        self._free = threading.Condition()
        self._count: Callable[[], int] = lambda: 1
        self._limit: int | None = None
        self._running = 0

    def set_count(self, count: Callable[[], int]) -> None:
        with self._free:
            self._count, self._limit = count, None

    def __enter__(self) -> None:
        with self._free:
            if self._limit is None:
                self._limit = max(1, self._count())
            while self._running >= self._limit:
                self._free.wait()
            self._running += 1

    def __exit__(self, *_: object) -> None:
        with self._free:
            self._running -= 1
            self._free.notify()


PROBES = ProbeSlots()
_OVERSIZED = re.compile(r"Picture size (\d+)x(\d+) exceeds specified max pixel count")


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
    refs: int = 1  # reference frames a decoder holds: the codec's most, or what the stream declares
    extradata_bytes: int = 0  # size of its decoder configuration (H.264: avcC or parameter sets)
    coded_pixels: int = 0  # pixels of a coded frame, padding included, as ffprobe says (0: not said)

    @property
    def frame_pixels(self) -> int:
        """The pixels a decoded frame holds: the coded frame's, at least width × height."""
        return max(self.coded_pixels, self.width * self.height)

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


def ffprobe(path: Path, **options: str | None) -> dict[str, Any]:
    """ffprobe's format and streams of a local file (ffmpeg.Error when it cannot read it); ``options``:
    ffprobe's own (``select_streams="0"``), for other questions. Local files only, one decoder thread, no
    frame past 8K, as many at once as ``PROBES`` lets."""
    with PROBES:
        data: dict[str, Any] = ffmpeg.probe(
            f"file:{path}",
            cmd="ffprobe",
            v="error",
            protocol_whitelist="file",
            threads=1,
            max_pixels=MAX_FRAME_PIXELS,
            **options,
        )
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
        raise unsupported(_oversized(exc) or f"not a readable video ({ffprobe_error(exc)})") from None
    if not growing:
        check_complete(clip, path)
    info = clip_info_from_probe(data, path, size, unsupported)
    return replace(info, growing=True) if growing else info


def with_declared_refs(info: ClipInfo) -> ClipInfo:
    """``info`` with the reference frames its H.264 stream's parameter set declares, read from its decoder
    configuration by a second, small ffprobe (for the clips a merge decodes, whose decoders hold them);
    as it was when they cannot be read (the codec's most stands)."""
    video = info.video
    if video.codec != "h264" or not 0 < video.extradata_bytes <= MAX_EXTRADATA_BYTES:
        return info
    refs = _declared_refs(info.path, video)
    return info if refs is None else replace(info, video=replace(video, refs=refs))


def _declared_refs(path: Path, video: VideoInfo) -> int | None:
    try:
        dump = ffprobe(path, select_streams=str(video.index), show_data=None, show_entries="stream=extradata")
        refs = h264.max_ref_frames(h264.from_hexdump(dump["streams"][0].get("extradata", "")))
    except (ffmpeg.Error, KeyError, IndexError, ValueError):
        return None
    return None if refs is None else min(max(refs, 1), CODEC_REFS["h264"])


def frame_size_problem(width: int, height: int) -> str:
    return (
        f"its frames are {width}×{height}, larger than the worker decodes "
        f"({MAX_FRAME_PIXELS:,} pixels: {MAX_FRAME_WIDTH}×{MAX_FRAME_HEIGHT})"
    )


def _oversized(exc: ffmpeg.Error) -> str | None:
    found = _OVERSIZED.search((exc.stderr or b"").decode("utf-8", "replace"))
    return frame_size_problem(int(found[1]), int(found[2])) if found else None


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
    if not _int(video_stream.get("width")):  # FFmpeg learns the size by decoding a frame: it could not
        raise unsupported(
            f"its frames could not be decoded to learn their size (the worker decodes frames up to "
            f"{MAX_FRAME_WIDTH}×{MAX_FRAME_HEIGHT})"
        )
    video = _video_info(video_stream, format_duration)
    if video is None:
        raise unsupported("its video stream has no size, frame rate or duration")
    if video.frame_pixels > MAX_FRAME_PIXELS:
        raise unsupported(frame_size_problem(video.width, video.height))
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
        refs=CODEC_REFS.get(str(stream.get("codec_name", "")), OTHER_CODEC_REFS),
        coded_pixels=(_int(stream.get("coded_width")) or 0) * (_int(stream.get("coded_height")) or 0),
        extradata_bytes=_int(stream.get("extradata_size")) or 0,
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
