"""What this worker may use, read from where it runs: its memory budget and CPUs (the pod's cgroup limits,
not the node's: a container sees every core and all memory of its node), and the resident memory of
itself and of a bare FFmpeg. ``footprint`` plans FFmpeg's runs within what this reports."""

import math
import os
import resource
import subprocess
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MIB = 1024 * 1024
# The promise without a pod limit: the whole process tree (this process and its FFmpeg) stays below it.
DEFAULT_MEMORY_BUDGET = 250 * MIB
# Under a memory limit the budget is this share of it: the rest is the kernel's page cache of our own
# downloads and writes (charged to the pod), which a merge needs to stay fast.
LIMIT_SHARE = 0.75
# What the worker process may still grow by while FFmpeg runs (progress thread, status writes, buffers).
WORKER_GROWTH = 8 * MIB
# What one ffprobe may take beside FFmpeg's code: an 8K frame decoded (85 MiB measured in the image).
PROBE_BYTES = 90 * MIB
# ffprobes at once at most: the downloads' own default concurrency.
MAX_PROBES = 4
# x264 gains little past this many threads; more only cost memory.
MAX_THREADS = 16
CGROUP = Path("/sys/fs/cgroup")
# FFmpeg's own memory when it cannot be measured: more than a full distribution build takes.
UNMEASURED_FFMPEG_BASE = 64 * MIB
# The share of the budget no estimate may use: what the figures behind ``footprint`` do not foresee.
MARGIN_SHARE = 0.05
# Anything above this is "no limit" as cgroup v1 reports it (a page-rounded LONG_MAX).
_UNLIMITED = 1 << 60


@dataclass(frozen=True)
class Resources:
    """What one FFmpeg run may use beside the worker process itself."""

    budget_bytes: int  # the whole process tree's ceiling
    worker_bytes: int  # this process's resident memory, held while FFmpeg runs
    ffmpeg_base_bytes: int  # a bare FFmpeg: its code and libraries, before any frame
    cpus: int  # threads worth running (the pod's CPU limit, rounded up)

    @property
    def ffmpeg_bytes(self) -> int:
        """Memory left for one FFmpeg run's frames: the budget less this process (and what it may still
        grow by: threads, buffers) and FFmpeg's own code."""
        margin = round(self.budget_bytes * MARGIN_SHARE)
        return self.budget_bytes - margin - self.worker_bytes - WORKER_GROWTH - self.ffmpeg_base_bytes

    @property
    def probe_slots(self) -> int:
        """How many ffprobes fit at once, each at its worst."""
        room = self.ffmpeg_bytes + self.ffmpeg_base_bytes
        return max(1, min(MAX_PROBES, room // (self.ffmpeg_base_bytes + PROBE_BYTES)))


def memory_budget(configured: int | None, cgroup: Path = CGROUP) -> int:
    """``configured`` when set, else ``DEFAULT_MEMORY_BUDGET``; under a pod memory limit, at most
    ``LIMIT_SHARE`` of it, and that share when nothing is configured (a pod given more memory may use it)."""
    limit = memory_limit(cgroup)
    share = int(limit * LIMIT_SHARE) if limit else None
    if configured is not None:
        return min(configured, share) if share else configured
    return share if share else DEFAULT_MEMORY_BUDGET


def memory_limit(cgroup: Path = CGROUP) -> int | None:
    """The cgroup's memory limit in bytes (v2 ``memory.max``, v1 ``memory.limit_in_bytes``); None: none."""
    for path in (cgroup / "memory.max", cgroup / "memory" / "memory.limit_in_bytes"):
        text = _read(path)
        if text is None:
            continue
        if text == "max":
            return None
        try:
            value = int(text)
        except ValueError:
            return None
        return value if 0 < value < _UNLIMITED else None
    return None


def cpu_count(cgroup: Path = CGROUP) -> int:
    """CPUs this process may use: its affinity, lowered by a CFS quota (v2 ``cpu.max``, v1
    ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``), rounded up, between 1 and ``MAX_THREADS``."""
    cpus = float(len(os.sched_getaffinity(0)))
    quota = _cpu_quota(cgroup)
    if quota is not None:
        cpus = min(cpus, quota)
    return max(1, min(MAX_THREADS, math.ceil(cpus)))


def _cpu_quota(cgroup: Path) -> float | None:
    v2 = _read(cgroup / "cpu.max")
    if v2 is not None:
        quota, _, period = v2.partition(" ")
        return _ratio(quota, period or "100000")
    return _ratio(_read(cgroup / "cpu" / "cpu.cfs_quota_us"), _read(cgroup / "cpu" / "cpu.cfs_period_us"))


def _ratio(quota: str | None, period: str | None) -> float | None:
    try:
        q, p = int(quota or ""), int(period or "")
    except ValueError:
        return None  # "max" or missing: no quota
    return q / p if q > 0 and p > 0 else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def own_rss() -> int:
    """This process's resident memory now (without a /proc of its own: its peak so far)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return pages * os.sysconf("SC_PAGE_SIZE")


@cache
def ffmpeg_base_soon() -> "Future[int]":
    """``ffmpeg_base_bytes`` measured once per process, in a thread: started when a merge starts, read
    when its probes and plan need it (it takes 5 ms in the image, 50 ms with Debian's FFmpeg)."""
    measuring = ThreadPoolExecutor(1, thread_name_prefix="ffmpeg-base")
    future = measuring.submit(ffmpeg_base_bytes)
    measuring.shutdown(wait=False)  # its thread ends with its one task
    return future


def ffmpeg_base_bytes() -> int:
    """FFmpeg's resident memory once its libraries are loaded, before any frame (5 MiB for the image's
    trimmed build, 43 MiB for Debian's): read from /proc while it waits for input. (The
    kernel's high-water mark of a child counts the parent's pages from before ``exec``.)"""
    process = subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-v", "quiet", "-f", "wav", "-i", "pipe:0", "-f", "null", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proc, deadline, high = Path(f"/proc/{process.pid}"), time.monotonic() + 5, -1
    try:
        # until it sleeps: its libraries loaded and relocated, it waits on its input (a busy machine may
        # not run it between two looks, so a figure that stops growing does not say it is done)
        while time.monotonic() < deadline and process.poll() is None:
            if _state(proc / "stat") == "S":
                high = _status_kib(proc / "status", "VmHWM")
                break
            time.sleep(0.002)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        process.wait()
    return high * 1024 if high > 0 else UNMEASURED_FFMPEG_BASE


def _state(stat: Path) -> str:
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def _status_kib(status: Path, field: str) -> int:
    try:
        for line in status.read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return -1


def current(configured_budget: int | None, *, measured: bool = True) -> Resources:
    """What this worker may use now. ``measured=False``: without waiting for FFmpeg's own memory to be
    measured (``UNMEASURED_FFMPEG_BASE`` until it is), for decisions that need no precision."""
    base = ffmpeg_base_soon()
    return Resources(
        budget_bytes=memory_budget(configured_budget),
        worker_bytes=own_rss(),
        ffmpeg_base_bytes=base.result() if measured or base.done() else UNMEASURED_FFMPEG_BASE,
        cpus=cpu_count(),
    )
