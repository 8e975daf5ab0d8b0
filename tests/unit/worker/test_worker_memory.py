"""Legitimate large media against the real ``videomerge-worker merge``: the process tree's peak resident
memory stays within the worker's budget (250 MiB by default), measured from /proc and by the kernel's
high-water mark. What the budget cannot hold (a 2160p clip to decode) is refused before FFmpeg starts, as
UnsupportedMedia naming the clip; a larger budget merges it, within that budget."""

import pytest
from support.http_server import serve
from support.media import ClipSpec, make_clip, streams
from support.peak_rss import MIB
from support.worker_cli import merge_measured as merge

from videomerge_contract.resource import EXIT_OK, EXIT_PERMANENT_FAILURE

pytestmark = pytest.mark.unit

DEFAULT_BUDGET = 250 * MIB
FULL_HD = {"width": 1920, "height": 1080, "seconds": 2.0, "profile": "high"}
CLIPS = {
    "hd-30.mp4": ClipSpec(**FULL_HD, extra=("-preset", "faster")),
    "hd-25.mp4": ClipSpec(**FULL_HD, fps="25", extra=("-preset", "faster")),
    "hd-720.mp4": ClipSpec(width=1280, height=720, seconds=2.0, fps="25"),
    # a stream that declares 16 reference frames: its decoder holds them all (1080p: ~80 MiB)
    "hd-refs16.mp4": ClipSpec(**FULL_HD, extra=("-preset", "faster", "-refs", "16")),
    "uhd.mp4": ClipSpec(width=3840, height=2160, seconds=1.0, profile="high"),
    # frames past 8K: a decoder would allocate 150 MB a frame for what its header declares
    "over-8k.mp4": ClipSpec(width=7744, height=4352, seconds=0.2, fps="5"),
    "huge.avi": ClipSpec(width=12000, height=8400, seconds=0.2, fps="5", vcodec="mjpeg", pix_fmt="yuvj420p"),
}


@pytest.fixture(scope="module")
def large_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("large")
    for name, spec in CLIPS.items():
        make_clip(folder / name, spec)
    with serve(folder) as running:
        yield running


@pytest.fixture
def merge_measured(large_server, tmp_path):
    def run(names: list[str], *options: str, budget: int | None = None):
        urls = [large_server.url(name) for name in names]
        settings = {} if budget is None else {"MEMORY_BUDGET_BYTES": str(budget)}
        return merge(tmp_path, urls, "--pictures", str(tmp_path), *options, timeout=300, **settings)

    return run


def peak(measured) -> str:
    return f"peak {measured.peak_bytes / MIB:.0f} MiB; {measured.stderr[-600:]}"


def refused_within_the_budget(measured, clip: int, name: str) -> str:
    """The refusal's problem (after the clip's URL), once the merge is checked to have been refused as
    UnsupportedMedia naming clip ``clip`` (from 1), served as ``name``, within the default budget."""
    assert measured.returncode == EXIT_PERMANENT_FAILURE, measured.stderr
    assert measured.peak_bytes < DEFAULT_BUDGET, peak(measured)
    line = measured.stderr.strip().splitlines()[-1]
    assert line.startswith(f"videomerge-worker: UnsupportedMedia: clip {clip} (http://127.0.0.1:"), line
    url_end = f"/{name}): "
    assert url_end in line, line
    return line.split(url_end, 1)[1]


def test_a_1080p_partial_merge_at_original_quality_stays_within_the_budget(merge_measured, tmp_path):
    measured = merge_measured(["hd-30.mp4", "hd-25.mp4", "hd-30.mp4"], "--quality", "original")
    assert measured.returncode == EXIT_OK, measured.stderr
    assert '"strategy": "partial"' in measured.stdout
    assert measured.peak_bytes < DEFAULT_BUDGET, peak(measured)
    (video,) = streams(tmp_path / "merged.mp4", "video")
    assert (video["width"], video["height"]) == (1920, 1080)
    assert (tmp_path / "storyboard.jpg").stat().st_size > 0


def test_a_full_1080p_reencode_of_four_clips_with_pictures_stays_within_the_budget(merge_measured):
    names = ["hd-720.mp4", "hd-25.mp4", "hd-30.mp4", "hd-720.mp4"]
    measured = merge_measured(names, "--quality", "high", "--aspect-ratio", "original")
    assert measured.returncode == EXIT_OK, measured.stderr
    assert '"strategy": "reencode"' in measured.stdout
    assert measured.peak_bytes < DEFAULT_BUDGET, peak(measured)


def test_a_clip_declaring_sixteen_references_is_merged_or_refused_within_the_budget(merge_measured):
    measured = merge_measured(["hd-25.mp4", "hd-refs16.mp4", "hd-25.mp4"], "--quality", "original")
    assert measured.peak_bytes < DEFAULT_BUDGET, peak(measured)
    assert measured.returncode in (EXIT_OK, EXIT_PERMANENT_FAILURE), measured.stderr
    if measured.returncode == EXIT_PERMANENT_FAILURE:
        assert "UnsupportedMedia: clip 2 (" in measured.stderr
        assert "/hd-refs16.mp4): decoding its 1920×1080 frames" in measured.stderr


def test_a_2160p_clip_beyond_the_default_budget_is_refused_naming_it_before_ffmpeg_runs(merge_measured):
    problem = refused_within_the_budget(
        merge_measured(["hd-30.mp4", "uhd.mp4"], "--quality", "high"), 2, "uhd.mp4"
    )
    assert problem.startswith("decoding its 3840×2160 frames and re-encoding them takes about")
    assert problem.endswith("of the worker's 263 MB budget is free for it")


def test_with_a_larger_budget_2160p_is_merged_within_that_budget(merge_measured, tmp_path):
    budget = 1200 * MIB
    measured = merge_measured(["uhd.mp4", "hd-30.mp4"], "--quality", "original", budget=budget)
    assert measured.returncode == EXIT_OK, measured.stderr
    assert measured.peak_bytes < budget, peak(measured)
    (video,) = streams(tmp_path / "merged.mp4", "video")
    assert (video["width"], video["height"]) == (3840, 2160)


def test_frames_larger_than_any_budget_takes_are_refused_naming_the_clip(merge_measured):
    problem = refused_within_the_budget(merge_measured(["hd-30.mp4", "huge.avi"]), 2, "huge.avi")
    # FFmpeg reports no size for an MJPEG frame it may not decode; an H.264 one it names (below)
    assert problem == (
        "its frames could not be decoded to learn their size (the worker decodes frames up to 7680×4320)"
    )


def test_h264_frames_just_past_8k_are_refused_with_their_size(merge_measured):
    problem = refused_within_the_budget(merge_measured(["over-8k.mp4", "hd-30.mp4"]), 1, "over-8k.mp4")
    assert (
        problem == "its frames are 7744×4352, larger than the worker decodes (33,177,600 pixels: 7680×4320)"
    )
