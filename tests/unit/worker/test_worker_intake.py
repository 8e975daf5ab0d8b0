"""The intake, the one way in for both executors: each clip's head is read once and each clip probed
once, whichever executor merges; what the heads fetched is not downloaded again."""

import time
from collections import Counter
from pathlib import Path

import pytest
from support.media import streams

from videomerge_contract import AspectRatio, Fit, Quality, Stage, Strategy
from videomerge_worker import intake, probe
from videomerge_worker.heads import HEAD_BYTES
from videomerge_worker.plan import OutputRequest

ORIGINAL = OutputRequest(Quality.ORIGINAL, AspectRatio.ORIGINAL, Fit.PAD)
WIDE = OutputRequest(Quality.LOW, AspectRatio.R16_9, Fit.PAD)


@pytest.fixture
def probes(monkeypatch) -> Counter[str]:
    """ffprobe runs on the clips, by file name (the merged file's check is not counted, nor the small
    second question of a decoded clip's declared references)."""
    counted: Counter[str] = Counter()
    real = probe.ffprobe

    def counting(path: Path, **options: str | None):
        if not options:
            counted[path.name] += 1
        return real(path, **options)

    monkeypatch.setattr(probe, "ffprobe", counting)
    return counted


def test_a_merge_the_assembler_declines_keeps_its_probes_and_resumes_after_the_heads(
    server, merge, clip_dir, probes
):
    urls = [server.url("a.mp4", n="declined"), server.url("b.mp4", n="declined")]
    outcome = merge(urls, WIDE)  # the clips' indexes join, but 4:3 clips in a 16:9 frame are re-encoded
    assert outcome.strategy is Strategy.REENCODE  # probed from the heads, then merged by FFmpeg
    assert outcome.duration_seconds == pytest.approx(2.0, abs=0.1) and streams(outcome.output, "audio")
    # each clip probed once, from its head's copy: the FFmpeg way did not probe it again
    assert probes == Counter({"clip-000.index": 1, "clip-001.index": 1})
    for name in ("a.mp4", "b.mp4"):
        ranges = [r.range for r in server.requests if r.query == "n=declined" and r.path == f"/{name}"]
        assert ranges[0] == f"bytes=0-{HEAD_BYTES - 1}"
        # downloaded whole once, after the head's bytes: never again from the start
        assert ranges[-1] == f"bytes={HEAD_BYTES}-" and None not in ranges, ranges
    assert (clip_dir / "a.mp4").stat().st_size > HEAD_BYTES


def test_a_clip_that_is_not_mp4_is_downloaded_whole_after_its_head_and_probed_once(
    server, merge, clip_dir, probes
):
    urls = [server.url("a.mp4", n="webm"), server.url("vp9-portrait.webm", n="webm")]
    outcome = merge(urls, ORIGINAL)
    assert outcome.strategy is Strategy.REENCODE
    assert probes == Counter({"clip-000.src": 1, "clip-001.src": 1})
    webm = [r.range for r in server.requests if r.query == "n=webm" and r.path == "/vp9-portrait.webm"]
    assert webm == [f"bytes=0-{HEAD_BYTES - 1}", f"bytes={HEAD_BYTES}-"]
    assert (clip_dir / "vp9-portrait.webm").stat().st_size > HEAD_BYTES


def test_a_declined_assembly_leaves_index_first_clips_read_while_they_download(
    server, merge, probes, monkeypatch
):
    monkeypatch.setattr(intake, "EARLY_PROBE_SLACK_BYTES", 16 * 1024)  # the test clips are ~120 KB
    events: list[tuple[float, Stage, str | None]] = []
    urls = [
        server.url("faststart.mp4", drip=0.02, n="grow0"),
        server.url("faststart.mp4", drip=0.02, n="grow1"),
        server.url("a.mp4", n="grow2"),
    ]
    outcome = merge(urls, WIDE, progress=lambda s, p, m=None: events.append((time.monotonic(), s, m)))
    assert outcome.strategy is Strategy.REENCODE
    assert outcome.duration_seconds == pytest.approx(3.0, abs=0.1)
    merging = [m for _, s, m in events if s is Stage.MERGING and m]
    assert merging[0] == "reencode merge of 3 clips, 2 still downloading"
    assert probes == Counter({f"clip-00{i}.index": 1 for i in range(3)})  # once each, from the heads
