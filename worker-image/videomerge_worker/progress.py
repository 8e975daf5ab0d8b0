"""Progress: FFmpeg's ``-progress`` key=value blocks, one overall percent across stages, a rate limit."""

import contextlib
import sys
import threading
import time
from collections.abc import Callable
from typing import Protocol

from videomerge_contract import Stage

# Where each stage sits in the overall percent. Downloads overlap probing; uploading ends at 99, because
# 100 belongs to "done".
STAGE_SPANS: dict[Stage, tuple[int, int]] = {
    Stage.STARTING: (0, 0),
    Stage.DOWNLOADING: (0, 30),
    Stage.PROBING: (30, 35),
    Stage.MERGING: (35, 90),
    Stage.UPLOADING: (90, 99),
    Stage.DONE: (100, 100),
}


class ProgressSink(Protocol):
    def __call__(self, stage: Stage, percent: int, message: str | None = None) -> None: ...


def overall_percent(stage: Stage, fraction: float) -> int:
    """Overall percent for ``fraction`` (0..1) of ``stage`` done."""
    low, high = STAGE_SPANS.get(stage, (0, 0))
    return int(low + (high - low) * min(max(fraction, 0.0), 1.0))


def discard_progress(stage: Stage, percent: int, message: str | None = None) -> None:
    """A sink for callers that do not follow progress."""


class FfmpegProgressParser:
    """Reads ``-progress`` output line by line; each block ends with ``progress=continue|end``."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.finished = False

    def feed(self, line: str) -> float | None:
        """Returns the media seconds written so far when ``line`` ends a block, else None."""
        key, _, value = line.strip().partition("=")
        if key == "out_time_us":
            self._set_seconds(value, 1e-6)
        elif key == "out_time" and value.count(":") == 2:
            hours, minutes, seconds = value.split(":")
            with contextlib.suppress(ValueError):
                self.seconds = max(self.seconds, int(hours) * 3600 + int(minutes) * 60 + float(seconds))
        elif key == "progress":
            self.finished = value == "end"
            return self.seconds
        return None

    def _set_seconds(self, value: str, scale: float) -> None:
        try:
            seconds = int(value) * scale
        except ValueError:  # "N/A" before the first frame is out
            return
        self.seconds = max(self.seconds, seconds)


class Throttle:
    """Lets a call through at most once per ``interval`` seconds, except the ones marked ``force``."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self._last: float | None = None

    def ready(self, *, force: bool = False) -> bool:
        now = self.clock()
        if force or self._last is None or now - self._last >= self.interval:
            self._last = now
            return True
        return False


class BackgroundSink:
    """A progress sink that never blocks its caller (a download thread, FFmpeg's reader): it keeps the
    latest report and a thread of its own hands it to ``publish`` (which may be slow, or hang until its
    timeout), at most once per ``interval`` seconds. A new stage is always published, in order; reports
    in between are coalesced to the latest. ``close`` publishes what is left, within ``flush_seconds``."""

    def __init__(self, publish: ProgressSink, interval: float = 1.0) -> None:
        self._publish = publish
        self._interval = interval
        self._pending: list[tuple[Stage, int, str | None]] = []  # one entry per stage, oldest first
        self._condition = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
        self._thread.start()

    def __call__(self, stage: Stage, percent: int, message: str | None = None) -> None:
        with self._condition:
            if self._pending and self._pending[-1][0] == stage:
                previous = self._pending[-1][2]
                self._pending[-1] = (stage, percent, message if message is not None else previous)
            else:
                self._pending.append((stage, percent, message))
            self._condition.notify()

    def close(self, flush_seconds: float = 5.0) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify()
        self._thread.join(timeout=flush_seconds)

    def _run(self) -> None:
        last, published_stage = -self._interval, None
        while True:
            with self._condition:
                while not self._pending and not self._closed:
                    self._condition.wait()
                if not self._pending:
                    return
                changes_stage = len(self._pending) > 1 or self._pending[0][0] != published_stage
                wait = 0.0 if changes_stage or self._closed else last + self._interval - time.monotonic()
                if wait > 0:
                    self._condition.wait(wait)
                    continue
                report = self._pending.pop(0)
            last, published_stage = time.monotonic(), report[0]
            try:
                self._publish(*report)
            except Exception as exc:  # progress is best effort; the publisher says what it skipped
                print(f"videomerge-worker: progress not published: {exc}", file=sys.stderr)
