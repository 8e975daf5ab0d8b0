"""Copy merges assembled while downloading (direct, mp4concat): the same pictures and sound as the
clips, in order and in sync, without FFmpeg; the FFmpeg way whenever the assembler cannot take a merge."""

import itertools
import subprocess
from array import array
from pathlib import Path

import pytest
from support.media import probe, stream_end, streams

from videomerge_contract import AspectRatio, ErrorReason, Fit, Quality, Strategy
from videomerge_worker.errors import WorkerError
from videomerge_worker.isobmff import top_level_boxes
from videomerge_worker.mp4concat import ClipSource, concat_layout
from videomerge_worker.mp4index import UnsupportedLayoutError, read_moov
from videomerge_worker.plan import OutputRequest

ORIGINAL = OutputRequest(Quality.ORIGINAL, AspectRatio.ORIGINAL, Fit.PAD)
BFRAMES = {"bframes-1.mp4": 300, "bframes-2.mp4": 500, "bframes-3.mp4": 700}  # name: tone in Hz
RATE = 44100


def frame_hashes(path: Path) -> list[str]:
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v:0", "-f", "framemd5", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line.rsplit(",", 1)[1].strip() for line in out.splitlines() if not line.startswith("#")]


def decoding_errors(path: Path) -> str:
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "null", "-"], capture_output=True, text=True
    ).stderr


def tone_at(samples: array, start: float, end: float) -> float:
    """The frequency of a pure tone between two times, from its zero crossings."""
    window = samples[round(start * RATE) : round(end * RATE)]
    crossings = sum(1 for a, b in itertools.pairwise(window) if (a < 0) != (b < 0))
    return crossings / 2 / (end - start)


def mono_pcm(path: Path) -> array:
    raw = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(path),
            "-map",
            "0:a:0",
            "-ac",
            "1",
            "-ar",
            str(RATE),
            "-f",
            "s16le",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return array("h", raw)


def test_an_assembled_merge_shows_every_clip_in_order_with_its_own_sound(server, merge, clip_dir):
    urls = [server.url(name, n="sync") for name in BFRAMES]
    outcome = merge(urls, ORIGINAL)
    assert outcome.strategy is Strategy.COPY
    assert decoding_errors(outcome.output) == ""
    assert frame_hashes(outcome.output) == [h for name in BFRAMES for h in frame_hashes(clip_dir / name)]
    lengths = [float(streams(clip_dir / name, "video")[0]["duration"]) for name in BFRAMES]
    (video,) = streams(outcome.output, "video")
    (audio,) = streams(outcome.output, "audio")
    assert float(video["duration"]) == pytest.approx(sum(lengths), abs=0.001)
    assert outcome.duration_seconds == pytest.approx(
        float(probe(outcome.output)["format"]["duration"]), abs=0.002
    )
    assert (outcome.width, outcome.height) == (int(video["width"]), int(video["height"]))
    assert stream_end(audio) == pytest.approx(stream_end(video), abs=0.05)
    boxes = [box.type for box in top_level_boxes(outcome.output)]
    assert boxes.index(b"moov") < boxes.index(b"mdat"), "not +faststart"
    # each clip's tone sounds from its first picture to its last: the audio did not drift at the joins
    pcm = mono_pcm(outcome.output)
    start = 0.0
    for (_, tone), length in zip(BFRAMES.items(), lengths, strict=True):
        assert tone_at(pcm, start + 0.03, start + 0.23) == pytest.approx(tone, rel=0.05)
        assert tone_at(pcm, start + length - 0.23, start + length - 0.03) == pytest.approx(tone, rel=0.05)
        start += length
    # nothing was downloaded whole: indexes and media came as byte ranges
    assert all(r.range for r in server.requests if r.query == "n=sync")


def test_the_assembled_and_the_ffmpeg_merge_show_the_same_pictures(server, merge):
    urls = [server.url(name) for name in ("a.mp4", "faststart.mp4", "b.mp4")]
    assembled = merge(urls, ORIGINAL)
    by_ffmpeg = merge(urls, ORIGINAL, assemble_copy_merges=False)
    assert frame_hashes(assembled.output) == frame_hashes(by_ffmpeg.output)
    assert assembled.duration_seconds == pytest.approx(by_ffmpeg.duration_seconds, abs=0.05)


def test_a_server_without_byte_ranges_gets_the_ffmpeg_way(server, merge, clip_dir):
    urls = [server.url(name, ranges=0) for name in ("a.mp4", "b.mp4")]
    outcome = merge(urls, ORIGINAL)
    assert outcome.strategy is Strategy.COPY
    assert frame_hashes(outcome.output) == frame_hashes(clip_dir / "a.mp4") + frame_hashes(clip_dir / "b.mp4")
    asked = [r.range for r in server.requests if r.query == "ranges=0" and r.path == "/a.mp4"]
    assert asked == ["bytes=0-16383", None]  # declined at the first answer, then downloaded whole


def test_a_merge_that_needs_reencoding_gets_the_ffmpeg_way(server, merge):
    outcome = merge([server.url("a.mp4"), server.url("small-25fps-44k.mp4")], ORIGINAL)
    assert outcome.strategy is Strategy.PARTIAL


def test_a_range_cut_short_is_resumed_where_it_stopped(server, merge, clip_dir):
    urls = [server.url("a.mp4", cut=2999), server.url("b.mp4")]
    outcome = merge(urls, ORIGINAL)
    assert frame_hashes(outcome.output) == frame_hashes(clip_dir / "a.mp4") + frame_hashes(clip_dir / "b.mp4")
    asked = [r.range for r in server.requests if r.query == "cut=2999"]
    assert asked[:2] == ["bytes=0-16383", "bytes=2999-16383"]


def test_a_clip_that_cannot_be_downloaded_fails_the_merge_naming_it(server, merge):
    missing = server.url("missing.mp4")
    with pytest.raises(WorkerError) as caught:
        merge([server.url("a.mp4"), missing], ORIGINAL)
    error = caught.value
    assert (error.reason, error.clip_index, error.permanent) == (ErrorReason.DOWNLOAD_FAILED, 1, True)
    assert error.message == f"clip 2 ({missing}): HTTP 404"


def source(path: Path) -> tuple[bytes, ClipSource]:
    boxes = {box.type: (box.start, box.size) for box in top_level_boxes(path)}
    data = path.read_bytes()
    (moov_at, moov_size), (mdat_at, mdat_size), (_, ftyp_size) = (
        boxes[b"moov"],
        boxes[b"mdat"],
        boxes[b"ftyp"],
    )
    return data[:ftyp_size], ClipSource(
        read_moov(data[moov_at : moov_at + moov_size]), mdat_at + 8, mdat_at + mdat_size
    )


def test_clips_set_up_differently_are_not_joined_at_the_container_level(clip_dir):
    ftyp, first = source(clip_dir / "a.mp4")
    _, other = source(clip_dir / "small-25fps-44k.mp4")
    with pytest.raises(UnsupportedLayoutError, match="set up differently"):
        concat_layout(ftyp, [first, other])
    _, silent = source(clip_dir / "no-audio.mp4")
    with pytest.raises(UnsupportedLayoutError, match="one video and one audio track"):
        concat_layout(ftyp, [first, silent])


def test_the_layout_places_each_clips_media_after_the_index(clip_dir):
    ftyp, a = source(clip_dir / "a.mp4")
    _, b = source(clip_dir / "b.mp4")
    layout = concat_layout(ftyp, [a, b])
    assert layout.header.startswith(ftyp)
    assert [(p.clip, p.start, p.end) for p in layout.pieces] == [
        (0, a.payload_start, a.payload_end),
        (1, b.payload_start, b.payload_end),
    ]
    assert layout.pieces[0].output_offset == len(layout.header)
    assert layout.pieces[1].output_offset == len(layout.header) + a.payload_bytes
    assert layout.size == len(layout.header) + a.payload_bytes + b.payload_bytes


def test_a_merged_file_past_4_gib_gets_64_bit_offsets(clip_dir):
    ftyp, a = source(clip_dir / "a.mp4")
    huge = 5 * 1024**3  # as if each clip's media box held 5 GiB, its samples at the start
    big = ClipSource(a.index, a.payload_start, a.payload_start + huge)
    layout = concat_layout(ftyp, [big, big])
    header = layout.header
    assert b"co64" in header and b"stco" not in header
    assert header[-16:-8] == b"\x00\x00\x00\x01mdat"  # a 64-bit media box header
    assert int.from_bytes(header[-8:], "big") == 2 * huge + 16
    moov = read_moov(header[len(ftyp) : -16])
    video, second_start = moov.tracks[0], len(a.index.tracks[0].chunk_offsets)
    shift = layout.pieces[1].output_offset - a.payload_start
    assert video.chunk_offsets[second_start] == a.index.tracks[0].chunk_offsets[0] + shift
    assert layout.size == len(header) + 2 * huge
