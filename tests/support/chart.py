"""The chart's objects as Helm installs them (``helm template``): every test that reads or applies the
rendered chart gets them from here."""

import subprocess
from typing import Any

import yaml

from support.tools import ROOT, tool

CHART = ROOT / "charts" / "videomerge"
KUBE_VERSION = "1.33.0"
CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "Namespace"}


def render(*values: str, release: str = "vm", namespace: str = "media") -> list[dict[str, Any]]:
    """The rendered objects for ``values`` (helm options: ``-f FILE``, ``--set K=V``), in order. A namespaced
    object that names no namespace gets the release's, as Helm gives it on install."""
    command = [str(tool("helm")), "template", release, str(CHART), "-n", namespace]
    out = subprocess.run(
        [*command, "--kube-version", KUBE_VERSION, *values],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    docs = [doc for doc in yaml.safe_load_all(out) if doc]
    for doc in docs:
        if doc["kind"] not in CLUSTER_SCOPED:
            doc["metadata"].setdefault("namespace", namespace)
    return docs


def of_kind(docs: list[dict[str, Any]], *kinds: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] in kinds]
