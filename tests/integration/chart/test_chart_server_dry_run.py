"""Every manifest the chart renders is accepted by the real API server (server-side dry run)."""

import subprocess

import pytest
import yaml
from support.chart import LOCAL_VALUES, render

VALUE_SETS = {
    "default": [],
    "local": ["-f", str(LOCAL_VALUES)],
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
    docs = render(*values, namespace=namespace)
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
