"""A VideoMerge made with kubectl in another served namespace (`default` on the local install) runs there,
with the real worker: the operator first applies the worker's ServiceAccount, Role and S3 Secret in it."""

import subprocess

import yaml
from kubernetes import client
from support.kube import wait_until
from support.merges import CLIPS, merge_body

from videomerge_contract import GROUP, PLURAL, VERSION

NAMESPACE = "default"


def test_a_kubectl_merge_in_default_completes_there(installation, clip_server):
    name = "e2e-in-default"
    custom = client.CustomObjectsApi(installation.kube)
    urls = merge_body(clip_server, list(CLIPS)[:2])["video_urls"]
    manifest = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "VideoMerge",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"videoUrls": urls, "quality": "low"},
    }
    subprocess.run(
        [
            "kubectl",
            "--kubeconfig",
            installation.kubeconfig,
            "delete",
            "videomerge",
            name,
            "-n",
            NAMESPACE,
            "--ignore-not-found",
            "--wait",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["kubectl", "--kubeconfig", installation.kubeconfig, "apply", "-f", "-"],
        input=yaml.safe_dump(manifest),
        text=True,
        check=True,
        capture_output=True,
    )
    try:

        def done():
            status = (
                custom.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, name).get("status")
                or {}
            )
            return status if status.get("phase") in ("Completed", "Failed") else None

        status = wait_until(
            done, timeout=240, what=f"{NAMESPACE}/{name} finished", api=installation.kube, namespace=NAMESPACE
        )
        assert status["phase"] == "Completed", status
        assert status["result"]["clipsMerged"] == 2
        core = client.CoreV1Api(installation.kube)
        selector = "app.kubernetes.io/managed-by=videomerge-operator"
        assert [
            s.metadata.name for s in core.list_namespaced_secret(NAMESPACE, label_selector=selector).items
        ] == ["videomerge-s3"]
        assert "videomerge-worker" in [
            a.metadata.name
            for a in core.list_namespaced_service_account(NAMESPACE, label_selector=selector).items
        ]
    finally:
        custom.delete_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, name)
