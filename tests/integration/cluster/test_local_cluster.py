"""The local cluster is a real Kubernetes: a Ready node, real containers, the CRD enforced by the API server."""

import subprocess
import uuid

import pytest
from kubernetes import client
from support.kube import ROOT, wait_until

from videomerge_contract import API_VERSION, GROUP, KIND, PLURAL, VERSION

NODE = "127.0.0.1"


@pytest.fixture(scope="module")
def control_image() -> str:
    subprocess.run(["bash", str(ROOT / "hack" / "images.sh"), "control"], check=True, capture_output=True)
    return "videomerge/control:dev"


def test_node_is_ready(kube):
    node = client.CoreV1Api(kube).read_node(NODE)
    ready = {c.type: c.status for c in node.status.conditions}["Ready"]
    assert ready == "True"
    assert node.status.node_info.kubelet_version.startswith("v1.33.")
    assert node.status.node_info.container_runtime_version.startswith("containerd://")
    assert {a.type: a.address for a in node.status.addresses}["InternalIP"] == "127.0.0.1"


def test_job_with_a_project_image_runs_in_a_real_container(kube, namespace, control_image):
    marker = uuid.uuid4().hex
    job = client.V1Job(
        metadata=client.V1ObjectMeta(name="contract-check"),
        spec=client.V1JobSpec(
            backoff_limit=0,
            template=client.V1PodTemplateSpec(
                spec=client.V1PodSpec(
                    restart_policy="Never",
                    containers=[
                        client.V1Container(
                            name="check",
                            image=control_image,
                            image_pull_policy="Never",
                            command=[
                                "python3",
                                "-c",
                                f"import videomerge_contract as c; print(c.KIND, '{marker}')",
                            ],
                        )
                    ],
                )
            ),
        ),
    )
    batch, core = client.BatchV1Api(kube), client.CoreV1Api(kube)
    batch.create_namespaced_job(namespace, job)

    def succeeded() -> bool:
        return (batch.read_namespaced_job_status("contract-check", namespace).status.succeeded or 0) >= 1

    wait_until(succeeded, timeout=90, what="Job contract-check to succeed", api=kube, namespace=namespace)
    (pod,) = core.list_namespaced_pod(namespace, label_selector="job-name=contract-check").items
    assert pod.status.container_statuses[0].state.terminated.exit_code == 0
    assert core.read_namespaced_pod_log(pod.metadata.name, namespace).strip() == f"{KIND} {marker}"


def _merge(name: str, spec: dict) -> dict:
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name}, "spec": spec}


def test_videomerge_defaults_and_status_subresource(custom, namespace):
    created = custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, _merge("vm-a", {"videoUrls": ["https://example.com/a.mp4"]})
    )
    assert created["spec"] == {
        "videoUrls": ["https://example.com/a.mp4"],
        "quality": "high",
        "aspectRatio": "16:9",
        "fit": "pad",
    }
    patched = custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, "vm-a", {"status": {"phase": "Processing", "progress": 40}}
    )
    assert patched["status"] == {"phase": "Processing", "progress": 40}
    # Status written through the main resource is ignored: only the subresource changes it.
    custom.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "vm-a", {"status": {"phase": "Completed"}}
    )
    assert custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "vm-a")["status"][
        "phase"
    ] == ("Processing")
    with pytest.raises(client.ApiException) as bad_status:
        custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, namespace, PLURAL, "vm-a", {"status": {"phase": "Done", "progress": 140}}
        )
    assert bad_status.value.status == 422


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ({"videoUrls": []}, "spec.videoUrls"),
        ({}, "spec.videoUrls"),
        ({"videoUrls": ["ftp://example.com/a.mp4"]}, "spec.videoUrls[0]"),
        ({"videoUrls": ["https://example.com/a.mp4"], "quality": "ultra"}, "spec.quality"),
        ({"videoUrls": ["https://example.com/a.mp4"], "aspectRatio": "21:9"}, "spec.aspectRatio"),
        ({"videoUrls": ["https://example.com/a.mp4"] * 201}, "spec.videoUrls"),
    ],
)
def test_api_server_rejects_invalid_specs(custom, namespace, spec, complaint):
    with pytest.raises(client.ApiException) as err:
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, _merge("vm-bad", spec))
    assert err.value.status == 422
    assert complaint in err.value.body


def test_spec_cannot_change_after_creation(custom, namespace):
    custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, _merge("vm-b", {"videoUrls": ["https://example.com/a.mp4"]})
    )
    with pytest.raises(client.ApiException) as err:
        custom.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, "vm-b", {"spec": {"quality": "low"}}
        )
    assert err.value.status == 422
    assert "spec is immutable" in err.value.body
