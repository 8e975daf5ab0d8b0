"""Byte ranges copied socket → file by the kernel: exact bytes, the guard on the connection, and the
ordinary downloader taking over whatever the copy cannot do."""

import os
import time

import pytest

from videomerge_contract import AspectRatio, Quality, Strategy
from videomerge_worker.clip import Clip
from videomerge_worker.download import Downloader, FileWindow
from videomerge_worker.plan import OutputRequest
from videomerge_worker.rangecopy import RangeCopyError, copy_range

pytestmark = pytest.mark.unit


def copy(url, start, length, fd, offset, admit=lambda address: True, on_bytes=lambda n: None):
    return copy_range(
        url,
        start,
        length,
        fd,
        offset,
        resolve=lambda host, port: ["127.0.0.1"],
        admit=admit,
        headers={},
        connect_timeout=2,
        read_timeout=2,
        deadline=time.monotonic() + 30,
        on_bytes=on_bytes,
    )


@pytest.fixture
def target(tmp_path):
    fd = os.open(tmp_path / "out", os.O_RDWR | os.O_CREAT)
    yield fd
    os.close(fd)


def test_a_range_lands_at_its_offset(server, clip_dir, target):
    source = (clip_dir / "a.mp4").read_bytes()
    counted = []
    assert copy(server.url("a.mp4"), 1000, 50_000, target, 7, on_bytes=counted.append) == 50_000
    assert os.pread(target, 50_000, 7) == source[1000:51_000]
    assert sum(counted) == 50_000


def test_a_peer_the_guard_does_not_admit_is_not_read(server, target):
    assert copy(server.url("a.mp4"), 0, 1000, target, 0, admit=lambda address: False) is None
    assert os.fstat(target).st_size == 0


@pytest.mark.parametrize("knobs", [{"ranges": 0}, {"status": 503}, {"redirect": "/b.mp4"}])
def test_answers_other_than_the_exact_range_are_left_to_the_downloader(server, target, knobs):
    assert copy(server.url("a.mp4", **knobs), 0, 1000, target, 0) is None
    assert os.fstat(target).st_size == 0


def test_a_connection_cut_midway_says_how_much_is_in_place(server, clip_dir, target):
    source = (clip_dir / "a.mp4").read_bytes()
    with pytest.raises(RangeCopyError) as cut:
        copy(server.url("a.mp4", cut=30_000, probe="rangecopy"), 0, 60_000, target, 0)
    assert 0 < cut.value.written <= 30_000
    assert os.pread(target, cut.value.written, 0) == source[: cut.value.written]


def test_the_downloader_resumes_after_a_cut_copy_and_follows_redirects(server, settings, clip_dir, target):
    source = (clip_dir / "a.mp4").read_bytes()
    with Downloader(settings, backoff_seconds=0.01) as downloader:
        for n, url in enumerate(
            [server.url("a.mp4", cut=20_000, probe="resume"), server.url("a.mp4", redirect="/a.mp4")]
        ):
            window = FileWindow(target, 100_000 * n)
            assert downloader.fetch_into(Clip(0, url), window, start=500, length=60_000) == 60_000
            assert os.pread(target, 60_000, 100_000 * n) == source[500:60_500]


def test_assembled_copy_merges_take_the_kernel_path(server, merge, monkeypatch):
    import videomerge_worker.download as download

    copied, original = [], download.copy_range

    def counting(*args, **kwargs):
        result = original(*args, **kwargs)
        copied.append(result)
        return result

    monkeypatch.setattr(download, "copy_range", counting)
    outcome = merge(
        [server.url("bframes-1.mp4"), server.url("bframes-2.mp4")],
        OutputRequest(quality=Quality.ORIGINAL, aspect_ratio=AspectRatio.ORIGINAL),
    )
    assert outcome.strategy is Strategy.COPY
    assert copied and all(isinstance(n, int) and n > 0 for n in copied)
