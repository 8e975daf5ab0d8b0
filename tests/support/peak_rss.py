"""Runs a command and measures the peak resident memory of its whole process tree (Linux /proc)."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024
# Runs the command from a small process and reports its high-water mark: the kernel's figure for a child
# forked straight from a large test process would include the parent's pages of the moment before exec.
LAUNCHER = """
import os, sys
out = int(sys.argv[1])
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
os.write(out, f"{usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}".encode())
"""


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
    report_read, report_write = os.pipe()
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, str(report_write), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        pass_fds=(report_write,),
        start_new_session=True,  # its own process group: a timeout stops the command with it
    )
    os.close(report_write)
    peak = [0]
    finished = threading.Event()

    def sample() -> None:
        while not finished.is_set():
            peak[0] = max(peak[0], sum(_rss(p) for p in _tree(process.pid)))
            finished.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the group of the launcher started here
        stdout, stderr = process.communicate()
    finished.set()
    sampler.join()
    with os.fdopen(report_read) as report:
        fields = report.read().split()
    maxrss_kib, returncode = (int(fields[0]), int(fields[1])) if len(fields) == 2 else (0, -9)
    return Measured(returncode, stdout, stderr, time.monotonic() - started, peak[0], maxrss_kib * 1024)
