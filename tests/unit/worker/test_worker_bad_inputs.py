"""Bad inputs fail the merge with the right reason, name the clip, and leave no temporary files."""

import pytest

from videomerge_contract import ErrorReason
from videomerge_worker.clip import Clip
from videomerge_worker.download import Downloader
from videomerge_worker.errors import WorkerError, without_local_paths
from videomerge_worker.urlguard import GuardedBackend, refusal


def failure(merge, urls, **overrides) -> WorkerError:
    with pytest.raises(WorkerError) as caught:
        merge(urls, **overrides)  # the fixture asserts that the scratch directory is empty afterwards
    return caught.value


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("text.mp4", "not a readable video"),
        ("empty.mp4", "the file is empty"),
        ("truncated.mp4", "not a readable video"),
        ("truncated-faststart.mp4", "the file is truncated"),
    ],
)
def test_files_that_are_not_playable_videos(server, merge, name, problem):
    url = server.url(name)
    error = failure(merge, [server.url("a.mp4"), url, server.url("b.mp4")])
    assert error.reason is ErrorReason.UNSUPPORTED_MEDIA and error.permanent
    assert (error.clip_index, error.clip_url) == (1, url)
    assert error.message.startswith(f"clip 2 ({url}): ") and problem in error.message
    # The user hears about their clip, never about the worker's scratch files.
    assert "file:" not in error.message and ".src" not in error.message, error.message


def test_local_paths_are_taken_out_of_tool_messages():
    assert without_local_paths("file:/scratch/videomerge-ab12/clip-001.src: Invalid data found") == (
        "Invalid data found"
    )
    assert (
        without_local_paths("https://cdn.example.com/v/a.mp4 at /a/b")
        == "https://cdn.example.com/v/a.mp4 at the downloaded file"
    )
    assert without_local_paths("moov atom not found in /tmp/w/clip-002.src") == (
        "moov atom not found in the downloaded file"
    )


def test_missing_file(server, merge):
    url = server.url("nowhere.mp4")
    error = failure(merge, [url])
    assert (error.reason, error.permanent, error.clip_index) == (ErrorReason.DOWNLOAD_FAILED, True, 0)
    assert error.message == f"clip 1 ({url}): HTTP 404"


def test_server_errors_are_retried_then_reported_as_transient(server, merge):
    error = failure(merge, [server.url("a.mp4", status=502)], download_attempts=3)
    assert (error.reason, error.permanent) == (ErrorReason.DOWNLOAD_FAILED, False)
    assert "HTTP 502 (after 3 attempts)" in error.message
    assert sum(1 for r in server.requests if r.query == "status=502") == 3


def test_slow_server_hits_the_read_timeout(server, merge):
    error = failure(
        merge, [server.url("a.mp4", delay=2)], download_read_timeout_seconds=0.3, download_attempts=2
    )
    assert (error.reason, error.permanent) == (ErrorReason.TIMEOUT, False)
    assert "timed out" in error.message


def test_dripping_server_hits_the_whole_download_deadline(server, merge):
    error = failure(merge, [server.url("a.mp4", drip=0.2)], download_timeout_seconds=0.5)
    assert (error.reason, error.permanent) == (ErrorReason.TIMEOUT, False)
    assert "longer than 0.5 s" in error.message


def test_oversize_clip(server, merge):
    error = failure(merge, [server.url("a.mp4")], max_clip_bytes=5000)
    assert (error.reason, error.permanent) == (ErrorReason.DOWNLOAD_FAILED, True)
    assert "larger than the 5000-byte limit" in error.message


def test_too_long_in_total(server, merge):
    error = failure(merge, [server.url("a.mp4"), server.url("b.mp4")], max_total_duration_seconds=1.5)
    assert (error.reason, error.permanent) == (ErrorReason.INVALID_INPUT, True)
    assert "more than the 1.5 s limit" in error.message


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/a.mp4", "file:///etc/passwd", "gopher://127.0.0.1:70/"])
def test_non_http_scheme_fails_before_any_download(server, merge, url):
    before = len(server.requests)
    error = failure(merge, [server.url("a.mp4"), url])
    assert (error.reason, error.permanent, error.clip_index) == (ErrorReason.INVALID_INPUT, True, 1)
    assert "only http and https" in error.message
    assert len(server.requests) == before


def test_loopback_is_refused_without_allow_private_urls(server, merge):
    before = len(server.requests)
    error = failure(merge, [server.url("a.mp4")], allow_private_urls=False)
    assert (error.reason, error.permanent) == (ErrorReason.DOWNLOAD_FAILED, True)
    assert "127.0.0.1 is not a public address, which is not fetched" in error.message
    assert len(server.requests) == before, "the guard let a request through"


def test_too_many_redirects(server, merge):
    error = failure(merge, [server.url("a.mp4", redirect=server.url("a.mp4"), hops=10)], max_redirects=3)
    assert (error.reason, error.permanent) == (ErrorReason.DOWNLOAD_FAILED, True)
    assert "more than 3 redirects" in error.message


def test_a_few_redirects_are_followed(server, merge):
    outcome = merge([server.url("x.mp4", redirect=server.url("a.mp4"), hops=2)])
    assert outcome.clips_merged == 1


# The guard itself, on the downloader: 127.0.0.1 stands in for a public address so that the test stays on
# loopback; every other non-public address keeps the normal rule.
def only_127_0_0_1_is_public(address):
    return None if str(address) == "127.0.0.1" else refusal(address)


@pytest.mark.parametrize("target", ["http://127.0.0.2:{port}/a.mp4", "http://[::1]:{port}/a.mp4"])
def test_redirect_to_a_private_address_is_refused(server, settings, tmp_path, target):
    location = target.format(port=server.port)
    url = server.url("a.mp4", redirect=location)
    guarded = settings.model_copy(update={"allow_private_urls": False})
    with Downloader(guarded, backend=GuardedBackend(policy=only_127_0_0_1_is_public)) as downloader:
        assert downloader.fetch(Clip(0, server.url("a.mp4")), tmp_path / "ok") > 0  # the stand-in public host
        with pytest.raises(WorkerError) as caught:
            downloader.fetch(Clip(0, url), tmp_path / "clip")
    error = caught.value
    assert (error.reason, error.permanent) == (ErrorReason.DOWNLOAD_FAILED, True)
    assert "is not a public address, which is not fetched" in error.message


def test_redirect_to_a_non_http_scheme_is_refused(server, settings, tmp_path):
    url = server.url("a.mp4", redirect="file:///etc/passwd")
    with Downloader(settings) as downloader, pytest.raises(WorkerError) as caught:
        downloader.fetch(Clip(0, url), tmp_path / "clip")
    assert (
        caught.value.permanent
        and "redirected to file:/etc/passwd: only http and https" in caught.value.message
    )


def test_transient_failures_are_retried_and_cut_downloads_resume(server, settings, clip_dir, tmp_path):
    with Downloader(settings, backoff_seconds=0.01) as downloader:
        flaky = server.url("b.mp4", fail=2)
        assert downloader.fetch(Clip(0, flaky), tmp_path / "flaky") == (clip_dir / "b.mp4").stat().st_size
        cut = server.url("c.mp4", cut=3000)
        downloader.fetch(Clip(1, cut), tmp_path / "cut")
    assert (tmp_path / "cut").read_bytes() == (clip_dir / "c.mp4").read_bytes()
    ranges = [r.range for r in server.requests if r.query == "cut=3000"]
    assert ranges == [None, "bytes=3000-"]
