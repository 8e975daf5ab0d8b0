"""The worker image as built by hack/images.sh: its size, and its own FFmpeg merging real clips of every
codec the worker tests make (copy, partial and re-encode plans) and drawing a poster-style picture."""

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.http_server import FileServer
from support.media import ClipSpec, make_clip, stream_end, streams

IMAGE = f"videomerge/worker:{os.environ.get('VIDEOMERGE_IMAGE_TAG', 'dev')}"
MAX_IMAGE_BYTES = 350 * 1000**2  # docker's MB

CLIPS = {
    "a.mp4": ClipSpec(tone_hz=440),
    "b.mp4": ClipSpec(tone_hz=660),
    "no-audio.mp4": ClipSpec(acodec=None),
    "pcm.mov": ClipSpec(acodec="pcm_s16le", sample_rate=32000, channels=1),
    "hevc.mp4": ClipSpec(vcodec="libx265", sample_rate=44100, channels=1),
    "vp9-opus.webm": ClipSpec(width=180, height=320, vcodec="libvpx-vp9", acodec="libopus"),
    "mpeg4-22k.mkv": ClipSpec(width=176, height=144, fps="15", vcodec="mpeg4", sample_rate=22050),
    "av1-vorbis.mkv": ClipSpec(
        vcodec="libaom-av1", acodec="libvorbis", extra=("-cpu-used", "8", "-row-mt", "1", "-b:v", "200k")
    ),
    "mjpeg-mp3.avi": ClipSpec(fps="25", vcodec="mjpeg", pix_fmt="yuvj420p", acodec="libmp3lame"),
    "rotated.mp4": ClipSpec(rotate=90),
    "uhd.mp4": ClipSpec(width=3840, height=2160, profile="high"),
    "hd.mp4": ClipSpec(width=1920, height=1080, profile="high"),
}


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Clips, made by the host's FFmpeg, in a folder the image's user (uid 10001) may write to."""
    folder = tmp_path_factory.mktemp("image")
    for name, spec in CLIPS.items():
        make_clip(folder / name, spec)
    folder.chmod(0o777)
    return folder


@pytest.fixture(scope="module")
def origin(work: Path) -> Iterator[FileServer]:
    with FileServer(work) as server:
        yield server


def run_image(
    work: Path, *args: str, entrypoint: str | None = None, limits: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """The image as the chart runs it (read-only root, uid 10001, /scratch), with ``work`` as /scratch and
    the host's loopback as its network; ``limits``: docker's cgroup limits (``--memory``, ``--cpus``)."""
    cmd = ["docker", "run", "--rm", "--network", "host", "--read-only", *limits, "-v", f"{work}:/scratch"]
    cmd += ["-e", "VIDEOMERGE_ALLOW_PRIVATE_URLS=true", "-e", "VIDEOMERGE_ASSEMBLE_COPY_MERGES=false"]
    cmd += [*(["--entrypoint", entrypoint] if entrypoint else []), IMAGE, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def test_the_worker_image_stays_small():
    size = int(
        subprocess.run(
            ["docker", "image", "inspect", "-f", "{{.Size}}", IMAGE],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    assert size <= MAX_IMAGE_BYTES, f"{IMAGE} is {size / 1000**2:.0f} MB"


@pytest.mark.parametrize(
    ("names", "aspect", "strategy", "size"),
    [
        (("a.mp4", "b.mp4"), "original", "copy", (320, 240)),
        (("a.mp4", "pcm.mov", "no-audio.mp4", "b.mp4"), "original", "partial", (320, 240)),
        (
            ("hevc.mp4", "vp9-opus.webm", "mpeg4-22k.mkv", "av1-vorbis.mkv", "mjpeg-mp3.avi", "rotated.mp4"),
            "16:9",
            "reencode",
            (426, 240),  # the largest clip is 320x240: its short side, in 16:9
        ),
    ],
    ids=["copy", "partial", "reencode"],
)
def test_the_images_ffmpeg_merges_real_clips(work, origin, names, aspect, strategy, size):
    output = f"merged-{strategy}.mp4"
    result = run_image(
        work, "merge", "--aspect-ratio", aspect, "--output", f"/scratch/{output}", *map(origin.url, names)
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert (outcome["success"], outcome["strategy"], outcome["clips_merged"]) == (True, strategy, len(names))
    (video,) = streams(work / output, "video")
    (audio,) = streams(work / output, "audio")
    assert (video["codec_name"], audio["codec_name"]) == ("h264", "aac")
    assert (video["width"], video["height"]) == size
    assert stream_end(video) == pytest.approx(len(names), abs=0.1)  # every clip lasts one second


def test_the_images_ffmpeg_draws_a_captioned_contact_sheet(work):
    # What a poster or storyboard takes: frame selection, scaling, text (FreeType, fontconfig's default
    # font), tiling, and a JPEG out through the image2 muxer.
    graph = "select=eq(n\\,0)+eq(n\\,15),scale=160:-2,drawtext=text=clip:fontsize=20:fontcolor=white,tile=2x1"
    result = run_image(
        work, "-v", "error", "-i", "file:/scratch/a.mp4", "-vf", graph, "-frames:v", "1",
        "-y", "/scratch/sheet.jpg", entrypoint="ffmpeg",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (picture,) = streams(work / "sheet.jpg", "video")
    assert (picture["codec_name"], picture["width"], picture["height"]) == ("mjpeg", 320, 120)


def test_the_worker_plans_within_its_containers_memory_and_cpu_limits(work, origin):
    # 2160p decoded for a 1080p merge: beyond the 250 MiB default budget, within 3/4 of a 512 MiB limit
    urls = [origin.url("uhd.mp4"), origin.url("hd.mp4")]
    merge = ("merge", "--quality", "high", "--output", "/scratch/merged-limits.mp4", *urls)
    unlimited = run_image(work, *merge)
    assert unlimited.returncode == 42, unlimited.stderr
    assert "UnsupportedMedia: clip 1 (" in unlimited.stderr
    assert "decoding its 3840×2160 frames and re-encoding them takes about" in unlimited.stderr
    limited = run_image(work, *merge, limits=("--memory", "512m", "--memory-swap", "512m", "--cpus", "1"))
    assert limited.returncode == 0, limited.stderr  # not OOM-killed (137) either
    assert "memory budget 403 MB" in limited.stderr and "1 CPUs" in limited.stderr
    assert "threads=1" in limited.stderr
    (video,) = streams(work / "merged-limits.mp4", "video")
    assert (video["width"], video["height"]) == (1920, 1080)
