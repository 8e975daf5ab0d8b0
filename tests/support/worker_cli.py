"""The installed ``videomerge-worker`` command as tests run it: against clips served on loopback, with a
scratch directory of the test's own and none of the caller's VIDEOMERGE_* settings."""

import os
import sys
from pathlib import Path

from support.peak_rss import Measured, run_measured
from videomerge_contract import worker_env as env

COMMAND = Path(sys.executable).with_name("videomerge-worker")


def worker_environment(scratch: Path, **settings: str) -> dict[str, str]:
    """This process's environment without VIDEOMERGE_* variables, plus loopback clips allowed, ``scratch``
    as the work directory and ``settings`` (contract names from ``worker_env``, e.g. ``DOWNLOAD_ATTEMPTS``)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VIDEOMERGE_")}
    environment |= {env.ALLOW_PRIVATE_URLS: "true", env.WORK_DIR: str(scratch)}
    return environment | {getattr(env, name): value for name, value in settings.items()}


def merge_measured(work: Path, urls: list[str], *options: str, timeout: float, **settings: str) -> Measured:
    """``videomerge-worker merge -o WORK/merged.mp4 OPTIONS URLS`` to its end, its process tree's memory
    measured (``support.peak_rss``), with ``WORK/scratch`` as its work directory, which it must leave empty."""
    scratch = work / "scratch"
    scratch.mkdir(exist_ok=True)
    args = [str(COMMAND), "merge", "-o", str(work / "merged.mp4"), *options, *urls]
    measured = run_measured(args, env=worker_environment(scratch, **settings), timeout=timeout)
    assert list(scratch.iterdir()) == [], "temporary files left behind"
    return measured
