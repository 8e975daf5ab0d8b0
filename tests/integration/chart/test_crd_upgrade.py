"""Helm installs crds/ once and never upgrades it; the documented upgrade step is a server-side apply of the
chart's CRD (README, "Upgrading"). Tried on a CRD installed the way Helm does (a create), in a group of its
own so the shared VideoMerge CRD is untouched: the new printer column appears, stored objects stay."""

import copy
import subprocess
import uuid

import pytest
import yaml
from support.kube import ROOT, wait_until

CRD = yaml.safe_load((ROOT / "charts" / "videomerge" / "crds" / "videomerge.yaml").read_text())


def kubectl(kubeconfig: str, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, *args], input=stdin, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def group(kubeconfig: str):
    name = f"u{uuid.uuid4().hex[:8]}.test.videomerge.io"
    yield name
    subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, "delete", "crd", f"videomerges.{name}", "--ignore-not-found"],
        capture_output=True,
    )


def test_applying_the_charts_crd_upgrades_an_installed_one(kubeconfig, namespace, group):
    new = copy.deepcopy(CRD)
    new["metadata"]["name"] = f"videomerges.{group}"
    new["spec"]["group"] = group
    new["spec"]["names"]["categories"] = []  # stay out of `kubectl get all`
    old = copy.deepcopy(new)
    (version,) = old["spec"]["versions"]
    version["additionalPrinterColumns"] = [
        c for c in version["additionalPrinterColumns"] if c["name"] != "Job"
    ]

    kubectl(kubeconfig, "create", "-f", "-", stdin=yaml.safe_dump(old))  # what `helm install` does with crds/
    resource = f"videomerges.{group}"
    wait_until(
        lambda: (
            "Established=True"
            in kubectl(
                kubeconfig,
                "get",
                "crd",
                resource,
                "-o",
                "jsonpath=Established={.status.conditions[?(@.type=='Established')].status}",
            )
        ),
        timeout=30,
        what="the old CRD Established",
    )
    merge = {
        "apiVersion": f"{group}/v1alpha1",
        "kind": "VideoMerge",
        "metadata": {"name": "kept", "namespace": namespace},
        "spec": {"videoUrls": ["https://example.com/a.mp4"]},
    }
    wait_until(
        lambda: (
            subprocess.run(
                ["kubectl", "--kubeconfig", kubeconfig, "create", "-f", "-"],
                input=yaml.safe_dump(merge).encode(),
                capture_output=True,
            ).returncode
            == 0
        ),
        timeout=30,
        what="the first object accepted",
    )
    assert "JOB" not in kubectl(kubeconfig, "-n", namespace, "get", resource, "-o", "wide").splitlines()[0]

    kubectl(kubeconfig, "apply", "--server-side", "--force-conflicts", "-f", "-", stdin=yaml.safe_dump(new))

    def header() -> str:
        return kubectl(kubeconfig, "-n", namespace, "get", resource, "-o", "wide").splitlines()[0]

    wait_until(lambda: "JOB" in header(), timeout=30, what="the new printer column")
    assert "URL" not in header(), "-o wide no longer prints the presigned URL"
    assert "kept" in kubectl(kubeconfig, "-n", namespace, "get", resource, "-o", "name")
