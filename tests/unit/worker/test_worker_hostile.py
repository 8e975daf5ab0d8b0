"""Crafted MP4s against the real ``videomerge-worker merge``: bounded memory and time, and a clean ending.

Each crafted clip (see crafted_clips) is merged with a healthy one by the installed command, its whole
process tree's peak resident memory measured from /proc and by the kernel's high-water mark. The merge
must end as a merge (exit 0) or as UnsupportedMedia naming the crafted clip (exit 42): never Internal,
never a retry, never an out-of-memory kill.
"""

import time
import tracemalloc

import crafted_clips
import pytest
from support.http_server import serve
from support.media import streams
from support.peak_rss import MIB
from support.worker_cli import merge_measured as merge

from videomerge_contract.resource import EXIT_OK, EXIT_PERMANENT_FAILURE
from videomerge_worker.isobmff import index_problem, truncation_problem
from videomerge_worker.mp4index import UnsupportedLayoutError, read_moov

pytestmark = pytest.mark.unit

PEAK_LIMIT_BYTES = 250 * MIB
TIME_LIMIT_SECONDS = 60.0


@pytest.fixture(scope="module")
def hostile_dir(clip_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    clip = (clip_dir / "a.mp4").read_bytes()  # its moov is its last box
    (folder / "a.mp4").write_bytes(clip)
    for name, make in {**crafted_clips.HOSTILE, **crafted_clips.HARMLESS}.items():
        (folder / f"{name}.mp4").write_bytes(make(clip))
    return folder


@pytest.fixture(scope="module")
def hostile_server(hostile_dir):
    with serve(hostile_dir) as running:
        yield running


@pytest.fixture
def merge_measured(hostile_server, tmp_path):
    def run(name: str, *options: str):
        urls = [hostile_server.url(f"{name}.mp4"), hostile_server.url("a.mp4")]
        return merge(tmp_path, urls, *options, timeout=TIME_LIMIT_SECONDS * 2, DOWNLOAD_ATTEMPTS="1")

    return run


@pytest.mark.parametrize("name", sorted(crafted_clips.HOSTILE))
def test_a_crafted_clip_is_refused_or_merged_within_bounds(merge_measured, name):
    measured = merge_measured(name)
    assert measured.peak_bytes < PEAK_LIMIT_BYTES, f"{measured.peak_bytes / MIB:.0f} MiB"
    assert measured.seconds < TIME_LIMIT_SECONDS
    assert measured.returncode in (EXIT_OK, EXIT_PERMANENT_FAILURE), measured.stderr
    if measured.returncode == EXIT_PERMANENT_FAILURE:
        line = measured.stderr.strip().splitlines()[-1]
        assert line.startswith("videomerge-worker: UnsupportedMedia: clip 1 (http://127.0.0.1:"), line
        assert f"/{name}.mp4)" in line


@pytest.mark.parametrize("name", sorted(crafted_clips.HARMLESS))
def test_a_valid_clip_followed_by_stray_bytes_merges_by_copy(merge_measured, name, tmp_path):
    measured = merge_measured(name, "--quality", "original", "--aspect-ratio", "original")
    assert measured.returncode == EXIT_OK, measured.stderr
    assert '"strategy": "copy"' in measured.stdout
    assert measured.peak_bytes < PEAK_LIMIT_BYTES
    (video,) = streams(tmp_path / "merged.mp4", "video")
    assert float(video["duration"]) == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize("name", sorted(set(crafted_clips.HOSTILE) - {"box-flood-top-level"}))
def test_the_index_parser_refuses_crafted_tables_before_expanding_them(hostile_dir, name):
    _, moov = crafted_clips.split((hostile_dir / f"{name}.mp4").read_bytes())
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(UnsupportedLayoutError):
            read_moov(moov, media_bytes=10_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < len(moov) * 3 + 4 * MIB
    assert time.monotonic() - started < 5


def test_a_flood_of_top_level_boxes_is_refused_after_a_bounded_walk(hostile_dir):
    started = time.monotonic()
    problem = truncation_problem(hostile_dir / "box-flood-top-level.mp4")
    assert problem is not None and "more than" in problem
    assert time.monotonic() - started < 5


def test_an_index_too_large_for_ffmpeg_is_refused_before_ffprobe_reads_it(hostile_dir, tmp_path):
    assert index_problem(hostile_dir / "a.mp4") is None
    started = time.monotonic()
    assert "more than the 33554432 a clip may have" in (
        index_problem(hostile_dir / "huge-valid-index.mp4") or ""
    )
    many = tmp_path / "many-samples.mp4"
    many.write_bytes(crafted_clips.huge_valid_index((hostile_dir / "a.mp4").read_bytes(), samples=3_000_000))
    assert "declares 3000048 samples, more than the 2000000" in (index_problem(many) or "")  # + the audio
    assert time.monotonic() - started < 5
