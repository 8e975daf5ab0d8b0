"""MP4/MOV box walks: truncation, and when a downloading index-first file can be read already."""

import subprocess

import pytest
from support.media import ClipSpec, make_clip

from videomerge_worker.isobmff import IndexWatch, top_level_boxes, truncation_problem


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("layouts")
    index_last = make_clip(folder / "index-last.mp4", ClipSpec(seconds=2))
    index_first = make_clip(folder / "index-first.mp4", ClipSpec(seconds=2, faststart=True))
    fragmented = folder / "fragmented.mp4"
    fragment = ["-movflags", "+frag_keyframe+empty_moov+default_base_moof"]
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(index_last), "-c", "copy", *fragment, str(fragmented)], check=True
    )
    return {"last": index_last, "first": index_first, "fragmented": fragmented}


def grow(watch, path, step=1024):
    """Feeds the watch the lengths a download would reach; returns the first length found ready."""
    size = path.stat().st_size
    for length in range(step, size + step, step):
        if watch.ready(min(length, size)):
            return min(length, size)
    return None


def test_index_first_file_is_ready_once_index_and_slack_are_there(layouts):
    path = layouts["first"]
    boxes = top_level_boxes(path)
    assert [b.type for b in boxes][:2] == [b"ftyp", b"moov"]
    media_start = next(b.start for b in boxes if b.type == b"mdat")
    ready_at = grow(IndexWatch(path, slack=8192), path)
    assert media_start + 8192 <= ready_at < media_start + 8192 + 1024


@pytest.mark.parametrize("layout", ["last", "fragmented"])
def test_index_last_and_fragmented_files_are_never_read_early(layouts, layout):
    watch = IndexWatch(layouts[layout], slack=0)
    assert grow(watch, layouts[layout]) is None
    assert watch.hopeless


def test_other_formats_are_never_read_early(tmp_path):
    text = tmp_path / "a.txt"
    text.write_text("hello, this is text and not a box at all\n" * 10)
    watch = IndexWatch(text, slack=0)
    assert grow(watch, text, step=16) is None and watch.hopeless


def test_truncation_is_found_from_the_boxes(layouts, tmp_path):
    whole = layouts["first"].read_bytes()
    assert truncation_problem(layouts["first"]) is None
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[:-100])
    assert truncation_problem(cut) == f"the file is truncated ({len(whole) - 100} of {len(whole)} bytes)"
    no_index = tmp_path / "no-index.mp4"
    no_index.write_bytes(layouts["last"].read_bytes()[:4000])
    assert "truncated" in truncation_problem(no_index)
