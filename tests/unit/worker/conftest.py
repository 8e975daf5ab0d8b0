"""Fixtures for the worker tests: a library of tiny generated clips served over loopback HTTP."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support.http_server import FileServer, serve
from support.media import ClipSpec, make_clip
from support.minio import Minio, MinioUnavailableError, running_minio

from videomerge_worker.outcome import MergeOutcome
from videomerge_worker.pipeline import merge_in, workspace
from videomerge_worker.plan import OutputRequest
from videomerge_worker.progress import ProgressSink, discard_progress
from videomerge_worker.settings import WorkerSettings

# One second each, QVGA or smaller: the whole library takes a couple of seconds to make.
LIBRARY: dict[str, ClipSpec] = {
    "a.mp4": ClipSpec(tone_hz=440),
    "b.mp4": ClipSpec(tone_hz=660),
    "c.mp4": ClipSpec(tone_hz=880),
    "small-25fps-44k.mp4": ClipSpec(width=160, height=120, fps="25", sample_rate=44100),
    "no-audio.mp4": ClipSpec(acodec=None),
    "short-audio.mp4": ClipSpec(audio_seconds=0.5),
    "pcm.mov": ClipSpec(container="mov", acodec="pcm_s16le", sample_rate=32000, channels=1),
    "hevc.mp4": ClipSpec(vcodec="libx265", sample_rate=44100, channels=1),
    "vp9-portrait.webm": ClipSpec(width=180, height=320, vcodec="libvpx-vp9", acodec="libopus"),
    "mpeg4-22k.mkv": ClipSpec(width=176, height=144, fps="15", vcodec="mpeg4", sample_rate=22050),
    "rotated.mp4": ClipSpec(rotate=90),
    "faststart.mp4": ClipSpec(faststart=True),
    # B-frames (composition offsets, a video edit) and AAC whose length is not a whole number of frames
    # (priming and padding): what the container-level concat must join without a glitch.
    **{
        f"bframes-{n}.mp4": ClipSpec(
            fps="25", seconds=seconds, sample_rate=44100, tone_hz=tone, extra=("-preset", "fast", "-bf", "2")
        )
        for n, seconds, tone in ((1, 1.3, 300), (2, 0.9, 500), (3, 1.1, 700))
    },
}


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clips")
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda item: make_clip(folder / item[0], item[1]), LIBRARY.items()))
    (folder / "text.mp4").write_text("this is not a video\n" * 50)
    (folder / "empty.mp4").write_bytes(b"")
    whole = (folder / "a.mp4").read_bytes()  # moov at the end: cut in half, the index is gone
    (folder / "truncated.mp4").write_bytes(whole[: len(whole) // 2])
    whole = (folder / "faststart.mp4").read_bytes()  # moov first: cut, the index promises missing data
    (folder / "truncated-faststart.mp4").write_bytes(whole[: len(whole) * 2 // 3])
    return folder


@pytest.fixture(scope="session")
def server(clip_dir: Path) -> Iterator[FileServer]:
    with serve(clip_dir) as running:
        yield running


@pytest.fixture(scope="session")
def minio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Minio]:
    try:
        with running_minio(tmp_path_factory.mktemp("minio")) as running:
            yield running
    except MinioUnavailableError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    path = tmp_path / "scratch"
    path.mkdir()
    return path


@pytest.fixture
def settings(scratch: Path) -> WorkerSettings:
    return WorkerSettings(
        allow_private_urls=True,  # the test server is on 127.0.0.1
        work_dir=scratch,
        download_read_timeout_seconds=5,
        download_connect_timeout_seconds=2,
        ffmpeg_timeout_seconds=60,
        # The worker under test is this test process, far larger than a worker and growing with every
        # test: no budget it could keep. The budget is measured where it holds, on the worker's own
        # process (test_worker_memory, test_worker_hostile).
        memory_budget_bytes=64 * 1024**3,
    )


@pytest.fixture
def merge(settings: WorkerSettings, scratch: Path, tmp_path: Path):
    """merge(urls, request=...) → MergeOutcome with the output kept outside the (then empty) scratch."""

    def run(
        urls: list[str],
        request: OutputRequest | None = None,
        progress: ProgressSink | None = None,
        **overrides: object,
    ) -> MergeOutcome:
        used = settings.model_copy(update=overrides)
        try:
            with workspace(used) as work_dir:
                outcome = merge_in(
                    work_dir,
                    urls,
                    request or OutputRequest(),
                    used,
                    progress or discard_progress,
                    backoff_seconds=0.01,
                )
                kept = tmp_path / f"out-{len(list(tmp_path.glob('out-*')))}.mp4"
                outcome.output.rename(kept)
                return MergeOutcome(**{**outcome.__dict__, "output": kept})
        finally:
            assert list(scratch.iterdir()) == [], "temporary files left behind"

    return run
