"""What the cluster benchmarks share: the local cluster's kubeconfig and a percentile of samples."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def kubeconfig_path() -> str:
    out = subprocess.run(
        ["bash", str(ROOT / "hack" / "kubeconfig.sh")], check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
