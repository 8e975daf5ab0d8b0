"""A VideoMerge created with kubectl alone runs through its Job; deleting it takes the Job along."""

import subprocess

from kubernetes import client
from op_support import FakeWorker, create_merge, events_of, get_merge, jobs_of, sleeper, wait_phase
from support.kube import wait_until

from videomerge_contract.models import VideoMergeStatus

MANIFEST = """
apiVersion: videomerge.io/v1alpha1
kind: VideoMerge
metadata:
  name: from-kubectl
spec:
  videoUrls: [https://example.com/a.mp4, https://example.com/b.mp4, https://example.com/c.mp4]
"""


def test_kubectl_create_runs_a_job_and_the_status_tells_the_story(
    start_operator, custom, kube, kubeconfig, namespace
):
    operator = start_operator(worker_command=sleeper(3))
    subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, "-n", namespace, "create", "-f", "-"],
        input=MANIFEST.encode(),
        check=True,
        capture_output=True,
    )
    with FakeWorker(kube, custom, namespace) as worker:
        merge = wait_phase(custom, kube, namespace, "from-kubectl", "Completed", timeout=90)
        assert not worker.errors
    # The Job ends too (the pod exits 0), and the operator acknowledges the end once.
    wait_until(
        lambda: any(c.type == "Complete" for c in (jobs_of(kube, namespace)[0].status.conditions or [])),
        timeout=60,
        what="the Job Complete",
    )
    merge = wait_until(
        lambda: (
            (m := get_merge(custom, namespace, "from-kubectl"))
            and any(c["type"] == "Complete" for c in m["status"].get("conditions", []))
            and m
        ),
        timeout=30,
        what="Complete condition",
    )
    status = merge["status"]
    assert (status["clips"], status["jobName"], status["attempts"]) == (3, "from-kubectl", 1)
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "JobCreated": "True",
        "WorkerStarted": "True",
        "Complete": "True",
    }
    assert all(c["observedGeneration"] == 1 for c in status["conditions"])
    # Processing and Completed may share a second (the operator may see both at once): posted in that order.
    events = events_of(kube, namespace, "from-kubectl")
    assert events[0] == "JobCreated" and sorted(events[1:]) == ["Completed", "Processing"], events

    # The Job: owned by the merge, labelled, deterministic name.
    job = jobs_of(kube, namespace)[0]
    owner = job.metadata.owner_references[0]
    assert (owner.kind, owner.name, owner.controller, owner.block_owner_deletion) == (
        "VideoMerge",
        "from-kubectl",
        True,
        True,
    )
    assert job.metadata.labels["videomerge.io/merge"] == "from-kubectl"
    assert job.metadata.labels["app.kubernetes.io/managed-by"] == "videomerge-operator"

    # The status schema stays the contract's, and kopf keeps no bookkeeping in it.
    assert set(status) <= {f.alias or n for n, f in VideoMergeStatus.model_fields.items()}
    described = subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, "-n", namespace, "describe", "videomerge", "from-kubectl"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "Created Job from-kubectl" in described and "Merged 2 clips" in described
    assert operator.metric("videomerge_operator_jobs_created_total") == 1


def test_deleting_a_videomerge_removes_its_job_and_pods(start_operator, custom, kube, namespace):
    start_operator(worker_command=sleeper(300))
    create_merge(custom, namespace, "doomed")
    wait_until(
        lambda: client.CoreV1Api(kube).list_namespaced_pod(namespace).items, timeout=60, what="worker pod"
    )
    custom.delete_namespaced_custom_object("videomerge.io", "v1alpha1", namespace, "videomerges", "doomed")
    wait_until(
        lambda: not jobs_of(kube, namespace),
        timeout=90,
        what="Job garbage-collected",
        api=kube,
        namespace=namespace,
    )
    wait_until(
        lambda: not client.CoreV1Api(kube).list_namespaced_pod(namespace).items,
        timeout=120,
        what="pod gone",
        api=kube,
        namespace=namespace,
    )
