"""Synthetic probe results for the pure planner tests (no FFmpeg involved)."""

from fractions import Fraction
from pathlib import Path

from videomerge_worker.probe import AudioInfo, ClipInfo, VideoInfo

WORK = Path("/work-dir")


def clip(
    index: int = 0,
    *,
    width: int = 1920,
    height: int = 1080,
    seconds: float = 10.0,
    fps: Fraction = Fraction(30),
    codec: str = "h264",
    profile: str = "High",
    pix_fmt: str = "yuv420p",
    time_base: Fraction = Fraction(1, 15360),
    sar: Fraction = Fraction(1),
    rotation: int = 0,
    audio: bool = True,
    audio_codec: str = "aac",
    sample_rate: int = 48000,
    channels: int = 2,
    audio_seconds: float | None = None,
) -> ClipInfo:
    video = VideoInfo(
        index=0,
        codec=codec,
        profile=profile,
        width=width,
        height=height,
        pix_fmt=pix_fmt,
        frame_rate=fps,
        constant_frame_rate=True,
        time_base=time_base,
        sample_aspect_ratio=sar,
        rotation=rotation,
        progressive=True,
        duration=seconds,
        frames=None,
    )
    sound = (
        AudioInfo(
            index=1,
            codec=audio_codec,
            sample_rate=sample_rate,
            channels=channels,
            duration=seconds if audio_seconds is None else audio_seconds,
            frames=None,
        )
        if audio
        else None
    )
    return ClipInfo(
        path=WORK / f"clip-{index:03d}.src",
        container="mov,mp4,m4a,3gp,3g2,mj2",
        size_bytes=1000,
        duration=seconds,
        video=video,
        audio=sound,
    )
