"""FFmpeg's protocol whitelist is an input option: it guards only the next ``-i``, so every input has one."""

import subprocess

import pytest

from videomerge_contract import AspectRatio, Quality
from videomerge_worker.clip import Clip
from videomerge_worker.ffmpeg_args import PROTOCOLS
from videomerge_worker.plan import OutputRequest, plan_merge
from videomerge_worker.probe import probe_clip

pytestmark = pytest.mark.unit


def _second_input_from(server, args: list[str]) -> list[str]:
    """The planned re-encode with its second input pointed at an http URL."""
    inputs = [i for i, a in enumerate(args) if a == "-i"]
    assert len(inputs) == 2
    changed = list(args)
    changed[inputs[1] + 1] = server.url("b.mp4", probe="whitelist")
    return changed


def _requests_for_probe(server) -> int:
    return sum(1 for r in server.requests if "probe=whitelist" in r.query)


def test_a_second_input_cannot_open_a_url(server, clip_dir, tmp_path):
    clips = [probe_clip(Clip(i, name), clip_dir / name) for i, name in enumerate(("a.mp4", "rotated.mp4"))]
    request = OutputRequest(quality=Quality.LOW, aspect_ratio=AspectRatio.R16_9)
    (step,) = plan_merge(clips, request, tmp_path, tmp_path / "out.mp4").steps
    args = _second_input_from(server, step.args)

    refused = subprocess.run(["ffmpeg", *args], capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0
    assert "not on whitelist" in refused.stderr
    assert _requests_for_probe(server) == 0

    # The control: one whitelist before all inputs, as before, leaves the second one open.
    first = args.index("-protocol_whitelist")
    once = [a for i, a in enumerate(args) if a not in PROTOCOLS or i in (first, first + 1)]
    once = once[:first] + once[first + 2 :]
    once = [*once[: once.index("-i")], *PROTOCOLS, *once[once.index("-i") :]]
    subprocess.run(["ffmpeg", *once], capture_output=True, text=True, timeout=60)
    assert _requests_for_probe(server) > 0


def test_a_clip_ffmpeg_refuses_is_unsupported_media_naming_it(clip_dir):
    """ffprobe accepted it, FFmpeg's own step on it refuses: the clip is at fault (exit 42, no retry)."""
    from videomerge_contract import ErrorReason
    from videomerge_worker.errors import WorkerError
    from videomerge_worker.ffmpeg_run import run_ffmpeg

    args = ["-v", "error", *PROTOCOLS, "-i", f"file:{clip_dir / 'text.mp4'}", "-f", "null", "-"]
    with pytest.raises(WorkerError) as refused:
        run_ffmpeg(args, describe="normalize clip 2", timeout=30, clip=Clip(1, "http://x.test/t.mp4"))
    assert refused.value.reason is ErrorReason.UNSUPPORTED_MEDIA and refused.value.permanent
    assert refused.value.message.startswith("clip 2 (http://x.test/t.mp4): FFmpeg cannot read it")
    # A step that reads no one clip keeps the retryable FFmpegFailed.
    with pytest.raises(WorkerError) as failed:
        run_ffmpeg(args, describe="join", timeout=30)
    assert failed.value.reason is ErrorReason.FFMPEG_FAILED and not failed.value.permanent


def test_every_input_of_a_picture_run_carries_the_whitelist_and_the_decoder_limits(tmp_path):
    from videomerge_worker.ffmpeg_args import DECODER
    from videomerge_worker.storyboard import group_command, stack_command, tiles

    files = [tmp_path / f"clip-{i}.src" for i in range(3)]
    for args in (
        group_command(tmp_path / "m.mp4", tiles([1.0, 2.0, 3.0]), (320, 180), 3, tmp_path / "b.jpg",
                      keyframe_starts=False, font=None, poster=tmp_path / "p.jpg"),
        group_command(tmp_path / "m.mp4", tiles([1.0, 2.0, 3.0], files), (320, 180), 3, tmp_path / "b.jpg",
                      keyframe_starts=True, font=None),
        stack_command([tmp_path / "s0.png", tmp_path / "s1.png"], tmp_path / "b.jpg"),
    ):  # fmt: skip
        inputs = [i for i, a in enumerate(args) if a == "-i"]
        for previous, at in zip([-1, *inputs], inputs, strict=False):
            options = args[previous + 1 : at]
            assert "-protocol_whitelist" in options, options
            if args[at + 1].endswith((".mp4", ".src")):
                assert options[options.index("-threads") : options.index("-threads") + 4] == DECODER
