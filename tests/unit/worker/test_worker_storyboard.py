"""The poster and the storyboard: one tile per clip, in order, each its clip's first frame (real FFmpeg)."""

import subprocess
from pathlib import Path

import pytest
from support.http_server import serve
from support.media import concat_copy_command

from videomerge_contract import AspectRatio, Quality, Strategy
from videomerge_contract.objects import picture_keys
from videomerge_worker.pipeline import merge_in, workspace
from videomerge_worker.plan import OutputRequest
from videomerge_worker.progress import discard_progress
from videomerge_worker.storyboard import (
    BORDER,
    columns_for,
    group_command,
    length_text,
    make_pictures,
    tile_size,
    tiles,
)

pytestmark = pytest.mark.unit

# Each test clip's first frame has its own colour; every later frame is grey. A tile showing grey would
# be a frame from inside a clip; a tile of the wrong colour, the wrong clip.
COLOURS = {"red": (255, 0, 0), "lime": (0, 255, 0), "blue": (0, 0, 255)}
GREY = (128, 128, 128)
SIZE = (320, 180)
FPS = 25


def make_clip(path: Path, colour: str, seconds: float) -> Path:
    w, h = SIZE
    graph = (
        f"color=c={colour}:s={w}x{h}:r={FPS}:d={1 / FPS}[first];"
        f"color=c=gray:s={w}x{h}:r={FPS}:d={seconds - 1 / FPS}[rest];"
        "[first][rest]concat=n=2:v=1:a=0[v]"
    )
    subprocess.run(
        [
            *(
                "ffmpeg",
                "-v",
                "error",
                "-y",
                "-filter_complex",
                graph,
                "-f",
                "lavfi",
                "-i",
                f"sine=d={seconds}",
            ),
            *("-map", "[v]", "-map", "0:a", "-c:v", "libx264", "-preset", "ultrafast", "-g", "250"),
            *("-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)),
        ],
        check=True,
    )
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[tuple[Path, str, float]]:
    root = tmp_path_factory.mktemp("storyboard-clips")
    specs = [("red", 1.0), ("lime", 1.6), ("blue", 2.2)]
    return [
        (make_clip(root / f"{colour}.mp4", colour, seconds), colour, seconds) for colour, seconds in specs
    ]


def copy_merge(files: list[Path], output: Path) -> Path:
    subprocess.run(concat_copy_command(files, output), check=True)
    return output


def reencode_merge(files: list[Path], output: Path) -> Path:
    """One encode of all clips, keyframes only every 10 s: no clip but the first starts on one."""
    inputs = [arg for f in files for arg in ("-i", str(f))]
    graph = "".join(f"[{i}:v][{i}:a]" for i in range(len(files))) + f"concat=n={len(files)}:v=1:a=1[v][a]"
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", graph, "-map", "[v]", "-map", "[a]"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-g", "250", "-sc_threshold", "0", "-c:a", "aac"),
            str(output),
        ],
        check=True,
    )
    return output


def rgb(image: Path) -> tuple[int, int, bytes]:
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", str(image)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    width, height = (int(v) for v in probe.split(","))
    pixels = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(image), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True,
        capture_output=True,
    ).stdout
    return width, height, pixels


def pixel(image: tuple[int, int, bytes], x: int, y: int) -> tuple[int, int, int]:
    width, _, data = image
    offset = (y * width + x) * 3
    return data[offset], data[offset + 1], data[offset + 2]


def close(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    return all(abs(p - q) < 60 for p, q in zip(a, b, strict=True))


def tile_colour(image, position: int, columns: int) -> tuple[int, int, int]:
    """The colour a third of the way down the tile (above its label)."""
    width, height = tile_size(*SIZE)
    cell_w, cell_h = width + 2 * BORDER, height + 2 * BORDER
    x = (position % columns) * cell_w + BORDER + width // 2
    y = (position // columns) * cell_h + BORDER + height // 3
    return pixel(image, x, y)


@pytest.mark.parametrize("how", ["copy", "reencode"])
def test_one_tile_per_clip_in_order_each_its_first_frame(clips, tmp_path, how):
    files = [c[0] for c in clips]
    merged = (copy_merge if how == "copy" else reencode_merge)(files, tmp_path / "merged.mp4")
    pictures = make_pictures(
        merged, [c[2] for c in clips], SIZE, tmp_path, keyframe_starts=how == "copy", timeout=60
    )
    board = rgb(pictures.storyboard)
    tile_w, tile_h = tile_size(*SIZE)
    assert board[:2] == (3 * (tile_w + 2 * BORDER), tile_h + 2 * BORDER)
    for position, (_, colour, _) in enumerate(clips):
        seen = tile_colour(board, position, columns=3)
        assert close(seen, COLOURS[colour]), (position, colour, seen)
    # The label's dark box sits at the bottom left of each tile, over the clip's colour.
    label = pixel(board, BORDER + 5, BORDER + tile_h - 14)
    assert sum(label) < sum(COLOURS["red"]) - 60, label
    poster = rgb(pictures.poster)
    assert poster[:2] == SIZE and close(pixel(poster, SIZE[0] // 2, SIZE[1] // 2), COLOURS["red"])


def test_many_clips_are_drawn_in_groups_then_stacked(clips, tmp_path):
    order = [clips[i % 3] for i in range(19)]
    merged = copy_merge([c[0] for c in order], tmp_path / "merged.mp4")
    pictures = make_pictures(merged, [c[2] for c in order], SIZE, tmp_path, keyframe_starts=True, timeout=60)
    board = rgb(pictures.storyboard)
    columns = columns_for(19)
    tile_w, tile_h = tile_size(*SIZE)
    assert columns == 8 and board[:2] == (8 * (tile_w + 2 * BORDER), 3 * (tile_h + 2 * BORDER))
    for position, (_, colour, _) in enumerate(order):
        assert close(tile_colour(board, position, columns), COLOURS[colour]), position
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".png") == []  # group strips removed


def test_the_command_seeks_each_clip_and_labels_it():
    group = tiles([4.0, 65.0, 0.5])
    assert [(t.index, t.start, t.length) for t in group] == [(0, 0.0, 4.0), (1, 4.0, 65.0), (2, 69.0, 0.5)]
    args = group_command(
        Path("/w/merged.mp4"), group, (320, 180), 3, Path("/w/s.jpg"), keyframe_starts=True, font="/f.ttf"
    )
    seeks = [args[i + 1] for i, a in enumerate(args) if a == "-ss"]
    assert seeks == ["0.500", "4.500", "69.250"]
    assert args.count("-noaccurate_seek") == 3 and args.count("file:/w/merged.mp4") == 3
    graph = args[args.index("-filter_complex") + 1]
    assert "text='#1  4.0 s'" in graph and "text='#2  1m05s'" in graph and "text='#3  0.5 s'" in graph
    assert "xstack=inputs=3:layout=0_0|328_0|656_0" in graph
    assert args[-1] == "file:/w/s.jpg" and "-protocol_whitelist" in args
    accurate = group_command(
        Path("/w/m.mp4"), group, (320, 180), 3, Path("/w/s.jpg"), keyframe_starts=False, font=None
    )
    assert [accurate[i + 1] for i, a in enumerate(accurate) if a == "-ss"] == ["4.040", "69.040"]
    assert (
        "-noaccurate_seek" not in accurate
        and "drawtext" not in accurate[accurate.index("-filter_complex") + 1]
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.5, "0.5 s"), (12.34, "12.3 s"), (59.9, "59.9 s"), (60.0, "1m00s"), (3725, "62m05s")],
)
def test_lengths_are_written_without_drawtext_syntax(seconds, text):
    assert length_text(seconds) == text


def test_layout_and_keys():
    assert [columns_for(n) for n in (1, 3, 4, 5, 16, 17, 200)] == [1, 3, 4, 4, 4, 8, 8]
    assert tile_size(1920, 1080) == (320, 180) and tile_size(1080, 1920) == (320, 568)
    assert picture_keys("merges/ns/vm-1.mp4") == (
        "merges/ns/vm-1.poster.jpg",
        "merges/ns/vm-1.storyboard.jpg",
    )


@pytest.fixture(scope="module")
def coloured_server(clips):
    with serve(clips[0][0].parent) as running:
        yield running


@pytest.mark.parametrize("assemble", [True, False])
def test_a_merge_asked_for_pictures_has_them_made_and_each_tile_is_its_clip(
    clips, coloured_server, settings, monkeypatch, assemble
):
    """Assembled, the pictures are made from the clips' probe copies while the rest downloads; the
    FFmpeg way, from the merged file once it is written. Either way: the same tiles, in order."""
    from videomerge_worker import direct

    early: list[object] = []
    made_by_assembler = direct.make_pictures
    monkeypatch.setattr(
        direct, "make_pictures", lambda *a, **k: early.append(k["clip_files"]) or made_by_assembler(*a, **k)
    )
    used = settings.model_copy(update={"assemble_copy_merges": assemble})
    urls = [coloured_server.url(path.name) for path, _, _ in clips]
    with workspace(used) as work_dir:
        outcome = merge_in(
            work_dir, urls, OutputRequest(Quality.ORIGINAL, AspectRatio.ORIGINAL), used, discard_progress,
            pictures=True,
        )  # fmt: skip
        assert outcome.strategy is Strategy.COPY and outcome.pictures is not None
        made = outcome.pictures.result()
        assert made is not None
        board, poster = rgb(made.storyboard), rgb(made.poster)
    assert len(early) == (1 if assemble else 0) and all(len(files) == len(clips) for files in early)
    for position, (_, colour, _) in enumerate(clips):
        seen = tile_colour(board, position, columns=3)
        assert close(seen, COLOURS[colour]), (assemble, position, colour, seen)
    assert poster[:2] == SIZE and close(pixel(poster, SIZE[0] // 2, SIZE[1] // 2), COLOURS["red"])


def test_tiles_read_from_the_clips_own_files_are_not_sought():
    files = [Path("/w/clip-000.index"), Path("/w/clip-001.index")]
    args = group_command(
        files[0], tiles([1.0, 2.0], files), (320, 180), 2, Path("/w/s.jpg"), keyframe_starts=True, font=None
    )
    assert "-ss" not in args and "-noaccurate_seek" not in args
    assert [args[i + 1] for i, a in enumerate(args) if a == "-i"] == [f"file:{f}" for f in files]
    assert args[args.index("-max_error_rate") + 1] == "1"  # bytes past the first frames may be missing
