"""Runs a command and measures the peak resident memory of its whole process tree (Linux /proc)."""

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_tree_bytes: int  # the largest sum over the tree seen by polling
    peak_single_bytes: int  # the kernel's high-water mark of the largest process of the tree

    @property
    def peak_bytes(self) -> int:
        return max(self.peak_tree_bytes, self.peak_single_bytes)


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            with contextlib.suppress(OSError, ValueError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return found


def run_measured(
    args: Sequence[str], *, env: dict[str, str], timeout: float, interval: float = 0.01
) -> Measured:
    """Runs ``args`` to its end (killed after ``timeout`` seconds), sampling the tree's memory."""
    started = time.monotonic()
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]
    finished = threading.Event()

    def sample() -> None:
        while not finished.is_set():
            peak[0] = max(peak[0], sum(_rss(p) for p in _tree(process.pid)))
            finished.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output: dict[str, str] = {}
    readers = [
        threading.Thread(target=lambda name=name, stream=stream: output.update({name: stream.read()}))
        for name, stream in (("stdout", process.stdout), ("stderr", process.stderr))
    ]
    for reader in readers:
        reader.start()
    deadline = started + timeout
    while True:
        # wait4, not wait: the child's own high-water mark, with its waited-for descendants'
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            process.kill()
        time.sleep(0.02)
    finished.set()
    sampler.join()
    for reader in readers:
        reader.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        process.returncode,
        output.get("stdout", ""),
        output.get("stderr", ""),
        time.monotonic() - started,
        peak[0],
        usage.ru_maxrss * 1024,
    )
