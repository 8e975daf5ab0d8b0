"""Every manifest the chart renders is accepted by the real API server (server-side dry run)."""

import subprocess

import pytest
import yaml
from support.kube import ROOT
from support.tools import tool

CHART = ROOT / "charts" / "videomerge"
CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "Namespace"}
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
        "--set",
        "operator.namespaces={default}",
        "--set",
        "imagePullSecrets[0].name=regcred",
        "--set",
        "worker.tolerations[0].key=media",
        "--set",
        "worker.tolerations[0].operator=Exists",
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
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    for doc in docs:  # as Helm does: namespaced objects without a namespace go to the release's
        if doc["kind"] not in CLUSTER_SCOPED:
            doc["metadata"].setdefault("namespace", namespace)
    applied = subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, "apply", "--dry-run=server", "-f", "-"],
        input=yaml.safe_dump_all(docs),
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
