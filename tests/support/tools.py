"""Paths of the Go-built tools (hack/build-binaries.sh), built on first use and cached outside the repo."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("VIDEOMERGE_CACHE", Path.home() / ".cache" / "videomerge"))


def tool(name: str) -> Path:
    """``helm`` or ``minio``, building it when the cache lacks it."""
    path = CACHE / "tools" / "bin" / name
    if not path.exists():
        subprocess.run(["bash", str(ROOT / "hack" / "build-binaries.sh"), name], check=True)
    return path
