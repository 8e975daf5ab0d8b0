"""The memory model and what feeds it (pure, or on small files): cgroup limits, declared references,
the encoder tuning and graph size a plan picks within a budget, and the clip it names when none fits."""

import math
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from videomerge_contract import Quality, Strategy
from videomerge_worker import footprint, h264, resources
from videomerge_worker.clip import Clip
from videomerge_worker.errors import WorkerError
from videomerge_worker.footprint import OverBudgetError, X264Tuning
from videomerge_worker.geometry import Size
from videomerge_worker.plan import OutputRequest, plan_merge
from videomerge_worker.probe import (
    AudioInfo,
    ClipInfo,
    VideoInfo,
    clip_info_from_probe,
    probe_clip,
    with_declared_refs,
)
from videomerge_worker.resources import MIB, Resources

pytestmark = pytest.mark.unit
MB = 1_000_000


def video(width: int, height: int, refs: int = 1, fps: Fraction = Fraction(30)) -> VideoInfo:
    return VideoInfo(
        0,
        "h264",
        "High",
        width,
        height,
        "yuv420p",
        fps,
        True,
        Fraction(1, 15360),
        Fraction(1),
        0,
        True,
        2.0,
        60,
        refs,
    )


def clip(width: int, height: int, refs: int = 1, fps: Fraction = Fraction(30), name: str = "c") -> ClipInfo:
    audio = AudioInfo(1, "aac", 48000, 2, 2.0, 94)
    return ClipInfo(Path(f"/w/{name}.src"), "mov", 1000, 2.0, video(width, height, refs, fps), audio)


def room(ffmpeg_bytes: int, cpus: int = 2) -> Resources:
    """Resources leaving at least ``ffmpeg_bytes`` (and less than 2 bytes more) for one FFmpeg run's frames."""
    worker, base = 50 * MIB, 10 * MIB
    needed = ffmpeg_bytes + worker + resources.WORKER_GROWTH + base
    budget = math.ceil(needed / (1 - resources.MARGIN_SHARE))
    made = Resources(budget, worker, base, cpus)
    assert 0 <= made.ffmpeg_bytes - ffmpeg_bytes < 2
    return made


def test_a_decoder_grows_with_frame_size_declared_references_and_bit_depth():
    hd, hd16, uhd = video(1920, 1080), video(1920, 1080, refs=16), video(3840, 2160)
    assert footprint.decoder_bytes(hd16) > 2 * footprint.decoder_bytes(hd)
    assert footprint.decoder_bytes(uhd) > 3 * footprint.decoder_bytes(hd)
    deep = VideoInfo(**{**hd.__dict__, "pix_fmt": "yuv422p10le"})
    assert footprint.decoder_bytes(deep) > 2 * footprint.decoder_bytes(hd)


def test_the_best_tuning_that_fits_is_chosen_and_none_when_nothing_does():
    decoder, size = footprint.decoder_bytes(video(1920, 1080)), Size(1920, 1080)
    assert footprint.best_tuning(decoder, size, 2, 10**10) == X264Tuning(2, 20)
    lean = footprint.best_tuning(decoder, size, 2, 160 * MB)
    assert lean is not None and lean.sliced and lean.lookahead < 10
    assert footprint.best_tuning(decoder, size, 2, 60 * MB) is None
    each = footprint.tunings(4)
    costs = [footprint.run_bytes([decoder], size, t) for t in each]
    assert costs == sorted(costs, reverse=True), "from the best to the leanest"
    assert each[-1].params() == "rc-lookahead=0:sliced-threads=1:bframes=0"


def test_a_plan_within_the_budget_carries_its_tuning_to_x264():
    clips = [clip(1920, 1080, name="a"), clip(1280, 720, fps=Fraction(25), name="b")]
    plan = plan_merge(
        clips, OutputRequest(Quality.HIGH), Path("/w"), Path("/w/o.mp4"), resources=room(10**10)
    )
    args = plan.steps[0].args
    assert args[args.index("-x264-params") + 1] == "rc-lookahead=20"
    assert args[args.index("-x264-params") - 1] == "2"  # -threads: the CPUs
    tight = plan_merge(
        clips, OutputRequest(Quality.HIGH), Path("/w"), Path("/w/o.mp4"), resources=room(170 * MB)
    )
    assert tight.target.tuning.lookahead < 20


def test_decoders_that_do_not_fit_one_graph_are_run_one_clip_at_a_time():
    rates = (24, 25, 30, 50)
    clips = [clip(1280, 720, fps=Fraction(r), name=f"c{r}") for r in rates] + [clip(640, 480, name="d")]
    request = OutputRequest(Quality.MEDIUM)
    roomy = plan_merge(clips, request, Path("/w"), Path("/w/o.mp4"), resources=room(10**10))
    assert roomy.strategy is Strategy.REENCODE and len(roomy.steps) == 1
    tight = plan_merge(clips, request, Path("/w"), Path("/w/o.mp4"), resources=room(110 * MB))
    assert tight.strategy is Strategy.REENCODE and len(tight.steps) == len(clips) + 1  # parts, then the join


def test_a_clip_too_large_for_the_budget_is_named_with_what_it_needs():
    clips = [clip(1920, 1080, name="a"), clip(3840, 2160, fps=Fraction(25), name="b")]
    with pytest.raises(OverBudgetError) as caught:
        plan_merge(clips, OutputRequest(Quality.HIGH), Path("/w"), Path("/w/o.mp4"), resources=room(150 * MB))
    assert caught.value.clip_index == 1
    assert caught.value.problem.startswith("decoding its 3840×2160 frames and re-encoding them takes about")
    # a 1080p clip re-encoded into a 2160p merge: the encoder is what does not fit
    clips = [
        clip(3840, 2160, name="a"),
        clip(3840, 2160, name="b"),
        clip(1920, 1080, fps=Fraction(25), name="c"),
    ]
    with pytest.raises(OverBudgetError) as caught:
        plan_merge(
            clips, OutputRequest(Quality.ORIGINAL), Path("/w"), Path("/w/o.mp4"), resources=room(150 * MB)
        )
    assert caught.value.clip_index == 2
    assert caught.value.problem.startswith("re-encoding it to the merge's 3840×2160 frames takes about")


def test_a_copy_merge_needs_no_encoder_budget():
    clips = [clip(3840, 2160, name="a"), clip(3840, 2160, name="b")]
    plan = plan_merge(clips, OutputRequest(Quality.ORIGINAL), Path("/w"), Path("/w/o.mp4"), resources=room(1))
    assert plan.strategy is Strategy.COPY


def test_frames_larger_than_8k_are_refused_from_the_probe():
    stream = {"index": 0, "codec_type": "video", "codec_name": "h264", "width": 16384, "height": 16384}
    stream |= {"r_frame_rate": "30/1", "avg_frame_rate": "30/1", "duration": "1.0"}

    def unsupported(problem: str) -> WorkerError:
        return Clip(0, "https://example.com/big.mp4").error(footprint_reason(), problem)

    with pytest.raises(WorkerError, match=r"its frames are 16384×16384, larger than the worker decodes"):
        clip_info_from_probe({"streams": [stream], "format": {}}, Path("/w/x"), 1, unsupported)


def footprint_reason():
    from videomerge_contract import ErrorReason

    return ErrorReason.UNSUPPORTED_MEDIA


@pytest.mark.parametrize(("refs", "container"), [(16, "mp4"), (1, "mp4"), (16, "ts"), (5, "mkv")])
def test_the_references_a_stream_declares_are_read_from_its_parameter_set(tmp_path, refs, container):
    path = tmp_path / f"clip.{container}"
    source = "testsrc2=size=128x72:rate=10:duration=0.5"
    encode = ["-c:v", "libx264", "-bf", "0", "-refs", str(refs), "-x264-params", "weightp=0"]
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", source, *encode, str(path)], check=True)
    assert with_declared_refs(probe_clip(Clip(0, "https://example.com/c"), path)).video.refs == refs


def test_a_parameter_set_with_scaling_matrices_and_a_broken_one():
    # High profile, 8 scaling lists present (all "use default": flag 1, delta 0 → nextScale 0 at once)
    assert h264.max_ref_frames(b"\x00\x00\x01" + _sps_with_scaling_lists(refs=7)) == 7
    assert h264.max_ref_frames(b"\x00\x00\x01\x67\x64") is None  # cut short
    assert h264.max_ref_frames(b"\x01\x64\x00\x1f\xff\xe1\x00\x00") is None  # avcC without an SPS body


def _sps_with_scaling_lists(refs: int) -> bytes:
    bits = "1"  # sps id 0 (ue)
    bits += "010" + "1" + "1" + "0"  # chroma 1, depth 0, depth 0, bypass 0
    bits += "1" + ("1" + "000010001") * 8  # matrices present; each list present, its first delta -8 ends it
    bits += "1" + "1" + "1"  # log2_max_frame_num 0, poc type 0, log2_max_poc_lsb 0
    code = bin(refs + 1)[2:]
    bits += "0" * (len(code) - 1) + code + "1"
    bits += "0" * (-len(bits) % 8)
    return b"\x67\x64\x00\x28" + int(bits, 2).to_bytes(len(bits) // 8, "big")


def test_cgroup_limits_v1_and_v2(tmp_path):
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "memory.max").write_text("1073741824\n")
    (v2 / "cpu.max").write_text("150000 100000\n")
    assert resources.memory_limit(v2) == 1024**3
    assert resources.memory_budget(None, v2) == 768 * MIB
    assert resources.memory_budget(100 * MIB, v2) == 100 * MIB
    assert resources.memory_budget(4 * 1024**3, v2) == 768 * MIB  # never past the pod's limit
    assert resources.cpu_count(v2) == 2
    (v2 / "memory.max").write_text("max\n")
    (v2 / "cpu.max").write_text("max 100000\n")
    assert resources.memory_budget(None, v2) == resources.DEFAULT_MEMORY_BUDGET
    v1 = tmp_path / "v1"
    (v1 / "memory").mkdir(parents=True)
    (v1 / "cpu").mkdir()
    (v1 / "memory" / "memory.limit_in_bytes").write_text(str(2**63 - 4096))  # unlimited
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("50000")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000")
    assert resources.memory_limit(v1) is None
    assert resources.cpu_count(v1) == 1
    (v1 / "memory" / "memory.limit_in_bytes").write_text(str(512 * MIB))
    assert resources.memory_budget(None, v1) == 384 * MIB
    assert resources.memory_limit(tmp_path / "none") is None


def test_ffmpegs_own_memory_is_measured_without_the_parents_pages():
    ballast = bytearray(300 * MIB)  # a large worker: a forked child's high-water mark would include it
    ballast[::4096] = b"x" * len(ballast[::4096])
    base = resources.ffmpeg_base_bytes()
    assert 1 * MIB < base < 150 * MIB, base / MIB


def test_probes_run_as_many_at_once_as_the_budget_holds_at_their_worst():
    assert room(1, cpus=2).probe_slots == 1
    assert room(2 * (10 * MIB + resources.PROBE_BYTES)).probe_slots == 2
    assert room(10**12).probe_slots == resources.MAX_PROBES


def test_probe_slots_hold_back_probes_past_their_count():
    import threading
    import time

    from videomerge_worker.probe import ProbeSlots

    slots, running, most = ProbeSlots(), [0], [0]
    slots.set_count(lambda: 2)
    lock = threading.Lock()

    def probe() -> None:
        with slots:
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.02)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=probe) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 2
