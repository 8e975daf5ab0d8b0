"""Index-first MP4 clips are merged while they download; failures then still stop everything cleanly."""

import time

import pytest
from support.media import streams

from videomerge_contract import AspectRatio, ErrorReason, Fit, Quality, Stage, Strategy
from videomerge_worker import intake
from videomerge_worker.errors import WorkerError
from videomerge_worker.plan import OutputRequest

ORIGINAL = OutputRequest(Quality.ORIGINAL, AspectRatio.ORIGINAL, Fit.PAD)


@pytest.fixture(autouse=True)
def small_slack(monkeypatch):
    # the test clips are ~120 KB; the default slack (4 MiB) would make every one of them complete first
    monkeypatch.setattr(intake, "EARLY_PROBE_SLACK_BYTES", 16 * 1024)


def recorder():
    events = []

    def sink(stage, percent, message=None):
        events.append((time.monotonic(), stage, percent, message))

    return events, sink


def test_merging_starts_while_index_first_clips_still_download(server, merge, clip_dir):
    events, sink = recorder()
    urls = [server.url("faststart.mp4", drip=0.02, n=i) for i in range(3)]
    outcome = merge(urls, ORIGINAL, progress=sink, assemble_copy_merges=False)
    assert outcome.strategy is Strategy.COPY
    assert outcome.duration_seconds == pytest.approx(3.0, abs=0.1)
    (video,) = streams(outcome.output, "video")
    assert int(video["nb_frames"]) == 3 * int(streams(clip_dir / "faststart.mp4", "video")[0]["nb_frames"])
    merging = [e for e in events if e[1] is Stage.MERGING and e[3]]
    assert merging and merging[0][3] == "copy merge of 3 clips, 3 still downloading"
    # and downloading stopped speaking for the stage once merging began
    first_merge = events.index(merging[0])
    assert all(e[1] is not Stage.DOWNLOADING for e in events[first_merge:])


def test_a_clip_failing_while_it_is_merged_stops_ffmpeg_at_once(server, merge):
    cut = server.url("faststart.mp4", drip=0.02, cut=60000, n="cut")
    started = time.monotonic()
    with pytest.raises(WorkerError) as caught:
        merge(
            [server.url("faststart.mp4", drip=0.02), cut],
            ORIGINAL,
            download_attempts=1,
            assemble_copy_merges=False,
        )
    assert time.monotonic() - started < 10  # not the follow timeout
    error = caught.value
    assert (error.reason, error.clip_index, error.permanent) == (ErrorReason.DOWNLOAD_FAILED, 1, False)
    assert error.message.startswith(f"clip 2 ({cut}): connection failed")


def test_a_truncated_index_first_clip_is_caught_after_its_early_probe(server, merge):
    url = server.url("truncated-faststart.mp4", drip=0.02)
    started = time.monotonic()
    with pytest.raises(WorkerError) as caught:
        merge([server.url("faststart.mp4"), url], ORIGINAL, assemble_copy_merges=False)
    assert time.monotonic() - started < 10
    assert (caught.value.reason, caught.value.clip_index) == (ErrorReason.UNSUPPORTED_MEDIA, 1)
    assert "the file is truncated" in caught.value.message
