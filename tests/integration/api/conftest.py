"""API integration tests use the cluster that is already up; they never start or stop it."""

import subprocess

import pytest
from support.kube import ROOT


@pytest.fixture(scope="session")
def kubeconfig() -> str:
    out = subprocess.run(["bash", str(ROOT / "hack" / "kubeconfig.sh")], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.fail(f"the local cluster is not up (make cluster-up): {out.stderr.strip()}")
    return out.stdout.strip().splitlines()[-1]
