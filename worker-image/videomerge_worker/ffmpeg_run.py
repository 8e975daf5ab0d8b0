"""Runs one FFmpeg step: progress from stdout, the tail of stderr for the error line, a deadline."""

import subprocess
import threading
from collections import deque
from collections.abc import Callable
from typing import IO, TYPE_CHECKING

from videomerge_contract import ErrorReason
from videomerge_worker.errors import WorkerError
from videomerge_worker.progress import FfmpegProgressParser

if TYPE_CHECKING:
    from videomerge_worker.clip import Clip

FFMPEG = "ffmpeg"


def run_ffmpeg(
    args: list[str],
    *,
    describe: str,
    timeout: float,
    on_seconds: Callable[[float], None] | None = None,
    clip: "Clip | None" = None,
    cancel: threading.Event | None = None,
) -> None:
    """Runs ``ffmpeg args``; raises WorkerError (FFmpegFailed, or Timeout past ``timeout`` seconds).
    ``clip``: the one clip the step reads, if it reads one (named in its errors). Setting ``cancel``
    stops FFmpeg (a clip it reads while downloading has failed)."""
    if cancel is not None and cancel.is_set():
        raise WorkerError(ErrorReason.FFMPEG_FAILED, f"{describe} cancelled")
    process = subprocess.Popen(
        [FFMPEG, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stderr is not None
    stderr_tail: deque[str] = deque(maxlen=20)
    reader = threading.Thread(target=_collect, args=(process.stderr, stderr_tail), daemon=True)
    reader.start()
    timed_out = threading.Event()

    def expire() -> None:
        timed_out.set()
        process.kill()

    timer = threading.Timer(timeout, expire)
    timer.start()
    if cancel is not None:
        threading.Thread(target=_kill_when_set, args=(cancel, process), daemon=True).start()
    parser = FfmpegProgressParser()
    try:
        for line in process.stdout:
            seconds = parser.feed(line)
            if seconds is not None and on_seconds is not None:
                on_seconds(seconds)
        returncode = process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(timeout=5)
    # FFmpeg 5.1 exits 0 even when it could not finish the file (e.g. a reserved index too small).
    if returncode == 0 and not any("Error writing trailer" in line for line in stderr_tail):
        return
    if timed_out.is_set():
        raise WorkerError(ErrorReason.TIMEOUT, f"{describe} took longer than {timeout:g} s")
    if cancel is not None and cancel.is_set():
        raise WorkerError(ErrorReason.FFMPEG_FAILED, f"{describe} cancelled")
    detail = next((line for line in reversed(stderr_tail) if line.strip()), f"exit status {returncode}")
    if returncode > 0 and clip is not None and refuses_input(stderr_tail):
        # FFmpeg itself refuses the one clip this step reads (after ffprobe accepted it): the clip is at
        # fault, and another attempt would meet the same refusal.
        raise clip.error(ErrorReason.UNSUPPORTED_MEDIA, f"FFmpeg cannot read it: {detail.strip()[:300]}")
    raise WorkerError(
        ErrorReason.FFMPEG_FAILED,
        f"{describe} failed: {detail.strip()[:500]}",
        clip_index=None if clip is None else clip.index,
        clip_url=None if clip is None else clip.url,
    )


# What FFmpeg says when the input itself is what it cannot read (not a crash, a kill or a full disk).
INPUT_REFUSALS = (
    "Invalid data found when processing input",
    "Decoder (codec",  # "Decoder (codec prores) not found for input stream #0:0"
    "could not find codec parameters",
    "moov atom not found",
    "Error while decoding stream",
)


def refuses_input(stderr_lines: "deque[str] | list[str]") -> bool:
    return any(marker in line for line in stderr_lines for marker in INPUT_REFUSALS)


def _kill_when_set(cancel: threading.Event, process: "subprocess.Popen[str]") -> None:
    while process.poll() is None:
        if cancel.wait(0.1):
            process.kill()
            return


def _collect(stream: IO[str], tail: deque[str]) -> None:
    for line in stream:
        tail.append(line)
