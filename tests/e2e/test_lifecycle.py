"""Cancel, restarts mid-merge, helm upgrade and uninstall on the installed chart."""

import subprocess

import httpx
import pytest
from kubernetes import client
from support.kube import ROOT
from support.merges import API_URL, CLIPS, download, follow, merge_body, wait
from support.tools import tool

from videomerge_contract import GROUP, PLURAL, VERSION
from videomerge_contract.resource import LABEL_MERGE


def _jobs_of(installation, task_id: str) -> list:
    batch = client.BatchV1Api(installation.kube)
    return batch.list_namespaced_job(installation.namespace, label_selector=f"{LABEL_MERGE}={task_id}").items


def _slow_merge(api, clip_server) -> str:
    # The second clip (≈ 330 KiB) trickles out at 4 KiB every 1.5 s: the merge is mid-flight for about 2 min.
    body = {"video_urls": [clip_server.url("landscape.mp4"), clip_server.url("portrait.mov", drip=1.5)]}
    response = api.post("/api/v1/merge", json=body)
    assert response.status_code == 202, response.text
    return response.json()["task_id"]


def test_cancel_stops_the_job_and_keeps_a_failed_cancelled_record(api, clip_server, installation):
    task_id = _slow_merge(api, clip_server)
    wait(lambda: _jobs_of(installation, task_id), 60, f"the Job of {task_id}")
    cancelled = api.delete(f"/api/v1/merge/{task_id}")
    assert cancelled.status_code == 202 and cancelled.json()["removed"] is False, cancelled.text
    wait(lambda: not _jobs_of(installation, task_id), 60, f"the Job of {task_id} to be deleted")
    wait(
        lambda: api.get(f"/api/v1/merge/{task_id}/status").json()["status"] == "failed",
        60,
        "the merge to read failed",
    )
    result = api.get(f"/api/v1/merge/{task_id}/result").json()
    assert (result["reason"], result["error"]) == ("Cancelled", "cancelled by request"), result
    core = client.CoreV1Api(installation.kube)
    wait(
        lambda: (
            not core.list_namespaced_pod(
                installation.namespace, label_selector=f"{LABEL_MERGE}={task_id}"
            ).items
        ),
        60,
        "the worker pod to be gone",
    )
    assert api.get(f"/api/v1/merge/{task_id}/status").json()["status"] == "failed", "the worker wrote nothing"
    removed = api.delete(f"/api/v1/merge/{task_id}").json()
    assert removed["removed"] is True, removed
    wait(lambda: api.get(f"/api/v1/merge/{task_id}/status").status_code == 404, 30, "the record removed")


def _restart(installation, component: str) -> None:
    old = installation.kubectl(
        "get",
        "pods",
        "-l",
        f"app.kubernetes.io/component={component}",
        "-o",
        "jsonpath={.items[*].metadata.name}",
    ).split()
    installation.kubectl("delete", "pod", *old, "--wait=false")
    installation.kubectl(
        "rollout", "status", f"deployment/{installation.release}-{component}", "--timeout=120s"
    )


def test_restarting_api_and_operator_mid_merge_loses_nothing(api, clip_server, installation, tmp_path):
    task_id = _slow_merge(api, clip_server)
    wait(
        lambda: api.get(f"/api/v1/merge/{task_id}/status").json()["status"] == "processing", 90, "processing"
    )
    _restart(installation, "operator")
    _restart(installation, "api")
    wait(lambda: _ready(), 120, "the restarted API to be ready")
    seen = follow(api, task_id)
    assert seen.statuses[-1] == "completed", seen
    assert len(_jobs_of(installation, task_id)) == 1
    result = api.get(f"/api/v1/merge/{task_id}/result").json()
    assert result["clips_merged"] == 2
    assert download(result["merged_url"], tmp_path / "m.mp4").stat().st_size > 0


def _ready() -> bool:
    try:
        return httpx.get(f"{API_URL}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.disruptive
def test_helm_upgrade_then_uninstall_leaves_no_workload(api, clip_server, installation):
    helm = [str(tool("helm")), "--kubeconfig", installation.kubeconfig, "-n", installation.namespace]
    chart = ROOT / "charts" / "videomerge"
    token_before = installation.admin_token()
    webhook_secret_before = installation.webhook_secret()
    subprocess.run(
        [
            *helm,
            "upgrade",
            installation.release,
            str(chart),
            "-f",
            str(chart / "values-local.yaml"),
            "--reset-then-reuse-values",  # the user's values, plus defaults of values the chart added since
            "--set",
            "operator.maxConcurrent=3",
            "--wait",
            "--timeout",
            "3m",
        ],
        check=True,
        capture_output=True,
    )
    env = installation.kubectl(
        "get",
        "deployment",
        f"{installation.release}-operator",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].env}",
    )
    assert '"name":"VIDEOMERGE_OPERATOR_MAX_CONCURRENT","value":"3"' in env
    wait(_ready, 120, "the API after the upgrade")
    assert installation.admin_token() == token_before  # the generated token survives upgrades
    assert installation.webhook_secret() == webhook_secret_before  # so does the webhook signing secret
    task_id = api.post("/api/v1/merge", json=merge_body(clip_server, [next(iter(CLIPS))])).json()["task_id"]
    assert follow(api, task_id).statuses[-1] == "completed"

    subprocess.run(
        [*helm, "uninstall", installation.release, "--wait", "--timeout", "3m"],
        check=True,
        capture_output=True,
    )
    selector = f"app.kubernetes.io/instance={installation.release}"
    for kind in ("deployments", "services", "serviceaccounts", "secrets", "roles", "rolebindings"):
        assert installation.kubectl("get", kind, "-l", selector, "-o", "name").strip() == "", kind
    # The release's own pods go; merges (VideoMerges and their Jobs) are user data that outlive the release,
    # as the CRD does.
    components = f"{selector},app.kubernetes.io/component in (operator,api,storage)"
    wait(
        lambda: installation.kubectl("get", "pods", "-l", components, "-o", "name").strip() == "",
        90,
        "pods gone",
    )
    custom = client.CustomObjectsApi(installation.kube)
    assert custom.get_namespaced_custom_object(GROUP, VERSION, installation.namespace, PLURAL, task_id)
    # Leave the installation as the layer found it.
    subprocess.run(["bash", str(ROOT / "hack" / "up.sh")], check=True, capture_output=True)
    assert _ready()
