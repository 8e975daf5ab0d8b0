"""The planner as a pure function: probe facts + request → strategy, target and FFmpeg arguments."""

from fractions import Fraction
from pathlib import Path

import pytest
from worker_clips import WORK, clip

from videomerge_contract import AspectRatio, Fit, Quality, Strategy
from videomerge_worker.ffmpeg_args import ENCODINGS
from videomerge_worker.geometry import Size, canvas_size, scaled_size
from videomerge_worker.plan import CONCAT_LIST_NAME, ClipAction, OutputRequest, plan_merge

OUT = Path("/out/merged.mp4")
F = Fraction


def plan(clips, quality=Quality.HIGH, aspect=AspectRatio.R16_9, fit=Fit.PAD, **kw):
    return plan_merge(clips, OutputRequest(quality, aspect, fit), WORK, OUT, **kw)


@pytest.mark.parametrize(
    ("sizes", "quality", "aspect", "expected"),
    [
        ([(1920, 1080)], Quality.HIGH, AspectRatio.R16_9, (1920, 1080)),
        ([(3840, 2160)], Quality.HIGH, AspectRatio.R16_9, (1920, 1080)),
        ([(3840, 2160)], Quality.MEDIUM, AspectRatio.R16_9, (1280, 720)),
        ([(3840, 2160)], Quality.LOW, AspectRatio.R16_9, (854, 480)),
        ([(3840, 2160)], Quality.ORIGINAL, AspectRatio.R16_9, (3840, 2160)),
        # never upscale: a small source keeps its size whatever the quality allows
        ([(640, 360)], Quality.HIGH, AspectRatio.R16_9, (640, 360)),
        ([(640, 360), (1280, 720)], Quality.ORIGINAL, AspectRatio.R16_9, (1280, 720)),
        # the short side follows the largest clip; the shape follows the request
        ([(1920, 1080)], Quality.HIGH, AspectRatio.R9_16, (1080, 1920)),
        ([(1920, 1080)], Quality.HIGH, AspectRatio.R1_1, (1080, 1080)),
        ([(1920, 1080)], Quality.HIGH, AspectRatio.R4_3, (1440, 1080)),
        ([(1920, 1080)], Quality.HIGH, AspectRatio.R4_5, (1080, 1350)),
        ([(1080, 1920)], Quality.MEDIUM, AspectRatio.R16_9, (1280, 720)),
        # original = the first clip's shape, at the largest clip's size
        ([(640, 480), (1920, 1080)], Quality.ORIGINAL, AspectRatio.ORIGINAL, (1440, 1080)),
        ([(1080, 1920), (1280, 720)], Quality.ORIGINAL, AspectRatio.ORIGINAL, (1080, 1920)),
    ],
)
def test_canvas_size(sizes, quality, aspect, expected):
    displays = [(F(w), F(h)) for w, h in sizes]
    assert canvas_size(displays, quality, aspect) == Size(*expected)


def test_display_size_applies_rotation_and_pixel_aspect():
    rotated = clip(width=1920, height=1080, rotation=90)
    assert rotated.video.display_size == (1080, 1920)
    anamorphic = clip(width=720, height=576, sar=F(64, 45))  # PAL 16:9
    assert anamorphic.video.display_size == (1024, 576)
    assert plan([rotated], aspect=AspectRatio.ORIGINAL).target.size == Size(1080, 1920)


@pytest.mark.parametrize(
    ("display", "fit", "expected"),
    [
        ((1080, 1920), Fit.PAD, (608, 1080)),  # pillarbox
        ((1920, 1080), Fit.PAD, (1920, 1080)),
        ((1440, 1080), Fit.PAD, (1440, 1080)),
        ((1080, 1920), Fit.CROP, (1920, 3414)),  # covers, then cropped
        ((2560, 1080), Fit.PAD, (1920, 810)),  # letterbox
        ((2560, 1080), Fit.CROP, (2560, 1080)),
    ],
)
def test_scaled_size_fits_or_covers(display, fit, expected):
    canvas = Size(1920, 1080)
    got = scaled_size((F(display[0]), F(display[1])), canvas, fit)
    assert got == Size(*expected)
    assert got.width % 2 == 0 and got.height % 2 == 0
    if fit is Fit.PAD:
        assert got.width <= canvas.width and got.height <= canvas.height
    else:
        assert got.width >= canvas.width and got.height >= canvas.height


def test_identical_clips_are_stream_copied():
    p = plan([clip(i) for i in range(3)])
    assert p.strategy is Strategy.COPY
    assert p.actions == (ClipAction.COPY,) * 3
    assert len(p.steps) == 1
    args = p.steps[0].args
    assert args[args.index("-c") + 1] == "copy"
    assert "libx264" not in args
    assert p.concat_list == "ffconcat version 1.0\nfile clip-000.src\nfile clip-001.src\nfile clip-002.src\n"
    assert f"file:{WORK / CONCAT_LIST_NAME}" in args
    # the index goes first into space reserved for the worst case: no second pass over the file
    reserved = int(args[args.index("-moov_size") + 1])
    assert 3 * 300 * 32 + 64 * 1024 < reserved < 200 * 1024
    assert "-movflags" not in args
    fallback = p.steps[0].fallback_args
    assert fallback[fallback.index("-movflags") + 1] == "+faststart" and "-moov_size" not in fallback
    assert p.duration == 30.0


def test_one_different_clip_makes_a_partial_merge_with_the_majority_parameters():
    clips = [clip(0), clip(1, width=1280, height=720, fps=F(25)), clip(2), clip(3)]
    p = plan(clips)
    assert p.strategy is Strategy.PARTIAL
    assert p.actions == (ClipAction.COPY, ClipAction.REENCODE, ClipAction.COPY, ClipAction.COPY)
    t = p.target
    assert (t.size, t.frame_rate, t.profile, t.timescale) == (Size(1920, 1080), F(30), "high", 15360)
    assert (t.sample_rate, t.channels) == (48000, 2)
    normalize, join = p.steps
    assert normalize.clip_index == 1
    assert normalize.args[normalize.args.index("-video_track_timescale") + 1] == "15360"
    assert "fps=30" in " ".join(normalize.args)
    assert p.concat_list.splitlines()[1:] == [
        "file clip-000.src",
        "file part-001.mp4",
        "file clip-002.src",
        "file clip-003.src",
    ]
    assert p.parts == (WORK / "part-001.mp4",)
    assert normalize.cost > 10 * join.cost  # encoding dominates the progress weights


def test_clip_without_audio_keeps_its_video_and_gets_silence_of_its_own_length():
    clips = [clip(0), clip(1, audio=False, seconds=4.25), clip(2)]
    p = plan(clips)
    assert p.strategy is Strategy.PARTIAL
    assert p.actions[1] is ClipAction.AUDIO
    args = p.steps[0].args
    assert args[args.index("-c:v") + 1] == "copy"
    graph = args[args.index("-filter_complex") + 1]
    assert graph.startswith("anullsrc=r=48000:cl=stereo,atrim=end=4.250000")


def test_audio_of_another_rate_or_length_is_converted_not_copied():
    clips = [clip(0), clip(1, sample_rate=44100), clip(2, audio_seconds=9.5), clip(3, audio_codec="mp3")]
    p = plan(clips)
    assert p.actions == (ClipAction.COPY, ClipAction.AUDIO, ClipAction.AUDIO, ClipAction.AUDIO)
    for step in p.steps[:-1]:
        graph = step.args[step.args.index("-filter_complex") + 1]
        assert "aresample=48000" in graph and "apad,atrim=end=10.000000" in graph


def test_mostly_different_clips_are_reencoded_in_one_graph():
    clips = [
        clip(0, codec="hevc", profile="Main"),
        clip(1, width=1280, height=720, fps=F(25), audio=False),
        clip(2, fps=F(60)),
        clip(3, codec="vp9", profile="Profile 0"),
    ]
    p = plan(clips)
    assert p.strategy is Strategy.REENCODE
    assert len(p.steps) == 1 and p.concat_list is None
    args = p.steps[0].args
    assert [args[i + 1] for i, a in enumerate(args) if a == "-i"] == [f"file:{c.path}" for c in clips]
    graph = args[args.index("-filter_complex") + 1]
    assert "concat=n=4:v=1:a=1[v][a]" in graph
    assert graph.count("fps=60") == 4  # the smoothest clip's rate
    assert "anullsrc=r=48000:cl=stereo,atrim=end=10.000000[a1]" in graph
    assert args[args.index("-profile:v") + 1] == "high"


def test_many_clips_are_normalized_one_by_one_then_joined():
    clips = [clip(i, codec="hevc", profile="Main") for i in range(5)]
    p = plan(clips, max_graph_inputs=4)
    assert p.strategy is Strategy.REENCODE
    assert len(p.steps) == 6
    assert all(step.args.count("-i") == 1 for step in p.steps)
    assert len(p.parts) == 5


def test_quality_cap_forces_a_reencode_of_larger_clips():
    assert plan([clip(i) for i in range(2)], quality=Quality.MEDIUM).strategy is Strategy.REENCODE


def test_aspect_ratio_that_the_clips_lack_forces_a_reencode():
    p = plan([clip(i) for i in range(2)], aspect=AspectRatio.R9_16, fit=Fit.CROP)
    assert p.strategy is Strategy.REENCODE
    graph = p.steps[0].args[p.steps[0].args.index("-filter_complex") + 1]
    assert "crop=1080:1920" in graph and "pad=" not in graph


@pytest.mark.parametrize(
    "odd",
    [
        {"rotation": 90, "width": 1920, "height": 1080},
        {"sar": F(4, 3)},
        {"pix_fmt": "yuv422p"},
        {"profile": "High 10"},
        {"time_base": F(1, 90000)},
        {"fps": F(25)},
    ],
)
def test_a_clip_that_differs_in_any_copy_parameter_is_not_copied(odd):
    p = plan([clip(0), clip(1, **odd), clip(2)])
    assert p.actions[1] is ClipAction.REENCODE


@pytest.mark.parametrize("quality", list(Quality))
def test_encoder_settings_follow_the_quality_level(quality):
    sizes = {Quality.LOW: (854, 480), Quality.MEDIUM: (1280, 720)}
    w, h = sizes.get(quality, (1920, 1080))
    p = plan([clip(0, width=w, height=h, codec="hevc", profile="Main")], quality=quality)
    args = p.steps[0].args
    encoding = ENCODINGS[quality]
    assert args[args.index("-crf") + 1] == str(encoding.crf)
    assert args[args.index("-preset") + 1] == encoding.preset
    assert args[args.index("-b:a") + 1] == encoding.audio_bitrate
    assert [ENCODINGS[q].crf for q in Quality] == sorted((ENCODINGS[q].crf for q in Quality), reverse=True)


def test_ffmpeg_only_reads_local_files_behind_a_protocol_whitelist():
    for clips in ([clip(0), clip(1)], [clip(0), clip(1, fps=F(25)), clip(2)], [clip(0, codec="vp9")]):
        for step in plan(clips).steps:
            args = step.args
            inputs = [args[i + 1] for i, a in enumerate(args) if a == "-i"]
            assert inputs and all(i.startswith("file:/") for i in inputs)
            for at in (i for i, a in enumerate(args) if a == "-i"):  # an input option: one per input
                whitelist = max(i for i, a in enumerate(args[:at]) if a == "-protocol_whitelist")
                assert args[whitelist + 1] == "file,pipe"
                assert "-i" not in args[whitelist:at]
            assert "-safe" not in args  # the concat script holds bare names, so safe mode stays on
            assert not any("://" in a for a in args)


def test_concat_script_refuses_anything_but_plain_names():
    from videomerge_worker.ffmpeg_args import concat_list

    for bad in ("../x.mp4", "/etc/passwd", "a b.mp4", "x'\nfile http://e.com/a", ".hidden"):
        with pytest.raises(ValueError):
            concat_list([bad])


def test_clips_outside_the_work_dir_cannot_be_listed_for_concat():
    outsider = clip(1)
    outsider = type(outsider)(**{**outsider.__dict__, "path": Path("/elsewhere/clip-001.src")})
    with pytest.raises(ValueError, match="not in"):
        plan([clip(0), outsider])


def test_clips_still_downloading_are_followed_and_the_others_are_not():
    from dataclasses import replace

    clips = [replace(clip(0), growing=True), clip(1), replace(clip(2), growing=True)]
    p = plan(clips, follow_seconds=12.5)
    assert p.strategy is Strategy.COPY
    assert p.concat_list == (
        "ffconcat version 1.0\n"
        "file clip-000.src\noption follow 1\noption rw_timeout 12500000\n"
        "file clip-001.src\n"
        "file clip-002.src\noption follow 1\noption rw_timeout 12500000\n"
    )
    args = p.steps[0].args
    assert args[args.index("-safe") + 1] == "0"  # per-file options need it; the names are still plain
    assert args.index("-safe") < args.index("-i")
    # a clip re-encoded on its own is followed through input options
    odd = replace(clip(1, fps=F(25)), growing=True)
    normalize = plan([clip(0), odd, clip(2)], follow_seconds=2).steps[0].args
    assert normalize[normalize.index("-i") - 10 : normalize.index("-i")] == [
        "-follow",
        "1",
        "-rw_timeout",
        "2000000",
        "-protocol_whitelist",
        "file,pipe",
        "-threads",
        "1",
        "-max_pixels",
        str(7680 * 4320),
    ]
    # nothing growing, or no follow time: plain inputs and the concat demuxer's safe mode
    assert "-safe" not in plan([clip(0), clip(1)], follow_seconds=5).steps[0].args
    assert "-follow" not in plan(clips).steps[0].args and "option" not in plan(clips).concat_list
