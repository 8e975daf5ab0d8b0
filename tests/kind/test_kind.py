"""The users' path on kind: the chart with its default values, pod networking, Services, CoreDNS and
kube-proxy in the way; merges spread over two worker nodes. Ordered: the disruptive tests come last."""

import json

import httpx
import pytest
from support.kind import PLANS, ClipServer, Kind, api_token, download, run, seconds
from support.kube import ROOT
from support.media import probe, streams
from support.merges import follow, wait

from videomerge_contract.resource import LABEL_MERGE

WORKER_SELECTOR = "app.kubernetes.io/managed-by=videomerge-operator,app.kubernetes.io/component=worker"


def _release_pods(kind: Kind) -> list[dict]:
    """The chart's own pods (the worker pods of finished merges belong to their VideoMerges, not to Helm)."""
    return kind.pods(f"app.kubernetes.io/instance={kind.release},app.kubernetes.io/managed-by=Helm")


def _submit(api, clip_server: ClipServer, names: list[str], **extra: object) -> str:
    response = api.post("/api/v1/merge", json={"video_urls": [clip_server.url(n) for n in names], **extra})
    assert response.status_code == 202, response.text
    task_id: str = response.json()["task_id"]
    return task_id


def test_the_release_runs_on_pod_networking_over_three_nodes(kind: Kind):
    nodes = kind.kubectl_json("get", "nodes")["items"]
    roles = sorted(
        "control-plane" if "node-role.kubernetes.io/control-plane" in n["metadata"]["labels"] else "worker"
        for n in nodes
    )
    assert roles == ["control-plane", "worker", "worker"]
    pods = _release_pods(kind)
    assert {p["metadata"]["labels"]["app.kubernetes.io/component"] for p in pods} >= {
        "api",
        "operator",
        "storage",
    }
    for pod in pods:
        assert not pod["spec"].get("hostNetwork"), pod["metadata"]["name"]
        assert pod["status"]["podIP"].startswith("10.244."), pod["status"]
    services = kind.kubectl_json("get", "services")["items"]
    assert {s["spec"]["type"] for s in services} == {"ClusterIP"}


def test_helm_test_hook_passes(kind: Kind):
    out = kind.helm("test", kind.release, "--timeout", "3m")
    assert "Phase:          Succeeded" in out


@pytest.mark.timeout(900)
def test_copy_partial_and_reencode_merges_spread_over_both_workers(kind: Kind, api, clip_server, tmp_path):
    # Submitted together so their Jobs run at once: the scheduler puts them on both workers.
    submitted = {plan: _submit(api, clip_server, names) for plan, names in PLANS.items()}
    for plan, task_id in submitted.items():
        seen = follow(api, task_id, timeout=420)
        assert seen.statuses[-1] == "completed", (plan, seen)
        result = api.get(f"/api/v1/merge/{task_id}/result").json()
        assert result["strategy"] == plan, result
        assert result["clips_merged"] == len(PLANS[plan])
        assert result["merged_url"].startswith("http://127.0.0.1:9000/"), result
        merged = download(result["merged_url"], tmp_path / f"{plan}.mp4")
        (video,) = streams(merged, "video")
        (audio,) = streams(merged, "audio")
        assert video["codec_name"] == "h264" and audio["codec_name"] == "aac"
        assert abs(float(probe(merged)["format"]["duration"]) - seconds(PLANS[plan])) < 0.35, plan
        if plan != "reencode":
            assert (video["width"], video["height"]) == (1280, 720)
    rows = kind.kubectl("get", "videomerges", "--no-headers")
    for task_id in submitted.values():
        (row,) = [r for r in rows.splitlines() if r.startswith(task_id + " ")]
        assert "Completed" in row
    worker_nodes = {p["spec"]["nodeName"] for p in kind.pods(WORKER_SELECTOR)}
    assert worker_nodes >= {f"{kind.release}-worker", f"{kind.release}-worker2"}, worker_nodes


def test_a_videomerge_made_with_kubectl_in_the_default_namespace_completes(kind: Kind, clip_server, tmp_path):
    # The chart's defaults serve every namespace; the operator prepares `default` for the worker.
    manifest = tmp_path / "merge.json"
    urls = [clip_server.url(name) for name in PLANS["copy"]]
    body = {
        "apiVersion": "videomerge.io/v1alpha1",
        "kind": "VideoMerge",
        "metadata": {"name": "kubectl-made"},
    }
    manifest.write_text(json.dumps({**body, "spec": {"videoUrls": urls}}))
    kind.kubectl("delete", "videomerge", "kubectl-made", "--ignore-not-found", namespace="default")
    kind.kubectl("apply", "-f", str(manifest), namespace="default")

    def phase() -> str:
        status = (
            kind.kubectl_json("get", "videomerge", "kubectl-made", namespace="default").get("status") or {}
        )
        return str(status.get("phase", ""))

    assert (
        wait(lambda: phase() in ("Completed", "Failed") and phase(), 300, "the VideoMerge to end")
        == "Completed"
    )
    kind.kubectl("delete", "videomerge", "kubectl-made", namespace="default")


def test_a_missing_clip_fails_the_merge_and_is_named(kind: Kind, api, clip_server):
    missing = clip_server.url("no-such-clip.mp4")
    task_id = api.post("/api/v1/merge", json={"video_urls": [clip_server.url("hd-a.mp4"), missing]}).json()[
        "task_id"
    ]
    assert follow(api, task_id, timeout=300).statuses[-1] == "failed"
    result = api.get(f"/api/v1/merge/{task_id}/result").json()
    assert result["reason"] == "DownloadFailed", result
    assert "clip 2" in result["error"] and missing in result["error"]


def test_cancel_stops_the_job_and_pod_and_keeps_a_cancelled_record(kind: Kind, api, clip_server):
    # The second clip trickles out at 4 KiB a second: the merge is mid-flight for minutes.
    body = {"video_urls": [clip_server.url("hd-a.mp4"), clip_server.url("portrait.mov", drip=1)]}
    task_id = api.post("/api/v1/merge", json=body).json()["task_id"]
    selector = f"{LABEL_MERGE}={task_id}"
    wait(
        lambda: kind.kubectl("get", "jobs", "-l", selector, "-o", "name").strip(),
        120,
        f"the Job of {task_id}",
    )
    cancelled = api.delete(f"/api/v1/merge/{task_id}")
    assert cancelled.status_code == 202 and cancelled.json()["removed"] is False, cancelled.text
    wait(lambda: not kind.kubectl("get", "jobs", "-l", selector, "-o", "name").strip(), 120, "the Job to go")
    wait(lambda: not kind.pods(selector), 120, "the worker pod to go")
    result = wait(
        lambda: (r := api.get(f"/api/v1/merge/{task_id}/result")).status_code == 200 and r.json(),
        60,
        "the cancelled result",
    )
    assert (result["status"], result["reason"]) == ("failed", "Cancelled"), result
    assert api.delete(f"/api/v1/merge/{task_id}").json()["removed"] is True
    wait(lambda: api.get(f"/api/v1/merge/{task_id}/status").status_code == 404, 60, "the record removed")


def _leader(kind: Kind) -> str:
    lease = kind.kubectl_json("get", "lease", f"{kind.release}-operator")
    holder: str = lease["spec"].get("holderIdentity") or ""
    return holder


@pytest.mark.disruptive
def test_the_operator_leader_moves_when_its_pod_is_deleted(kind: Kind, api, clip_server):
    operators = {p["metadata"]["name"] for p in kind.pods("app.kubernetes.io/component=operator")}
    leader = wait(lambda: _leader(kind) in operators and _leader(kind), 120, "an operator to lead")
    kind.kubectl("delete", "pod", leader, "--wait=false")
    new = wait(lambda: (h := _leader(kind)) and h != leader and h, 180, "the Lease to move", interval=1)
    # The standby and the deleted pod's replacement both poll: either may win the released Lease.
    live = {
        p["metadata"]["name"]
        for p in kind.pods("app.kubernetes.io/component=operator")
        if not p["metadata"].get("deletionTimestamp")
    }
    assert new in live, (new, live)
    task_id = _submit(api, clip_server, PLANS["copy"])
    assert follow(api, task_id, timeout=300).statuses[-1] == "completed"


@pytest.mark.disruptive
def test_helm_upgrade_changes_the_operator_and_merges_go_on(kind: Kind, api, clip_server):
    before = json.loads(kind.helm("history", kind.release, "-o", "json"))[-1]["revision"]
    kind.helm(
        "upgrade",
        kind.release,
        str(ROOT / "charts" / "videomerge"),
        "--reuse-values",
        "--set",
        "operator.maxConcurrent=3",
        "--wait",
        "--timeout",
        "5m",
    )
    after = json.loads(kind.helm("history", kind.release, "-o", "json"))[-1]
    assert after["revision"] == before + 1 and after["status"] == "deployed"
    env = kind.kubectl_json("get", "deployment", f"{kind.release}-operator")["spec"]["template"]["spec"][
        "containers"
    ][0]["env"]
    assert {"name": "VIDEOMERGE_OPERATOR_MAX_CONCURRENT", "value": "3"} in env
    task_id = _submit(api, clip_server, PLANS["copy"])
    assert follow(api, task_id, timeout=300).statuses[-1] == "completed"


@pytest.mark.disruptive
def test_helm_uninstall_removes_the_release_and_install_brings_it_back(kind: Kind, clip_server):
    kind.helm("uninstall", kind.release, "--wait", "--timeout", "5m")
    wait(lambda: not _release_pods(kind), 180, "the release's pods to go")
    assert run("helm", "status", kind.release, "-n", kind.namespace, check=False).returncode != 0
    # The CRD stays (Helm never deletes CRDs); the next install is the users' `helm install --wait`.
    kind.kubectl("get", "crd", "videomerges.videomerge.io")
    kind.install()
    wait(kind.api_ready, 180, "the API through its port-forward again", interval=1)
    kind.token = api_token(kind)  # a new install generates a new admin token
    headers = {"Authorization": f"Bearer {kind.token}"} if kind.token else {}
    with httpx.Client(base_url=kind.api_url, timeout=30, headers=headers) as fresh:
        task_id = _submit(fresh, clip_server, PLANS["copy"])
        assert follow(fresh, task_id, timeout=300).statuses[-1] == "completed"
