"""A merge in a second watched namespace runs there: the operator prepares what its worker needs first.
A merge the operator cannot run says why within seconds (a condition and an Event), never silence."""

import base64
from collections.abc import Iterator

import pytest
from kubernetes import client
from op_support import FakeWorker, create_merge, events_of, get_merge, sleeper, wait_phase
from support.kube import wait_until


@pytest.fixture
def other_namespace(kube: client.ApiClient, namespace: str) -> Iterator[str]:
    name = f"{namespace}-b"
    core = client.CoreV1Api(kube)
    core.create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels={"videomerge.io/test": "true"}))
    )
    wait_until(
        lambda: any(sa.metadata.name == "default" for sa in core.list_namespaced_service_account(name).items),
        timeout=30,
        what=f"default service account in {name}",
    )
    yield name
    core.delete_namespace(name, propagation_policy="Background")


def condition(merge: dict | None, type_: str) -> dict | None:
    return next(
        (c for c in ((merge or {}).get("status") or {}).get("conditions", []) if c["type"] == type_), None
    )


def test_a_merge_in_another_namespace_gets_its_worker_account_and_credentials_there(
    start_operator, custom, kube, namespace, other_namespace
):
    start_operator(
        namespaces=f"{namespace},{other_namespace}",
        own_namespace=namespace,
        prepare_namespaces="true",
        worker_service_account="vm-worker",
        s3_secret_name="vm-s3",
        s3_access_key_id="AKIA-TEST",
        s3_secret_access_key="not-a-secret",
        # Long enough that the fake worker finds the pod running however loaded the machine is.
        worker_command=sleeper(60),
    )
    # The fake worker watches from the start: it completes the merge once it sees the pod running.
    with FakeWorker(kube, custom, other_namespace) as worker:
        core = client.CoreV1Api(kube)
        create_merge(custom, other_namespace, "elsewhere")
        # The worker pod runs as vm-worker with the credentials from vm-s3 by reference: it could not even be
        # created (ServiceAccount) or start (Secret) unless both exist in this namespace.
        pod = wait_until(
            lambda: next(
                (
                    p
                    for p in core.list_namespaced_pod(other_namespace).items
                    if p.status.phase in ("Running", "Succeeded")
                ),
                None,
            ),
            timeout=90,
            what="the worker pod running in the other namespace",
            api=kube,
            namespace=other_namespace,
        )
        assert pod.spec.service_account_name == "vm-worker"
        assert pod.metadata.name.startswith("elsewhere-"), "pods are named after the merge"
        secret = core.read_namespaced_secret("vm-s3", other_namespace)
        assert base64.b64decode(secret.data["accessKey"]).decode() == "AKIA-TEST"
        rbac = client.RbacAuthorizationV1Api(kube)
        role = rbac.read_namespaced_role("vm-worker", other_namespace)
        assert {(tuple(r.resources), tuple(r.verbs)) for r in role.rules} == {
            (("videomerges",), ("get",)),
            (("videomerges/status",), ("get", "patch")),
        }
        assert rbac.read_namespaced_role_binding("vm-worker", other_namespace).subjects[0].name == "vm-worker"
        # The operator's own namespace is the chart's to prepare: nothing applied there.
        assert not [
            s for s in core.list_namespaced_service_account(namespace).items if s.metadata.name == "vm-worker"
        ]
        wait_phase(custom, kube, other_namespace, "elsewhere", "Completed", timeout=90)
        assert not worker.errors


def refused_by_quota(
    start_operator,
    custom,
    kube,
    namespace: str,
    hard: dict[str, str],
    name: str,
    condition_type: str,
    timeout: float,
) -> tuple[dict, dict]:
    """Under a ResourceQuota of ``hard``, the new merge ``name`` gets ``condition_type`` False with reason
    QuotaExceeded within ``timeout`` seconds, and an Event saying so; returns the merge and that condition."""
    core = client.CoreV1Api(kube)
    core.create_namespaced_resource_quota(
        namespace,
        client.V1ResourceQuota(
            metadata=client.V1ObjectMeta(name=f"{name}-quota"), spec=client.V1ResourceQuotaSpec(hard=hard)
        ),
    )
    wait_until(
        lambda: core.read_namespaced_resource_quota(f"{name}-quota", namespace).status.hard,
        timeout=30,
        what="the quota observed",
    )
    start_operator(worker_command=sleeper(1))
    create_merge(custom, namespace, name)
    merge = wait_until(
        lambda: (m := get_merge(custom, namespace, name)) and condition(m, condition_type) and m,
        timeout=timeout,
        what=f"a {condition_type} condition",
        api=kube,
        namespace=namespace,
    )
    found = condition(merge, condition_type)
    assert (found["status"], found["reason"]) == ("False", "QuotaExceeded"), found
    wait_until(lambda: "QuotaExceeded" in events_of(kube, namespace, name), timeout=10, what="the Event")
    return merge, found


def test_a_job_refused_by_a_quota_is_reported_within_seconds(start_operator, custom, kube, namespace):
    merge, created = refused_by_quota(
        start_operator, custom, kube, namespace, {"count/jobs.batch": "0"}, "over-quota", "JobCreated", 20
    )
    assert "exceeded quota" in created["message"]
    assert merge["status"]["phase"] == "Pending"


def test_a_job_whose_pods_are_refused_says_why(start_operator, custom, kube, namespace):
    merge, _ = refused_by_quota(
        start_operator, custom, kube, namespace, {"pods": "0"}, "no-room", "WorkerStarted", 30
    )
    assert merge["status"]["jobName"] == "no-room"
