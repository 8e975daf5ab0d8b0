"""Real merges: generated clips over loopback HTTP, real FFmpeg, outputs read back with ffprobe."""

import pytest
from support.media import mean_volume, stream_end, streams

from videomerge_contract import AspectRatio, Fit, Quality, Strategy
from videomerge_worker.isobmff import top_level_boxes
from videomerge_worker.plan import OutputRequest

ORIGINAL = OutputRequest(Quality.ORIGINAL, AspectRatio.ORIGINAL, Fit.PAD)
LOUD, SILENT = -30.0, -80.0  # dB: a sine tone is about -21, digital silence -91


def check_output(outcome, *, seconds, width, height, strategy):
    """Duration = sum of clips, the requested frame, exactly one H.264 and one AAC stream, ending together."""
    path = outcome.output
    (video,) = streams(path, "video")
    (audio,) = streams(path, "audio")
    assert outcome.strategy is strategy
    assert (video["codec_name"], audio["codec_name"]) == ("h264", "aac")
    assert (video["width"], video["height"]) == (width, height) == (outcome.width, outcome.height)
    assert video.get("sample_aspect_ratio", "1:1") in ("1:1", "N/A")
    assert video["pix_fmt"] == "yuv420p"
    assert outcome.duration_seconds == pytest.approx(seconds, abs=0.1)
    assert stream_end(video) == pytest.approx(seconds, abs=0.1)
    assert stream_end(audio) == pytest.approx(stream_end(video), abs=0.06)  # in sync at the end
    boxes = [box.type for box in top_level_boxes(path)]
    assert boxes.index(b"moov") < boxes.index(b"mdat"), "not +faststart"
    assert outcome.size_bytes == path.stat().st_size
    return video, audio


@pytest.mark.parametrize("assemble", [True, False], ids=["assembled", "ffmpeg"])
def test_compatible_clips_are_joined_by_stream_copy(server, merge, assemble):
    urls = [server.url(n) for n in ("a.mp4", "b.mp4", "c.mp4", "faststart.mp4")]
    outcome = merge(urls, ORIGINAL, assemble_copy_merges=assemble)
    check_output(outcome, seconds=4.0, width=320, height=240, strategy=Strategy.COPY)
    assert outcome.clips_merged == 4


def test_an_index_larger_than_reserved_falls_back_to_the_rewrite_pass(server, merge, monkeypatch):
    from videomerge_worker import plan

    monkeypatch.setattr(plan, "MOOV_FIXED_BYTES", 64)
    monkeypatch.setattr(plan, "MOOV_BYTES_PER_VIDEO_SAMPLE", 1)
    outcome = merge([server.url("a.mp4"), server.url("b.mp4")], ORIGINAL, assemble_copy_merges=False)
    check_output(outcome, seconds=2.0, width=320, height=240, strategy=Strategy.COPY)


def test_one_odd_clip_is_reencoded_alone(server, merge):
    urls = [server.url(n) for n in ("a.mp4", "small-25fps-44k.mp4", "b.mp4", "c.mp4")]
    outcome = merge(urls, ORIGINAL)
    video, audio = check_output(outcome, seconds=4.0, width=320, height=240, strategy=Strategy.PARTIAL)
    assert video["r_frame_rate"] == "30/1"
    assert audio["sample_rate"] == "48000"


def test_clips_without_matching_audio_get_converted_audio_or_silence_in_step(server, merge):
    names = ("a.mp4", "no-audio.mp4", "pcm.mov", "short-audio.mp4", "b.mp4")
    outcome = merge([server.url(n) for n in names], ORIGINAL)
    check_output(outcome, seconds=5.0, width=320, height=240, strategy=Strategy.PARTIAL)
    path = outcome.output
    assert mean_volume(path, 0.2, 0.6) > LOUD  # a: tone
    assert mean_volume(path, 1.2, 0.6) < SILENT  # no-audio: silence of exactly its length
    assert mean_volume(path, 2.2, 0.6) > LOUD  # pcm.mov: its own sound, converted to AAC
    assert mean_volume(path, 3.1, 0.3) > LOUD  # short-audio: tone for half a second...
    assert mean_volume(path, 3.6, 0.3) < SILENT  # ...then silence, so that b starts on time
    assert mean_volume(path, 4.2, 0.6) > LOUD


def test_mixed_codecs_containers_rates_and_orientations_are_reencoded(server, merge):
    names = ("hevc.mp4", "vp9-portrait.webm", "mpeg4-22k.mkv", "rotated.mp4", "no-audio.mp4")
    outcome = merge([server.url(n) for n in names], OutputRequest(Quality.HIGH, AspectRatio.R16_9, Fit.PAD))
    # the largest clip is 320x240: its short side, in 16:9
    video, audio = check_output(outcome, seconds=5.0, width=426, height=240, strategy=Strategy.REENCODE)
    assert video["r_frame_rate"] == "30/1"
    assert (audio["sample_rate"], audio["channels"]) == ("48000", 2)
    assert "side_data_list" not in video  # the rotated clip was turned upright, not flagged
    path = outcome.output
    assert mean_volume(path, 0.2, 0.6) > LOUD
    assert mean_volume(path, 3.2, 0.6) > LOUD  # rotated.mp4 still has its sound at its place
    assert mean_volume(path, 4.2, 0.6) < SILENT


@pytest.mark.parametrize(
    ("aspect", "fit", "size"),
    [(AspectRatio.R9_16, Fit.CROP, (240, 426)), (AspectRatio.R1_1, Fit.PAD, (240, 240))],
)
def test_requested_aspect_ratio(server, merge, aspect, fit, size):
    outcome = merge(
        [server.url("a.mp4"), server.url("rotated.mp4")], OutputRequest(Quality.HIGH, aspect, fit)
    )
    check_output(outcome, seconds=2.0, width=size[0], height=size[1], strategy=Strategy.REENCODE)


def test_quality_caps_the_resolution_and_never_upscales(server, merge):
    low = merge([server.url("a.mp4"), server.url("b.mp4")], OutputRequest(Quality.LOW, AspectRatio.R4_3))
    check_output(low, seconds=2.0, width=320, height=240, strategy=Strategy.COPY)  # 240 ≤ 480: untouched
    small = merge([server.url("small-25fps-44k.mp4")], OutputRequest(Quality.HIGH, AspectRatio.R16_9))
    check_output(small, seconds=1.0, width=214, height=120, strategy=Strategy.REENCODE)
