"""`make cluster-down` then `make cluster-up`, twice: nothing of ours survives down; up comes back Ready.

Marked disruptive: the integration conftest runs it after every other integration test.
"""

import subprocess
import time
from pathlib import Path

import pytest
from support.kube import ROOT

STATE = Path("/var/lib/videomerge-local")
RUN = Path("/run/videomerge-local")
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "containerd", "kubelet")


def _make(target: str) -> str:
    return subprocess.run(
        ["make", "-s", "-C", str(ROOT), target], check=True, capture_output=True, text=True
    ).stdout


def _our_mounts() -> list[str]:
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    return [m for m in mounts if m.startswith((str(STATE), str(RUN)))]


def _pids_alive() -> list[str]:
    alive = []
    for name in COMPONENTS:
        pidfile = RUN / f"{name}.pid"
        if pidfile.exists() and Path(f"/proc/{pidfile.read_text().strip()}").exists():
            alive.append(name)
    return alive


@pytest.mark.disruptive
def test_cluster_down_and_up_repeatedly():
    for _round in range(2):
        _make("cluster-down")
        assert _pids_alive() == []
        assert _our_mounts() == []
        assert subprocess.run(["ip", "link", "show", "vmlocal0"], capture_output=True).returncode != 0
        started = time.monotonic()
        _make("cluster-up")
        assert time.monotonic() - started < 60, "warm cluster-up should take under a minute"
        assert sorted(_pids_alive()) == sorted(COMPONENTS)
        kubeconfig = _make("kubeconfig").strip().splitlines()[-1]
        nodes = subprocess.run(
            [
                "kubectl",
                "--kubeconfig",
                kubeconfig,
                "get",
                "node",
                "127.0.0.1",
                "-o",
                "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert nodes == "True"
