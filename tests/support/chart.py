"""The chart's objects as Helm installs them (``helm template``): every test that renders the chart, or
checks that its schema refuses a value, goes through here."""

import subprocess
from typing import Any

import yaml

from support.tools import ROOT, tool

CHART = ROOT / "charts" / "videomerge"
LOCAL_VALUES = CHART / "values-local.yaml"
KUBE_VERSION = "1.33.0"
CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "Namespace"}


def template(*values: str, release: str = "vm", namespace: str = "media") -> subprocess.CompletedProcess[str]:
    """``helm template`` with ``values`` (helm options: ``-f FILE``, ``--set K=V``) as it ran: a value the
    schema refuses fails it, and its stderr says which."""
    command = [str(tool("helm")), "template", release, str(CHART), "-n", namespace]
    return subprocess.run([*command, "--kube-version", KUBE_VERSION, *values], capture_output=True, text=True)


def render(*values: str, release: str = "vm", namespace: str = "media") -> list[dict[str, Any]]:
    """The rendered objects for ``values``, in order. A namespaced object that names no namespace gets the
    release's, as Helm gives it on install."""
    result = template(*values, release=release, namespace=namespace)
    if result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, result.args, result.stdout, result.stderr)
    docs = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    for doc in docs:
        if doc["kind"] not in CLUSTER_SCOPED:
            doc["metadata"].setdefault("namespace", namespace)
    return docs


def of_kind(docs: list[dict[str, Any]], *kinds: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] in kinds]
