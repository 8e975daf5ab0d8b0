"""``videomerge --kube`` against the local cluster's real API server: it creates and watches the
VideoMerge itself. The test plays operator and worker through the status subresource."""

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client
from support.kube import wait_until
from support.terminal import CLI, Terminal

from videomerge_contract import GROUP, PLURAL, VERSION

pytestmark = pytest.mark.integration
URLS = ["https://clips.example.com/a.mp4", "https://clips.example.com/b.mp4"]


@pytest.fixture
def kube_args(kubeconfig: str, namespace: str) -> list[str]:
    return ["--kube", "--kubeconfig", kubeconfig, "-n", namespace]


@pytest.fixture
def term(tmp_path: Path) -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for t in opened:
        t.close()


def patch_status(custom: client.CustomObjectsApi, namespace: str, name: str, status: dict) -> None:
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, PLURAL, name, {"status": status})


def only_merge(custom: client.CustomObjectsApi, namespace: str) -> dict:
    found: list[dict] = []

    def one() -> bool:
        found[:] = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"]
        return len(found) == 1

    wait_until(one, timeout=30, what="the CLI's VideoMerge")
    return found[0]


def test_kube_merge_creates_the_resource_and_reads_it_back(kube_args, custom, namespace):
    started = subprocess.run(
        [*CLI, *kube_args, "--output", "json", "merge", *URLS, "--quality", "low"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 0, started.stderr
    task_id = json.loads(started.stdout)["task_id"]
    obj = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, task_id)
    assert obj["spec"]["videoUrls"] == URLS and obj["spec"]["quality"] == "low"
    assert obj["metadata"]["labels"]["app.kubernetes.io/name"] == "videomerge"

    listed = subprocess.run(
        [*CLI, *kube_args, "list", "--output", "json"], capture_output=True, text=True, timeout=60
    )
    assert [m["task_id"] for m in json.loads(listed.stdout)] == [task_id]

    def cancel() -> str:
        answer = subprocess.run(
            [*CLI, *kube_args, "cancel", task_id], capture_output=True, text=True, timeout=60
        )
        assert answer.returncode == 0, answer.stderr
        return answer.stdout

    assert "Merge is being cancelled" in cancel()
    obj = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, task_id)
    assert obj["spec"]["cancel"] is True and obj["metadata"]["generation"] == 2
    assert "already being cancelled" in cancel()
    # What the operator then writes (none runs here); a cancel of the finished merge removes it.
    cancelled_status = {
        "phase": "Failed",
        "error": {"reason": "Cancelled", "message": "cancelled by request"},
    }
    patch_status(custom, namespace, task_id, cancelled_status)
    assert "Merge removed: it had already failed" in cancel()
    missing = subprocess.run(
        [*CLI, *kube_args, "status", task_id], capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2 and f"no merge named {task_id}" in missing.stderr


def test_kube_merge_wait_follows_the_resource_in_a_terminal(kube_args, custom, namespace, term, tmp_path):
    env = {"PATH": os.environ["PATH"], "TERM": "xterm-256color", "HOME": str(tmp_path)}
    t = Terminal([*CLI, *kube_args, "merge", *URLS, "--wait"], env, tmp_path)
    term.append(t)
    name = only_merge(custom, namespace)["metadata"]["name"]
    t.wait_for(f"Merge {name} started (2 clips)")
    patch_status(
        custom,
        namespace,
        name,
        {"phase": "Processing", "stage": "merging", "progress": 55, "message": "merging 2 clips"},
    )
    t.wait_for("merging 2 clips", timeout=60)
    assert "55%" in t.screen()
    patch_status(
        custom,
        namespace,
        name,
        {
            "phase": "Completed",
            "stage": "done",
            "progress": 100,
            "message": "Merged 2 clips (6 s)",
            "completionTime": "2026-01-01T00:00:09Z",
            "result": {
                "mergedUrl": "https://s3.example.com/m.mp4",
                "durationSeconds": 6.0,
                "processingTime": 2.0,
                "clipsMerged": 2,
            },
        },
    )
    assert t.exit_code(timeout=60) == 0
    screen = t.screen()
    assert f"{name} completed: 2 clips, 6 s" in screen and "https://s3.example.com/m.mp4" in screen


def test_kube_unreachable_cluster_exits_3(tmp_path):
    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
        "current-context: x\n"
    )
    answer = subprocess.run(
        [*CLI, "--kube", "--kubeconfig", str(config), "list"], capture_output=True, text=True, timeout=120
    )
    assert answer.returncode == 3, answer
    assert "cannot reach the cluster's API server" in answer.stderr and "Traceback" not in answer.stderr
