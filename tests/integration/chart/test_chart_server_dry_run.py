"""Every manifest the chart renders is accepted by the real API server (server-side dry run)."""

import subprocess

import pytest
from support.kube import ROOT
from support.tools import tool

CHART = ROOT / "charts" / "videomerge"
VALUE_SETS = {
    "default": [],
    "local": ["-f", str(CHART / "values-local.yaml")],
    "everything-on": [
        "--set",
        "minio.enabled=true",
        "--set",
        "api.ingress.enabled=true",
        "--set",
        "api.ingress.tlsSecret=tls",
        "--set",
        "api.auth.existingSecret=tokens",
        "--set",
        "operator.deleteS3Objects=true",
    ],
}


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_rendered_manifests_pass_server_side_dry_run(kubeconfig, namespace, values):
    rendered = subprocess.run(
        [
            str(tool("helm")),
            "template",
            "vm",
            str(CHART),
            "-n",
            namespace,
            "--kube-version",
            "1.33.0",
            *values,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    applied = subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, "apply", "--dry-run=server", "-n", namespace, "-f", "-"],
        input=rendered,
        capture_output=True,
        text=True,
    )
    assert applied.returncode == 0, applied.stderr
    kinds = {line.split("/")[0] for line in applied.stdout.splitlines()}
    assert {
        "deployment.apps",
        "clusterrole.rbac.authorization.k8s.io",
        "role.rbac.authorization.k8s.io",
    } <= kinds
