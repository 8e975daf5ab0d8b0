"""Output frame size and per-clip scaling: pure arithmetic on display sizes (square pixels, upright)."""

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from videomerge_contract import AspectRatio, Fit, Quality

# The highest frame rate a re-encode produces; faster clips are resampled down to it.
MAX_OUTPUT_FPS = Fraction(60)


@dataclass(frozen=True)
class Size:
    width: int
    height: int


def even(value: Fraction | float) -> int:
    """Nearest even integer, at least 2 (yuv420p needs even dimensions)."""
    return max(2, round(Fraction(value) / 2) * 2)


def canvas_size(
    display_sizes: Sequence[tuple[Fraction, Fraction]], quality: Quality, aspect_ratio: AspectRatio
) -> Size:
    """The output frame: the requested shape (``original`` = the first clip's), its short side that of the
    largest clip, capped by the quality level. Never larger than the sources justify, so never upscaled."""
    first_width, first_height = display_sizes[0]
    ratio = Fraction(*aspect_ratio.ratio) if aspect_ratio.ratio is not None else first_width / first_height
    largest_width, largest_height = max(display_sizes, key=lambda wh: wh[0] * wh[1])
    short_side = min(largest_width, largest_height)
    if quality.max_height is not None:
        short_side = min(short_side, Fraction(quality.max_height))
    if ratio >= 1:
        return Size(even(short_side * ratio), even(short_side))
    return Size(even(short_side), even(short_side / ratio))


def scaled_size(display: tuple[Fraction, Fraction], canvas: Size, fit: Fit) -> Size:
    """Size to scale a clip to before padding (it fits inside the canvas) or cropping (it covers it)."""
    width, height = display
    fits = (min if fit is Fit.PAD else max)(canvas.width / width, canvas.height / height)
    scaled = Size(even(width * fits), even(height * fits))
    if fit is Fit.PAD:
        return Size(min(scaled.width, canvas.width), min(scaled.height, canvas.height))
    return Size(max(scaled.width, canvas.width), max(scaled.height, canvas.height))


def output_frame_rate(rates: Sequence[Fraction]) -> Fraction:
    """One rate for a full re-encode: the smoothest clip's, at most MAX_OUTPUT_FPS."""
    return min(max(rates), MAX_OUTPUT_FPS)


def track_timescale(frame_rate: Fraction) -> int:
    """An MP4 video timescale in which every frame lasts a whole number of ticks (as ffmpeg picks)."""
    timescale = frame_rate.numerator
    while timescale < 10000:
        timescale *= 2
    return timescale
