"""FFmpeg -progress parsing, the overall percent across stages, and the patch rate limit."""

from videomerge_contract import Stage
from videomerge_worker.progress import FfmpegProgressParser, Throttle, overall_percent

BLOCK = """frame=45
fps=0.00
stream_0_0_q=28.0
bitrate=N/A
total_size=48
out_time_us={us}
out_time_ms={us}
out_time={hms}
dup_frames=0
drop_frames=0
speed=2.9x
progress={state}
"""


def feed(parser, text):
    return [r for line in text.splitlines(keepends=True) if (r := parser.feed(line)) is not None]


def test_each_block_reports_the_seconds_written():
    parser = FfmpegProgressParser()
    assert feed(parser, BLOCK.format(us="N/A", hms="N/A", state="continue")) == [0.0]
    assert feed(parser, BLOCK.format(us=1500000, hms="00:00:01.500000", state="continue")) == [1.5]
    assert not parser.finished
    assert feed(parser, BLOCK.format(us=62250000, hms="00:01:02.250000", state="end")) == [62.25]
    assert parser.finished


def test_out_time_alone_is_enough_and_time_never_goes_back():
    parser = FfmpegProgressParser()
    assert feed(parser, "out_time=01:00:01.500000\nprogress=continue\n") == [3601.5]
    assert feed(parser, "out_time_us=-23000\nprogress=continue\n") == [3601.5]


def test_overall_percent_spans_the_stages_in_order():
    assert overall_percent(Stage.DOWNLOADING, 0) == 0
    assert overall_percent(Stage.DOWNLOADING, 1) == overall_percent(Stage.PROBING, 0)
    assert overall_percent(Stage.MERGING, 0.5) == 62
    assert overall_percent(Stage.MERGING, 7) == overall_percent(Stage.UPLOADING, 0)  # clamped
    assert overall_percent(Stage.UPLOADING, 1) == 99
    assert overall_percent(Stage.DONE, 0) == 100


def test_throttle_lets_one_call_through_per_interval_unless_forced():
    now = [100.0]
    throttle = Throttle(1.0, clock=lambda: now[0])
    assert throttle.ready()
    now[0] += 0.4
    assert not throttle.ready()
    assert throttle.ready(force=True)
    now[0] += 0.99
    assert not throttle.ready()
    now[0] += 0.02
    assert throttle.ready()
